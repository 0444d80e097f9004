import CairnCore
import Foundation
import Metrics

/// The queue's metrics, through swift-metrics (exported at `/metrics` by the server).
///
/// Labels are the job kind (a handful per deployment) and, for the depth gauge, the tenant:
/// bounded by what an operator configured, never by job ids.
struct JobMetrics: Sendable {
    /// From when a job became runnable to when a worker claimed it.
    func recordWait(of job: Job) {
        let ready = max(job.runAt, job.createdAt)
        Timer(label: "cairn_job_wait_seconds", dimensions: [("kind", job.kind)], preferredDisplayUnit: .seconds)
            .recordInterval(since: ready)
    }

    /// One attempt, by outcome (succeeded, failed, failed_permanently, cancelled, released, lease_lost).
    func recordAttempt(of job: Job, outcome: String, duration: Duration) {
        Counter(label: "cairn_job_attempts_total", dimensions: [("kind", job.kind), ("outcome", outcome)]).increment()
        Timer(label: "cairn_job_run_seconds", dimensions: [("kind", job.kind)], preferredDisplayUnit: .seconds).record(duration: duration)
    }

    /// A job went to the dead-letter queue.
    func recordDead(of job: Job) {
        Counter(label: "cairn_jobs_dead_total", dimensions: [("kind", job.kind)]).increment()
    }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since start: Date) {
        recordNanoseconds(Int64(max(0, Date().timeIntervalSince(start)) * 1e9))
    }
}
