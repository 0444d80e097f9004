import CairnAPI
import CairnAssistant
import CairnCore
import CairnStore
import Foundation
import OpenAPIRuntime

extension APIHandlers {
    func createAnswer(_ input: Operations.CreateAnswer.Input) async throws -> Operations.CreateAnswer.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let mode: AnswerMode =
            switch body.mode ?? .auto {
            case .auto: .auto
            case .extractive: .extractive
            case .generative: .generative
            }
        let question = Assistant.Question(body.question, collection: body.collection, mode: mode)
        let principal = try RequestCaller.principal()
        guard body.stream == true else {
            return .ok(.init(body: .json(try .init(try await documents.assistant.answer(question, for: principal)))))
        }
        let events = try await documents.assistant.stream(question, for: principal)
        return .ok(.init(body: .textEventStream(HTTPBody(AnswerEventStream(events: events), length: .unknown, iterationBehavior: .single))))
    }

    func getAnswerTrace(_ input: Operations.GetAnswerTrace.Input) async throws -> Operations.GetAnswerTrace.Output {
        guard let id = AnswerID(input.path.answerId) else {
            throw CairnError(.notFound, "There is no answer with id '\(input.path.answerId.prefix(80))'.")
        }
        let trace = try await store.answerTraces.get(id, for: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(trace))))
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
