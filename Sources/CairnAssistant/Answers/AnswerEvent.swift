public import CairnCore

/// What a streamed answer sends, in this order: `token`s whose texts joined are the answer as
/// it is written, then each `citation`, then one `answer`; or, when the model's stream breaks
/// after it has started, a `failure` ends it instead.
public enum AnswerEvent: Sendable {
    case token(String)
    case citation(Citation)
    case answer(Answer)
    case failure(CairnError)
}

extension Answer {
    /// The events of an answer known whole before the first is sent.
    var events: [AnswerEvent] {
        tokens.map(AnswerEvent.token) + citations.map(AnswerEvent.citation) + [.answer(self)]
    }

    /// ``events`` as a stream.
    var stream: AsyncStream<AnswerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: AnswerEvent.self)
        for event in events { continuation.yield(event) }
        continuation.finish()
        return stream
    }
}

extension AnswerEvent {
    var isToken: Bool {
        if case .token = self { true } else { false }
    }
}
