import CairnCore
public import CairnStore
import Foundation
public import Logging
public import ServiceLifecycle
import Tracing

/// How a worker runs.
public struct WorkerConfiguration: Sendable, Equatable {
    /// Jobs run at once by this process.
    public var concurrency: Int
    /// Jobs one tenant may have running at once across every worker (fairness cap).
    public var perTenantConcurrency: Int
    /// How long a claim lasts without a heartbeat; heartbeats come every third of it.
    public var lease: Duration
    /// How often an idle worker looks for work when no notification arrives.
    public var pollInterval: Duration
    /// How long a shutting-down worker lets in-flight jobs finish before it hands them back.
    public var gracePeriod: Duration
    /// How often expired leases are looked for.
    public var reapInterval: Duration

    public init(
        concurrency: Int = 4,
        perTenantConcurrency: Int = 4,
        lease: Duration = .seconds(30),
        pollInterval: Duration = .seconds(1),
        gracePeriod: Duration = .seconds(10),
        reapInterval: Duration = .seconds(5)
    ) {
        self.concurrency = concurrency
        self.perTenantConcurrency = perTenantConcurrency
        self.lease = lease
        self.pollInterval = pollInterval
        self.gracePeriod = gracePeriod
        self.reapInterval = reapInterval
    }
}

/// Runs jobs from the shared queue: `cairn worker`, and the workers inside `cairn serve`.
///
/// `concurrency` slots each claim a job, run its handler while a heartbeat renews the lease,
/// record the outcome, and look for the next; idle slots sleep until a `NOTIFY` (or the poll
/// interval) wakes them. On graceful shutdown the worker stops claiming, lets in-flight jobs
/// finish for `gracePeriod`, then stops the rest and hands them back to the queue without
/// counting the attempt. A worker that dies without shutting down loses nothing either: its
/// leases expire and any node's reaper queues the jobs again.
public final class Worker: Service {
    /// The lease owner this process writes; unique per process.
    public let id: String
    private let store: CairnStore
    private let catalog: JobCatalog
    private let configuration: WorkerConfiguration
    private let logger: Logger
    private let metrics = JobMetrics()
    /// Jobs may be ready (NOTIFY, a local enqueue, a slot freeing up).
    private let workReady = WakeSignal()
    /// Graceful shutdown began: stop claiming.
    private let draining = WakeSignal(sticky: true)
    /// The grace period is over: stop in-flight handlers.
    private let interrupted = WakeSignal(sticky: true)

    public init(store: CairnStore, catalog: JobCatalog, configuration: WorkerConfiguration = WorkerConfiguration(), logger: Logger) {
        let host = ProcessInfo.processInfo.hostName
        self.id = "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
        self.store = store
        self.catalog = catalog
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        logger.info("Worker started", metadata: ["worker": "\(id)", "concurrency": "\(configuration.concurrency)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { background in
                background.addTask { await self.listenForWork() }
                background.addTask { await self.reapExpiredLeases() }
                background.addTask { await self.interruptAfterGracePeriod() }
                await withDiscardingTaskGroup { slots in
                    for _ in 0..<configuration.concurrency {
                        slots.addTask { await self.runSlot() }
                    }
                }
                background.cancelAll()
            }
        } onGracefulShutdown: {
            self.draining.signal()
            self.workReady.signal()
        }
        logger.info("Worker stopped", metadata: ["worker": "\(id)"])
    }

    // MARK: Slots

    private func runSlot() async {
        while !draining.isRaised, !Task.isCancelled {
            let seen = workReady.generation
            let job: Job?
            do {
                job = try await store.jobs.claim(worker: id, leaseFor: configuration.lease, perTenantCap: configuration.perTenantConcurrency)
            } catch {
                logger.warning("Claiming a job failed", metadata: ["error": "\(String(reflecting: error))"])
                job = nil
            }
            if let job {
                // There may be more: pass the wake-up on to one idle slot, so a burst fans out
                // one slot at a time instead of every slot racing for each notification.
                workReady.signalOne()
                await execute(job)
            } else {
                await workReady.wait(after: seen, upTo: configuration.pollInterval)
            }
        }
    }

    /// The outcome of one attempt.
    private enum Outcome {
        case succeeded(String?)
        case failed(JobFailure)
        case stopped(JobStop)

        var label: String {
            switch self {
            case .succeeded: "succeeded"
            case .failed(let failure): failure.retryable ? "failed" : "failed_permanently"
            case .stopped(.cancellationRequested): "cancelled"
            case .stopped(.workerShuttingDown): "released"
            case .stopped(.leaseLost): "lease_lost"
            }
        }
    }

    private func execute(_ job: Job) async {
        metrics.recordWait(of: job)
        var logger = self.logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger[metadataKey: "job_kind"] = "\(job.kind)"
        logger[metadataKey: "tenant"] = "\(job.tenantID)"
        let started = ContinuousClock.now
        let handler = catalog.handler(for: job.kind)
        let outcome = await withSpan("job \(job.kind)", ofKind: .consumer) { span in
            span.attributes["cairn.job.id"] = job.id.description
            span.attributes["cairn.job.kind"] = job.kind
            span.attributes["cairn.job.attempt"] = job.attempt
            span.attributes["cairn.tenant.id"] = job.tenantID.description
            let outcome: Outcome
            if let handler {
                let lease = JobLease(jobID: job.id, worker: id, duration: configuration.lease, store: store)
                outcome = await attempt(handler, JobContext(job: job, store: store, logger: logger, lease: lease))
            } else {
                outcome = .failed(.permanent("No handler is registered for job kind '\(job.kind)' on this worker."))
            }
            span.attributes["cairn.job.outcome"] = outcome.label
            if case .failed(let failure) = outcome { span.setStatus(SpanStatus(code: .error, message: failure.message)) }
            return outcome
        }
        await settle(job, outcome, policy: handler?.retryPolicy ?? RetryPolicy(), logger: logger)
        metrics.recordAttempt(of: job, outcome: outcome.label, duration: ContinuousClock.now - started)
    }

    /// Runs the handler beside a heartbeat. The heartbeat stops the handler's task when the lease
    /// is lost or the grace period ends; a cancellation request only raises the flag the handler
    /// checks, so it can stop at a clean point.
    private func attempt(_ handler: any JobHandler, _ context: JobContext) async -> Outcome {
        await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    return .succeeded(try await handler.run(context))
                } catch let stop as JobStop {
                    return .stopped(stop)
                } catch {
                    if let stop = context.lease.stop, stop != .cancellationRequested { return .stopped(stop) }
                    if Task.isCancelled { return .stopped(.workerShuttingDown) }
                    return .failed(.describing(error))
                }
            }
            group.addTask {
                await self.keepLease(context.lease, logger: context.logger)
                return nil
            }
            var outcome: Outcome = .stopped(.workerShuttingDown)
            for await finished in group {
                if let finished {
                    outcome = finished
                    break
                }
                // The heartbeat gave up the job: stop the handler and take its outcome.
                group.cancelAll()
            }
            group.cancelAll()
            return outcome
        }
    }

    private func keepLease(_ lease: JobLease, logger: Logger) async {
        let interval = configuration.lease / 3
        while !Task.isCancelled {
            if await interrupted.wait(upTo: interval) {
                lease.stop(.workerShuttingDown)
                return
            }
            if Task.isCancelled { return }
            do {
                try await lease.beat()
            } catch {
                // A missed beat is survivable until the lease runs out; the next one may work.
                logger.warning("Heartbeat failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            if lease.stop == .leaseLost {
                logger.warning("Lease lost; the job's outcome is left to whoever holds it now")
                return
            }
        }
    }

    /// Records the outcome, retrying a failing database a few times: if it stays down, the
    /// lease expires and the reaper queues the job again, so nothing is lost either way.
    private func settle(_ job: Job, _ outcome: Outcome, policy: RetryPolicy, logger: Logger) async {
        for attempt in 1...4 {
            do {
                switch outcome {
                case .succeeded(let result):
                    _ = try await store.jobs.complete(job.id, worker: id, result: result)
                case .failed(let failure):
                    let state = try await store.jobs.fail(job.id, worker: id, message: failure.message, retryable: failure.retryable, policy: policy)
                    if state == .dead {
                        metrics.recordDead(of: job)
                        logger.error("Job is dead", metadata: ["error": "\(failure.message)", "attempt": "\(job.attempt)"])
                    } else {
                        logger.warning("Job attempt failed; it will be retried", metadata: ["error": "\(failure.message)", "attempt": "\(job.attempt)"])
                    }
                case .stopped(.cancellationRequested):
                    _ = try await store.jobs.acknowledgeCancellation(job.id, worker: id)
                case .stopped(.workerShuttingDown):
                    _ = try await store.jobs.release(job.id, worker: id)
                    logger.info("Job handed back to the queue at shutdown")
                case .stopped(.leaseLost):
                    break
                }
                return
            } catch {
                logger.warning("Recording a job's outcome failed", metadata: ["error": "\(String(reflecting: error))", "try": "\(attempt)"])
                try? await Task.sleep(for: .milliseconds(100 << attempt))
            }
        }
    }

    // MARK: Background

    private func listenForWork() async {
        while !Task.isCancelled {
            do {
                try await store.database.listenForJobs { [workReady] in workReady.signalOne() }
            } catch {
                if Task.isCancelled { return }
                // Polling covers the gap; reconnect after a pause.
                logger.warning("Listening for new jobs failed; polling until it reconnects", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    private func reapExpiredLeases() async {
        while !Task.isCancelled {
            do {
                let reaped = try await store.jobs.reapExpiredLeases()
                if reaped > 0 {
                    logger.warning("Requeued jobs whose worker stopped heart-beating", metadata: ["jobs": "\(reaped)"])
                }
            } catch {
                logger.warning("Reaping expired leases failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: configuration.reapInterval)
        }
    }

    private func interruptAfterGracePeriod() async {
        while !Task.isCancelled, !draining.isRaised {
            await draining.wait(upTo: .seconds(3600))
        }
        guard !Task.isCancelled else { return }
        try? await Task.sleep(for: configuration.gracePeriod)
        guard !Task.isCancelled else { return }
        logger.warning("Grace period over; handing unfinished jobs back to the queue")
        interrupted.signal()
    }
}
