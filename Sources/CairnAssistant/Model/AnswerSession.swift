public import CairnCore
public import Foundation

public typealias AnswerSessionID = EntityID<AnswerSession>

/// A conversation with the assistant: questions asked in turn, each answered from the
/// documents its asker may see. It belongs to the principal that opened it; no one else can
/// read it or add to it.
public struct AnswerSession: Sendable, Equatable {
    public let id: AnswerSessionID
    public let tenantID: TenantID
    /// The owner's audit actor (`api_key:…`, `oidc:…`, `cli`).
    public let owner: String
    public let createdAt: Date
    /// The turns so far, oldest first.
    public let turns: [Turn]

    public init(id: AnswerSessionID, tenantID: TenantID, owner: String, createdAt: Date, turns: [Turn]) {
        self.id = id
        self.tenantID = tenantID
        self.owner = owner
        self.createdAt = createdAt
        self.turns = turns
    }

    /// One question and its answer.
    public struct Turn: Sendable, Equatable {
        /// From 1.
        public let position: Int
        /// As asked.
        public let question: String
        /// As retrieval read it: a follow-up rewritten to stand on its own.
        public let standaloneQuestion: String
        public let answerID: AnswerID
        /// `extractive`, `generative` or `refusal`.
        public let answerKind: String
        /// The answer's text, citation markers included.
        public let answerText: String
        public let createdAt: Date

        public init(
            position: Int,
            question: String,
            standaloneQuestion: String,
            answerID: AnswerID,
            answerKind: String,
            answerText: String,
            createdAt: Date
        ) {
            self.position = position
            self.question = question
            self.standaloneQuestion = standaloneQuestion
            self.answerID = answerID
            self.answerKind = answerKind
            self.answerText = answerText
            self.createdAt = createdAt
        }
    }
}
