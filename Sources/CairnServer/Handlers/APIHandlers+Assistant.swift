import CairnAPI
import CairnAssistant
import CairnCore
import CairnStore
import Foundation
import OpenAPIRuntime

extension APIHandlers {
    func createAnswer(_ input: Operations.CreateAnswer.Input) async throws -> Operations.CreateAnswer.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let session = try body.sessionId.map { text throws(CairnError) -> AnswerSessionID in try Self.sessionID(text) }
        let question = Assistant.Question(body.question, collection: body.collection, mode: Self.mode(body.mode?.rawValue), session: session)
        return switch try await respond(to: question, streaming: body.stream == true) {
        case .json(let answer): .ok(.init(body: .json(answer)))
        case .events(let events): .ok(.init(body: .textEventStream(events)))
        }
    }

    func createSession(_ input: Operations.CreateSession.Input) async throws -> Operations.CreateSession.Output {
        .created(.init(body: .json(.init(try await documents.assistant.openSession(for: try RequestCaller.principal())))))
    }

    func getSession(_ input: Operations.GetSession.Input) async throws -> Operations.GetSession.Output {
        .ok(
            .init(
                body: .json(
                    .init(try await documents.assistant.session(try Self.sessionID(input.path.sessionId), for: try RequestCaller.principal()))
                )
            )
        )
    }

    func postSessionMessage(_ input: Operations.PostSessionMessage.Input) async throws -> Operations.PostSessionMessage.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let question = Assistant.Question(
            body.question,
            collection: body.collection,
            mode: Self.mode(body.mode?.rawValue),
            session: try Self.sessionID(input.path.sessionId)
        )
        return switch try await respond(to: question, streaming: body.stream == true) {
        case .json(let answer): .ok(.init(body: .json(answer)))
        case .events(let events): .ok(.init(body: .textEventStream(events)))
        }
    }

    func getAnswerTrace(_ input: Operations.GetAnswerTrace.Input) async throws -> Operations.GetAnswerTrace.Output {
        guard let id = AnswerID(input.path.answerId) else {
            throw CairnError(.notFound, "There is no answer with id '\(input.path.answerId.prefix(80))'.")
        }
        let trace = try await store.answerTraces.get(id, for: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(trace))))
    }

    /// An answer as JSON, or as its event stream.
    private enum AnswerResponse {
        case json(Components.Schemas.Answer)
        case events(HTTPBody)
    }

    private func respond(to question: Assistant.Question, streaming: Bool) async throws -> AnswerResponse {
        let principal = try RequestCaller.principal()
        guard streaming else { return .json(try .init(try await documents.assistant.answer(question, for: principal))) }
        let events = try await documents.assistant.stream(question, for: principal)
        return .events(HTTPBody(AnswerEventStream(events: events), length: .unknown, iterationBehavior: .single))
    }

    /// The request's mode; the spec's enum admits nothing else.
    private static func mode(_ raw: String?) -> AnswerMode {
        raw.flatMap(AnswerMode.init(rawValue:)) ?? .auto
    }

    private static func sessionID(_ text: String) throws(CairnError) -> AnswerSessionID {
        guard let id = AnswerSessionID(text) else { throw CairnError(.notFound, "There is no session with id '\(text.prefix(80))'.") }
        return id
    }
}

/// The server-sent events of a streamed answer: `token` (`{"text": …}`), `citation` (a
/// Citation), `answer` (the Answer, with its verdicts), or `error` (a problem) when the model's
/// stream broke after it had started.
///
/// Pulled by the response writer, one event per chunk. When the client goes away the writer
/// drops it, and with it the assistant's stream, which cancels the model call behind it.
struct AnswerEventStream: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>

    let events: AsyncStream<AnswerEvent>

    struct AsyncIterator: AsyncIteratorProtocol {
        var events: AsyncStream<AnswerEvent>.AsyncIterator
        let encoder: JSONEncoder = {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return encoder
        }()

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard let event = await events.next() else { return nil }
            let (name, data): (String, Data) =
                switch event {
                case .token(let text): ("token", try encoder.encode(Token(text: text)))
                case .citation(let citation): ("citation", try encoder.encode(Components.Schemas.Citation(citation)))
                case .answer(let answer): ("answer", try encoder.encode(try Components.Schemas.Answer(answer)))
                case .failure(let error): ("error", try encoder.encode(Problem(error).body(instance: nil)))
                }
            return ArraySlice(Array("event: \(name)\ndata: ".utf8) + Array(data) + Array("\n\n".utf8))
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(events: events.makeAsyncIterator())
    }

    private struct Token: Encodable {
        let text: String
    }
}
