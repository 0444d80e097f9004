public import CairnCore
public import CairnSearch

/// Answers a principal's questions from the approved documents it may see, citing the page
/// each sentence comes from, or says plainly that they do not cover the question.
///
/// Retrieval runs as the principal, so the document access policy is applied before any
/// passage reaches the answer: nothing the principal may not see can be quoted, cited or
/// named, refusals included.
public struct Assistant: Sendable {
    private let search: SearchService
    private let extractive: ExtractiveAnswerer
    private let generative: GenerativeAnswerer?

    /// Sentences are scored with the search's embedding model, or by term overlap alone when it
    /// runs without one.
    ///
    /// - Parameter route: the model that writes generative answers; `nil` answers extractively.
    public init(search: SearchService, route: AnswerRoute?) {
        self.search = search
        extractive = ExtractiveAnswerer(embedder: search.embedder)
        generative = route.map { GenerativeAnswerer(route: $0, verifier: ClaimVerifier(embedder: search.embedder)) }
    }

    public struct Question: Sendable {
        public var text: String
        public var collection: String?
        public var mode: AnswerMode

        public init(_ text: String, collection: String? = nil, mode: AnswerMode = .auto) {
            self.text = text
            self.collection = collection
            self.mode = mode
        }
    }

    /// Passages retrieved for a question.
    static let retrievedPassages = 8

    public func answer(_ question: Question, for principal: Principal) async throws -> Answer {
        let (writer, hits) = try await prepare(question, for: principal)
        guard let writer else { return try await extractive.answer(question.text, from: hits) }
        return try await writer.answer(question.text, from: hits, for: principal)
    }

    /// The answer as events (``AnswerEvent``); a generative answer's tokens arrive as the model
    /// writes them. What fails before the first event is thrown.
    public func stream(_ question: Question, for principal: Principal) async throws -> AsyncStream<AnswerEvent> {
        let (writer, hits) = try await prepare(question, for: principal)
        guard let writer else { return try await extractive.answer(question.text, from: hits).stream }
        return try await writer.stream(question.text, from: hits, for: principal)
    }

    /// Checks the question, picks who writes the answer, and retrieves as the principal.
    private func prepare(_ question: Question, for principal: Principal) async throws -> (GenerativeAnswerer?, [SearchService.Hit]) {
        try TextRules.validate(question.text, field: "A question", maximumLength: 2000)
        let writer: GenerativeAnswerer?
        switch question.mode {
        case .extractive: writer = nil
        case .auto: writer = generative
        case .generative:
            guard let generative else {
                throw CairnError(.invalidInput, "Generative answers need a model route for answers (CAIRN_ASSISTANT_MODEL); ask with mode 'auto' or 'extractive'.")
            }
            writer = generative
        }
        let hits = try await search.search(
            SearchService.Request(query: question.text, k: Self.retrievedPassages, collection: question.collection, mode: .hybrid), by: principal
        ).hits
        return (writer, hits)
    }
}
