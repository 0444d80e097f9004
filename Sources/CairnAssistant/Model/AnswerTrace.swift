public import CairnCore
public import CairnDocuments
public import CairnGateway
public import Foundation

public typealias AnswerID = EntityID<AnswerTrace>

/// How one answer came about, kept for curators and auditors: who asked with which access,
/// what retrieval returned, what the model was sent and said, and what verification and the
/// guardrails decided. Text in it (the question, claims) has personal data redacted.
public struct AnswerTrace: Sendable, Equatable {
    public let id: AnswerID
    public let tenantID: TenantID
    public let createdAt: Date
    /// The question, personal data redacted.
    public let question: String
    /// `auto`, `extractive` or `generative`, as asked.
    public let mode: String
    /// `extractive`, `generative` or `refusal`, as answered.
    public let kind: String
    public let access: Access
    /// What retrieval returned for the principal, best first.
    public let passages: [Passage]
    /// The model call, for a generative answer.
    public let model: ModelCall?
    public let verdicts: [Verdict]
    public let guardrails: [GuardrailDecision]

    public init(
        id: AnswerID = AnswerID(),
        tenantID: TenantID,
        createdAt: Date = Date(),
        question: String,
        mode: String,
        kind: String,
        access: Access,
        passages: [Passage],
        model: ModelCall?,
        verdicts: [Verdict],
        guardrails: [GuardrailDecision]
    ) {
        self.id = id
        self.tenantID = tenantID
        self.createdAt = createdAt
        self.question = question
        self.mode = mode
        self.kind = kind
        self.access = access
        self.passages = passages
        self.model = model
        self.verdicts = verdicts
        self.guardrails = guardrails
    }

    /// The principal's inputs to the access policy when it asked.
    public struct Access: Sendable, Equatable, Codable {
        public let actor: String
        public let roles: [String]
        public let clearance: String
        public let entities: [String]
        public let branches: [String]
        public let groups: [String]

        public init(_ principal: Principal) {
            actor = principal.auditActor
            roles = principal.roles.map(\.rawValue).sorted()
            clearance = principal.attributes.clearance.rawValue
            entities = principal.attributes.entities.sorted()
            branches = principal.attributes.branches.sorted()
            groups = principal.groups.sorted()
        }
    }

    public struct Passage: Sendable, Equatable, Codable {
        public let chunkID: String
        public let documentID: String
        public let versionID: String
        public let score: Double
        /// Whether the passage was given to the model (generative) or read for sentences (extractive).
        public let used: Bool

        public init(chunkID: ChunkID, documentID: DocumentID, versionID: DocumentVersionID, score: Double, used: Bool) {
            self.chunkID = chunkID.description
            self.documentID = documentID.description
            self.versionID = versionID.description
            self.score = score
            self.used = used
        }
    }

    public struct ModelCall: Sendable, Equatable, Codable {
        /// The gateway model (alias) asked.
        public let model: String
        /// The deployment that answered.
        public let deployment: String?
        /// SHA-256 of the messages sent, as JSON: the same prompt always hashes the same.
        public let promptSHA256: String
        public let inputTokens: Int?
        public let outputTokens: Int?
        /// What the call cost, as the gateway charged it; `nil` when it was not reported (a
        /// streamed reply's cost is settled after the trace is written).
        public let cost: USD?

        public init(model: String, deployment: String?, promptSHA256: String, inputTokens: Int?, outputTokens: Int?, cost: USD? = nil) {
            self.model = model
            self.deployment = deployment
            self.promptSHA256 = promptSHA256
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cost = cost
        }
    }

    public struct Verdict: Sendable, Equatable, Codable {
        /// The claim, personal data redacted.
        public let claim: String
        public let sources: [Int]
        public let support: Double
        public let outcome: String
        /// The judge model's word, when one is configured and the check found the claim supported.
        public let judgement: String?

        public init(claim: String, sources: [Int], support: Double, outcome: String, judgement: String? = nil) {
            self.claim = claim
            self.sources = sources
            self.support = support
            self.outcome = outcome
            self.judgement = judgement
        }
    }

    /// One decision a guardrail took, e.g. personal data redacted from the question before it
    /// was stored.
    public struct GuardrailDecision: Sendable, Equatable, Codable {
        /// The check: `pii`.
        public let check: String
        /// What it looked at: `question`, or `passage <chunk id>`.
        public let subject: String
        /// What it did: `redacted`.
        public let decision: String
        /// Why, without the data itself: e.g. `email, iban`.
        public let detail: String

        public init(check: String, subject: String, decision: String, detail: String) {
            self.check = check
            self.subject = subject
            self.decision = decision
            self.detail = detail
        }
    }
}
