import CairnAPI
import CairnAssistant
import CairnCore
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
        let answer = try await documents.assistant.answer(
            Assistant.Question(body.question, collection: body.collection, mode: mode), for: try RequestCaller.principal()
        )
        guard body.stream == true else { return .ok(.init(body: .json(.init(answer)))) }
        return .ok(.init(body: .textEventStream(HTTPBody(try AnswerEvents.encode(answer)))))
    }
}

/// The server-sent events of a streamed answer, in the order the API promises: `token` events
/// whose texts joined are the answer's text, one `citation` event per citation, then one
/// `answer` event with the whole answer.
enum AnswerEvents {
    static func encode(_ answer: Answer) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var events: [UInt8] = []
        func append(_ name: String, _ value: some Encodable) throws {
            events += Array("event: \(name)\ndata: ".utf8)
            events += try encoder.encode(value)
            events += Array("\n\n".utf8)
        }
        for token in tokens(of: answer) { try append("token", Token(text: token)) }
        for citation in answer.citations { try append("citation", Components.Schemas.Citation(citation)) }
        try append("answer", Components.Schemas.Answer(answer))
        return events
    }

    /// The answer's text in pieces: a sentence with its markers each, so a client can show it
    /// as it arrives and still end with exactly ``Answer/text``.
    static func tokens(of answer: Answer) -> [String] {
        guard answer.kind != .refusal else { return [answer.text] }
        return answer.sentences.enumerated().map { index, sentence in
            (index == 0 ? "" : " ") + sentence.text + sentence.citations.map { " [\($0 + 1)]" }.joined()
        }
    }

    private struct Token: Encodable {
        let text: String
    }
}
