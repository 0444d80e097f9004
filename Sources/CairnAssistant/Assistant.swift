public import CairnCore
public import CairnSearch
import CairnStore

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
    private let sessions: AnswerSessions
    private let detector = PIIDetector()
    private let screen = InjectionScreen()
    private let rewriter = FollowUpRewriter()

    /// Sentences are scored with the search's embedding model, or by term overlap alone when it
    /// runs without one.
    ///
    /// - Parameters:
    ///   - route: the model that writes generative answers; `nil` answers extractively.
    ///   - judge: the model asked about each claim the check finds supported; `nil` asks none.
    ///   - traces: where every answer's trace is recorded, with its audit event.
    ///   - sessions: where questions asked in a session are kept, with their answers.
    public init(search: SearchService, route: AnswerRoute?, judge: AnswerRoute? = nil, traces: AnswerTraces, sessions: AnswerSessions) {
        self.search = search
        self.traces = traces
        self.sessions = sessions
        extractive = ExtractiveAnswerer(embedder: search.embedder)
        let verifier = ClaimVerifier(embedder: search.embedder, judge: judge.map(ClaimJudge.init))
        generative = route.map { GenerativeAnswerer(route: $0, verifier: verifier) }
    }

    public struct Question: Sendable {
        public var text: String
        public var collection: String?
        public var mode: AnswerMode
        /// The session the question continues: a follow-up is read with the question before it,
        /// and the turn is kept in the session.
        public var session: AnswerSessionID?

        public init(_ text: String, collection: String? = nil, mode: AnswerMode = .auto, session: AnswerSessionID? = nil) {
            self.text = text
            self.collection = collection
            self.mode = mode
            self.session = session
        }
    }

    /// A question ready to answer: who writes, what retrieval found, and the question as read.
    private struct Prepared: Sendable {
        let writer: GenerativeAnswerer?
        let hits: [SearchService.Hit]
        /// The question as retrieval and the answerer read it: a follow-up made to stand alone.
        let standalone: String
    }

    /// Passages retrieved for a question.
    static let retrievedPassages = 8

    /// The answer, recorded with its trace (``Answer/id``).
    public func answer(_ question: Question, for principal: Principal) async throws -> Answer {
        let prepared = try await prepare(question, for: principal)
        guard let writer = prepared.writer else {
            let answer = try await extractive.answer(prepared.standalone, from: prepared.hits)
            return try await record(
                answer,
                call: nil,
                prepared: prepared,
                used: ExtractiveAnswerer.passages,
                question: question,
                principal: principal
            )
        }
        let (answer, call) = try await writer.answer(prepared.standalone, from: prepared.hits, for: principal)
        return try await record(answer, call: call, prepared: prepared, used: GenerativeAnswerer.sources, question: question, principal: principal)
    }

    /// The answer as events (``AnswerEvent``); a generative answer's tokens arrive as the model
    /// writes them. What fails before the first event is thrown. The answer is recorded before
    /// its `answer` event is sent, which carries its id.
    public func stream(_ question: Question, for principal: Principal) async throws -> AsyncStream<AnswerEvent> {
        let prepared = try await prepare(question, for: principal)
        guard let writer = prepared.writer else {
            let answer = try await extractive.answer(prepared.standalone, from: prepared.hits)
            return try await record(
                answer,
                call: nil,
                prepared: prepared,
                used: ExtractiveAnswerer.passages,
                question: question,
                principal: principal
            ).stream
        }
        let assistant = self
        return try await writer.stream(prepared.standalone, from: prepared.hits, for: principal) { answer, call in
            try await assistant.record(
                answer,
                call: call,
                prepared: prepared,
                used: GenerativeAnswerer.sources,
                question: question,
                principal: principal
            )
        }
    }

    /// Opens a session for `principal`.
    public func openSession(for principal: Principal) async throws -> AnswerSession {
        try await sessions.open(for: principal)
    }

    /// `principal`'s session `id`, with its turns.
    public func session(_ id: AnswerSessionID, for principal: Principal) async throws -> AnswerSession {
        try await sessions.get(id, for: principal)
    }

    /// Records how `answer` came about (AnswerTrace), with personal data redacted from the
    /// question and the model's claims and the injection screen's flags on the question and
    /// the passages, adds the turn to the question's session, and returns the answer with its id.
    private func record(
        _ answer: Answer,
        call: AnswerTrace.ModelCall?,
        prepared: Prepared,
        used: Int,
        question: Question,
        principal: Principal
    ) async throws -> Answer {
        let hits = prepared.hits
        var guardrails = [screen.screen(question.text).decision(about: "question")].compactMap { $0 }
        guardrails += hits.compactMap { screen.screen($0.text).decision(about: "passage \($0.chunkID)") }
        func redacted(_ text: String, subject: String) -> String {
            let kinds = Set(detector.findings(in: text).map(\.kind.rawValue)).sorted()
            guard !kinds.isEmpty else { return text }
            guardrails.append(
                AnswerTrace.GuardrailDecision(check: "pii", subject: subject, decision: "redacted", detail: kinds.joined(separator: ", "))
            )
            return detector.redacted(text)
        }
        let trace = AnswerTrace(
            tenantID: principal.tenantID,
            question: redacted(prepared.standalone, subject: "question"),
            mode: question.mode.rawValue,
            kind: answer.kind.rawValue,
            access: AnswerTrace.Access(principal),
            passages: hits.enumerated().map { rank, hit in
                AnswerTrace.Passage(chunkID: hit.chunkID, documentID: hit.documentID, versionID: hit.versionID, score: hit.score, used: rank < used)
            },
            model: call,
            verdicts: answer.verdicts.enumerated().map { index, verdict in
                AnswerTrace.Verdict(
                    claim: redacted(verdict.claim, subject: "claim \(index + 1)"),
                    sources: verdict.sources,
                    support: verdict.support,
                    outcome: verdict.outcome.rawValue,
                    judgement: verdict.judgement?.rawValue
                )
            },
            guardrails: guardrails
        )
        try await traces.record(trace)
        var recorded = answer
        recorded.id = trace.id
        if let session = question.session {
            _ = try await sessions.append(
                question: question.text,
                standaloneQuestion: prepared.standalone,
                answerID: trace.id,
                answerKind: answer.kind.rawValue,
                answerText: recorded.text,
                to: session,
                for: principal
            )
        }
        return recorded
    }

    /// Checks the question, makes a follow-up stand alone, picks who writes the answer, and
    /// retrieves as the principal.
    private func prepare(_ question: Question, for principal: Principal) async throws -> Prepared {
        try TextRules.validate(question.text, field: "A question", maximumLength: 2000)
        var standalone = question.text
        if let id = question.session {
            let previous = try await sessions.get(id, for: principal).turns.last?.standaloneQuestion
            standalone = rewriter.standalone(question.text, after: previous)
        }
        let writer: GenerativeAnswerer?
        switch question.mode {
        case .extractive: writer = nil
        case .auto: writer = generative
        case .generative:
            guard let generative else {
                throw CairnError(
                    .invalidInput,
                    "Generative answers need a model route for answers (CAIRN_ASSISTANT_MODEL); ask with mode 'auto' or 'extractive'."
                )
            }
            writer = generative
        }
        let hits = try await search.search(
            SearchService.Request(query: standalone, k: Self.retrievedPassages, collection: question.collection, mode: .hybrid),
            by: principal
        ).hits
        return Prepared(writer: writer, hits: hits, standalone: standalone)
    }
}
