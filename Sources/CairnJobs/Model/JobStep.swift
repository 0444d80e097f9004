import CairnCore
public import Foundation

/// Where one step of a workflow job (a saga) is.
public enum JobStepState: String, Sendable, CaseIterable, Codable {
    /// Not started, or started by an attempt that did not finish it.
    case pending
    /// Done; a resumed workflow skips it.
    case succeeded
    /// The step whose failure ended the workflow.
    case failed
    /// Undone by its compensation after the workflow failed.
    case compensated
    /// Its compensation itself failed; the error says why. Needs a person.
    case compensationFailed = "compensation_failed"
}

/// One step of a workflow job, as persisted after every transition.
public struct JobStep: Sendable, Equatable {
    /// 1-based position in the workflow.
    public let position: Int
    public let name: String
    public let state: JobStepState
    /// Attempts that started this step.
    public let runs: Int
    public let error: String?
    public let finishedAt: Date?
    public let compensatedAt: Date?

    /// A step as read from storage.
    public init(position: Int, name: String, state: JobStepState, runs: Int, error: String?, finishedAt: Date?, compensatedAt: Date?) {
        self.position = position
        self.name = name
        self.state = state
        self.runs = runs
        self.error = error
        self.finishedAt = finishedAt
        self.compensatedAt = compensatedAt
    }
}
