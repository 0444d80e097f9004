public import CairnCore
public import CairnSearch
public import CairnStore

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
    private let traces: AnswerTraces
    private let detector = PIIDetector()
    private let screen = InjectionScreen()

    /// Sentences are scored with the search's embedding model, or by term overlap alone when it
    /// runs without one.
    ///
    /// - Parameters:
    ///   - route: the model that writes generative answers; `nil` answers extractively.
    ///   - traces: where every answer's trace is recorded, with its audit event.
    public init(search: SearchService, route: AnswerRoute?, traces: AnswerTraces) {
        self.search = search
        self.traces = traces
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

    /// The answer, recorded with its trace (``Answer/id``).
    public func answer(_ question: Question, for principal: Principal) async throws -> Answer {
        let (writer, hits) = try await prepare(question, for: principal)
        guard let writer else {
            let answer = try await extractive.answer(question.text, from: hits)
            return try await record(answer, call: nil, hits: hits, used: ExtractiveAnswerer.passages, question: question, principal: principal)
        }
        let (answer, call) = try await writer.answer(question.text, from: hits, for: principal)
        return try await record(answer, call: call, hits: hits, used: GenerativeAnswerer.sources, question: question, principal: principal)
    }

    /// The answer as events (``AnswerEvent``); a generative answer's tokens arrive as the model
    /// writes them. What fails before the first event is thrown. The answer is recorded before
    /// its `answer` event is sent, which carries its id.
    public func stream(_ question: Question, for principal: Principal) async throws -> AsyncStream<AnswerEvent> {
        let (writer, hits) = try await prepare(question, for: principal)
        guard let writer else {
            let answer = try await extractive.answer(question.text, from: hits)
            return try await record(answer, call: nil, hits: hits, used: ExtractiveAnswerer.passages, question: question, principal: principal).stream
        }
        let assistant = self
        return try await writer.stream(question.text, from: hits, for: principal) { answer, call in
            try await assistant.record(answer, call: call, hits: hits, used: GenerativeAnswerer.sources, question: question, principal: principal)
        }
    }

    /// Records how `answer` came about (AnswerTrace), with personal data redacted from the
    /// question and the model's claims and the injection screen's flags on the question and
    /// the passages, and returns it with its id.
    private func record(
        _ answer: Answer, call: AnswerTrace.ModelCall?, hits: [SearchService.Hit], used: Int, question: Question, principal: Principal
    ) async throws -> Answer {
        var guardrails: [AnswerTrace.GuardrailDecision] = []
        func screened(_ text: String, subject: String) {
            let verdict = screen.screen(text)
            guard verdict.flagged else { return }
            guardrails.append(
                AnswerTrace.GuardrailDecision(check: "injection", subject: subject, decision: "flagged", detail: verdict.signals.joined(separator: ", "))
            )
        }
        screened(question.text, subject: "question")
        for hit in hits { screened(hit.text, subject: "passage \(hit.chunkID)") }
        func redacted(_ text: String, subject: String) -> String {
            let kinds = Set(detector.findings(in: text).map(\.kind.rawValue)).sorted()
            guard !kinds.isEmpty else { return text }
            guardrails.append(AnswerTrace.GuardrailDecision(check: "pii", subject: subject, decision: "redacted", detail: kinds.joined(separator: ", ")))
            return detector.redacted(text)
        }
        let trace = AnswerTrace(
            tenantID: principal.tenantID,
            question: redacted(question.text, subject: "question"),
            mode: question.mode.rawValue,
            kind: answer.kind.rawValue,
            access: AnswerTrace.Access(principal),
            passages: hits.enumerated().map { rank, hit in
                AnswerTrace.Passage(chunkID: hit.chunkID, documentID: hit.documentID, versionID: hit.versionID, score: hit.score, used: rank < used)
            },
            model: call,
            verdicts: answer.verdicts.enumerated().map { index, verdict in
                AnswerTrace.Verdict(
                    claim: redacted(verdict.claim, subject: "claim \(index + 1)"), sources: verdict.sources, support: verdict.support,
                    outcome: verdict.outcome.rawValue
                )
            },
            guardrails: guardrails
        )
        try await traces.record(trace)
        var recorded = answer
        recorded.id = trace.id
        return recorded
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
