import CairnCore
public import CairnStore
import Foundation
public import Logging
import Synchronization

/// Does the work of one job kind. Workers look handlers up by `kind` in a ``JobCatalog``.
///
/// A handler runs at least once per job and may run again after a crash, so its side effects
/// must be idempotent (keyed by the job id or a key in the payload). It should call
/// ``JobContext/checkCancellation()`` between units of work: that is where a cancellation
/// request, a lost lease or a worker shutdown stops it cleanly.
public protocol JobHandler: Sendable {
    /// The kind this handler serves, e.g. `document.ingest`.
    var kind: String { get }
    /// Attempts a job of this kind gets unless its submitter asks for fewer or more.
    var defaultMaxAttempts: Int { get }
    /// Backoff between attempts.
    var retryPolicy: RetryPolicy { get }
    /// Whether tenants may submit this kind through `POST /v1/jobs`; kinds created by other
    /// operations (an upload's ingestion) are not.
    var acceptsSubmissions: Bool { get }

    /// Runs one attempt. Returns the result as JSON text (or `nil`); throws to fail the attempt
    /// (``JobFailure`` says whether it is worth retrying).
    func run(_ job: JobContext) async throws -> String?
}

extension JobHandler {
    public var defaultMaxAttempts: Int { 5 }
    public var retryPolicy: RetryPolicy { RetryPolicy() }
    public var acceptsSubmissions: Bool { false }
}

/// A failed attempt, saying whether another attempt could succeed.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// `false` sends the job straight to `dead`: retrying cannot help (a malformed payload, an
    /// encrypted PDF).
    public let retryable: Bool

    public init(_ message: String, retryable: Bool) {
        self.message = message
        self.retryable = retryable
    }

    /// A failure no retry can fix.
    public static func permanent(_ message: String) -> JobFailure { JobFailure(message, retryable: false) }

    public var description: String { message }

    /// How any error a handler throws is recorded: `CairnError`s about the input or stored
    /// state are permanent, everything else (timeouts, unavailable dependencies) retryable.
    public static func describing(_ error: any Error) -> JobFailure {
        switch error {
        case let failure as JobFailure:
            return failure
        case let error as CairnError:
            let permanent: Set<CairnError.Code> = [.invalidInput, .notFound, .forbidden, .integrityViolation, .misconfigured]
            return JobFailure(error.message, retryable: !permanent.contains(error.code))
        default:
            return JobFailure(String(describing: error), retryable: true)
        }
    }
}

/// Why a handler was told to stop.
public enum JobStop: Error, Sendable, Equatable {
    /// Someone asked for the job to be cancelled.
    case cancellationRequested
    /// The worker is shutting down and its grace period is over; the job goes back to the queue.
    case workerShuttingDown
    /// The lease expired and was reaped; another worker may already run the job.
    case leaseLost
}

/// What a handler sees of its job and the worker running it.
public struct JobContext: Sendable {
    /// The job as claimed (its `attempt` is this attempt's number).
    public let job: Job
    public let store: CairnStore
    public let logger: Logger
    let lease: JobLease

    /// Whether a failure now would be final (no attempts left): workflows compensate then.
    public var isFinalAttempt: Bool { job.attempt >= job.maxAttempts }

    /// Throws ``JobStop`` if the handler should stop: cancellation requested, lease lost, or the
    /// worker's shutdown grace period over. Cheap: it reads flags the heartbeat keeps current.
    public func checkCancellation() throws(JobStop) {
        if let stop = lease.stop { throw stop }
        if Task.isCancelled { throw JobStop.workerShuttingDown }
    }

    /// Records progress (0…1, with a sentence) where the API and the SSE stream show it, and
    /// renews the lease. Throws ``JobStop`` if the handler should stop.
    public func reportProgress(_ fraction: Double, _ message: String? = nil) async throws {
        try checkCancellation()
        try await lease.beat(progress: fraction, message: message)
        try checkCancellation()
    }

    /// The payload decoded as `T`; a payload that does not decode fails the job permanently.
    public func payload<T: Decodable>(as type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(job.payload.utf8))
        } catch {
            throw JobFailure.permanent("The job's payload does not match what a \(job.kind) job needs.")
        }
    }
}

/// The worker's hold on one running job: renewed by heartbeats, read by the handler's checks.
final class JobLease: Sendable {
    let jobID: JobID
    let worker: String
    let duration: Duration
    private let store: CairnStore
    private let stopReason = Mutex<JobStop?>(nil)

    init(jobID: JobID, worker: String, duration: Duration, store: CairnStore) {
        self.jobID = jobID
        self.worker = worker
        self.duration = duration
        self.store = store
    }

    var stop: JobStop? { stopReason.withLock { $0 } }

    func stop(_ reason: JobStop) {
        // The first reason wins: a lease lost after cancellation was requested is still a cancellation.
        stopReason.withLock { if $0 == nil { $0 = reason } }
    }

    /// Renews the lease (recording progress when given) and notes a cancellation request.
    func beat(progress: Double? = nil, message: String? = nil) async throws {
        switch try await store.jobs.heartbeat(jobID, worker: worker, leaseFor: duration, progress: progress, message: message) {
        case .held(let cancelRequested):
            if cancelRequested { stop(.cancellationRequested) }
        case .lost:
            stop(.leaseLost)
        }
    }
}
