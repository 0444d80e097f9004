import CairnCore
import CairnStore
import Foundation

/// Queue probes: job kinds an operator (or the chaos tests) submits to check a deployment's
/// queue end to end. Their only side effect is an idempotency-keyed row per effect key in
/// `queue_probe_effects`, counted by `writes`, so "every job ran, none twice" can be checked
/// by counting rows.
enum QueueProbe {
    /// `probe.effect`: waits `sleepMs` (checking for cancellation), then records `key`.
    struct Effect: JobHandler {
        let kind = "probe.effect"
        let acceptsSubmissions = true

        struct Payload: Decodable {
            let key: String
            let sleepMs: Int?
        }

        func run(_ job: JobContext) async throws -> String? {
            let payload = try job.payload(as: Payload.self)
            try await QueueProbe.pause(payload.sleepMs, job)
            try await job.store.queueProbes.recordEffect(payload.key, for: job.job)
            return nil
        }
    }

    /// `probe.saga`: a workflow of `steps` steps; step *i* records `<key>:step-<i>` and its
    /// compensation `<key>:undo-<i>`. With `failAtStep`, that step fails permanently.
    struct Saga: Workflow {
        let kind = "probe.saga"
        let acceptsSubmissions = true

        struct Payload: Decodable {
            let key: String
            let steps: Int
            let sleepMs: Int?
            let failAtStep: Int?
        }

        func steps(for job: JobContext) throws -> [WorkflowStep] {
            let payload = try job.payload(as: Payload.self)
            guard (1...20).contains(payload.steps) else { throw JobFailure.permanent("A probe saga has 1–20 steps.") }
            return (1...payload.steps).map { position in
                WorkflowStep(
                    "step-\(position)",
                    run: { job in
                        try await QueueProbe.pause(payload.sleepMs, job)
                        if position == payload.failAtStep { throw JobFailure.permanent("Step \(position) was told to fail.") }
                        try await job.store.queueProbes.recordEffect("\(payload.key):step-\(position)", for: job.job)
                    },
                    compensate: { job in
                        // Not `pause`: a compensation must not stop at the cancellation it is undoing.
                        try await Task.sleep(for: .milliseconds(min(max(payload.sleepMs ?? 0, 0), 60_000)))
                        try await job.store.queueProbes.recordEffect("\(payload.key):undo-\(position)", for: job.job)
                    }
                )
            }
        }
    }

    /// Sleeps in slices so cancellation and shutdown are seen within 50 ms.
    static func pause(_ milliseconds: Int?, _ job: JobContext) async throws {
        guard let milliseconds, milliseconds > 0 else { return }
        guard milliseconds <= 60_000 else { throw JobFailure.permanent("A probe sleeps at most 60,000 ms.") }
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        while ContinuousClock.now < deadline {
            try job.checkCancellation()
            try await Task.sleep(for: min(.milliseconds(50), deadline - ContinuousClock.now))
        }
        try job.checkCancellation()
    }
}
