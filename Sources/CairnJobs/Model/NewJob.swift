public import Foundation

/// A job to enqueue: what a tenant submits through `JobQueue`, or what an operation (an
/// upload's ingestion, an agent run's next turn) enqueues on the tenant's behalf.
public struct NewJob: Sendable {
    public var kind: String
    /// JSON text, read by the kind's handler.
    public var payload: String
    public var priority: Int
    /// When it may run first; now when `nil`.
    public var runAt: Date?
    /// Attempts before the job is dead; `nil` takes its handler's default through `JobQueue`,
    /// or `defaultMaxAttempts` when enqueued directly.
    public var maxAttempts: Int?
    public var idempotencyKey: String?

    public static let defaultMaxAttempts = 5

    public init(kind: String, payload: String = "{}", priority: Int = 0, runAt: Date? = nil, maxAttempts: Int? = nil, idempotencyKey: String? = nil) {
        self.kind = kind
        self.payload = payload
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.idempotencyKey = idempotencyKey
    }

    /// The attempts it is stored with.
    var attempts: Int { maxAttempts ?? Self.defaultMaxAttempts }
}
