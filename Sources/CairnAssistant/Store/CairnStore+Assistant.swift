public import CairnStore

extension CairnStore {
    /// How each of the assistant's answers came about.
    public var answerTraces: AnswerTraces { AnswerTraces(database: database) }
    /// The assistant's sessions, each its owner's alone.
    public var answerSessions: AnswerSessions { AnswerSessions(database: database) }
    /// Agent runs and their steps, and the review proposals runs make.
    public var agentRuns: AgentRuns { AgentRuns(database: database) }
}

/// The assistant's tables: answer traces, sessions, agent runs and review proposals.
public enum AssistantSchema {
    public static let migrations: [Migration] = [.answers, .sessions, .agentRuns]
}
