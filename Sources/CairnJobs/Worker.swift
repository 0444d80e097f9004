import CairnCore
public import CairnStore
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
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
    /// The least time between a claim that drained the queue (came back with fewer jobs than
    /// idle slots) and the next. Without it every enqueue's notification sends every idle
    /// dispatcher to the head of the queue at once, where all but one find nothing; River's
    /// fetch cooldown is the same idea at 100 ms.
    public var claimCooldown: Duration

    public init(
        concurrency: Int = 4,
        perTenantConcurrency: Int = 4,
        lease: Duration = .seconds(30),
        pollInterval: Duration = .seconds(1),
        gracePeriod: Duration = .seconds(10),
        reapInterval: Duration = .seconds(5),
        claimCooldown: Duration = .milliseconds(5)
    ) {
        self.concurrency = concurrency
        self.perTenantConcurrency = perTenantConcurrency
        self.lease = lease
        self.pollInterval = pollInterval
        self.gracePeriod = gracePeriod
        self.reapInterval = reapInterval
        self.claimCooldown = claimCooldown
    }
}

/// Runs jobs from the shared queue: `cairn worker`, and the workers inside `cairn serve`.
///
/// A dispatcher claims as many jobs as there are idle slots, in one statement, and runs each
/// in a slot while a heartbeat renews its lease; successes are recorded in batches, failures
/// one by one. When nothing is ready the dispatcher sleeps until a `NOTIFY` (or the poll
/// interval) wakes it. On graceful shutdown the worker stops claiming, lets in-flight jobs
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
    /// Jobs may be ready (NOTIFY, a local enqueue) or a slot freed up.
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
                await self.dispatchUntilDrained()
                background.cancelAll()
            }
        } onGracefulShutdown: {
            self.draining.signal()
            self.workReady.signal()
        }
        logger.info("Worker stopped", metadata: ["worker": "\(id)"])
    }

    // MARK: Dispatch

    /// Claims and runs jobs until draining, then waits for the jobs in flight and the last
    /// batch of completions. Claims and completions each hold a connection of their own.
    private func dispatchUntilDrained() async {
        do {
            try await store.database.withPlatformSession { claims in
                try await self.store.database.withPlatformSession { completions in
                    // A written batch lowers its tenants' running counts, which may let a tenant
                    // at its cap be claimed from again.
                    let completer = CompletionBatcher(store: self.store, worker: self.id, session: completions, logger: self.logger) {
                        self.workReady.signal()
                    }
                    await withDiscardingTaskGroup { group in
                        group.addTask { await completer.run() }
                        await self.dispatch(claimingVia: claims, completer: completer)
                        completer.close()
                    }
                }
            }
        } catch {
            // Neither body throws; a failure here is closing a session, after all work ended.
            logger.warning("Closing the worker's database sessions failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func dispatch(claimingVia session: any PlatformSession, completer: CompletionBatcher) async {
        let slots = SlotCount(configuration.concurrency)
        var cooledDownAt = ContinuousClock.now
        await withDiscardingTaskGroup { running in
            while !draining.isRaised, !Task.isCancelled {
                if cooledDownAt > .now { try? await Task.sleep(until: cooledDownAt) }
                let seen = workReady.generation
                let idle = slots.idle
                guard idle > 0 else {
                    await workReady.wait(after: seen, upTo: configuration.pollInterval)
                    continue
                }
                let jobs: [Job]
                do {
                    jobs = try await store.jobs.claim(
                        worker: id,
                        limit: idle,
                        leaseFor: configuration.lease,
                        perTenantCap: configuration.perTenantConcurrency,
                        via: session
                    )
                } catch {
                    logger.warning("Claiming jobs failed", metadata: ["error": "\(String(reflecting: error))"])
                    jobs = []
                }
                if jobs.count < idle { cooledDownAt = .now + configuration.claimCooldown }
                guard !jobs.isEmpty else {
                    await workReady.wait(after: seen, upTo: configuration.pollInterval)
                    continue
                }
                for job in jobs {
                    slots.take()
                    running.addTask {
                        await self.execute(job, completer: completer)
                        slots.free()
                        self.workReady.signal()
                    }
                }
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

    private func execute(_ job: Job, completer: CompletionBatcher) async {
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
        await settle(job, outcome, completer: completer, policy: handler?.retryPolicy ?? RetryPolicy(), logger: logger)
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

    /// Records the outcome: successes go to the batcher, anything else is written at once,
    /// retrying a failing database a few times. If it stays down, the lease expires and the
    /// reaper queues the job again, so nothing is lost either way.
    private func settle(_ job: Job, _ outcome: Outcome, completer: CompletionBatcher, policy: RetryPolicy, logger: Logger) async {
        await retryingWrites(logger: logger, failure: "Recording a job's outcome failed") {
            switch outcome {
            case .succeeded(let result):
                completer.add(JobRepository.Completion(id: job.id, result: result))
            case .failed(let failure):
                let state = try await store.jobs.fail(job.id, worker: id, message: failure.message, retryable: failure.retryable, policy: policy)
                if state == .dead {
                    metrics.recordDead(of: job)
                    // A failure no retry could fix is about the job's input (an encrypted PDF, a zip
                    // bomb): worth a warning, not an operator's alert. Retries running out is.
                    let level: Logger.Level = failure.retryable ? .error : .warning
                    logger.log(level: level, "Job is dead", metadata: ["error": "\(failure.message)", "attempt": "\(job.attempt)"])
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
        }
    }

    // MARK: Background

    private func listenForWork() async {
        while !Task.isCancelled {
            do {
                try await store.database.listenForWork { [workReady] in workReady.signal() }
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

/// How many of a worker's slots are free.
private final class SlotCount: Sendable {
    private let count: Mutex<Int>

    init(_ slots: Int) { count = Mutex(slots) }

    var idle: Int { count.withLock { $0 } }
    func take() { count.withLock { $0 -= 1 } }
    func free() { count.withLock { $0 += 1 } }
}

/// Records a worker's successes in batches: whatever finished while the previous batch was
/// being written goes in the next, so under load one statement records many jobs, and an
/// idle worker still records each one at once.
///
/// A success not yet written when the process dies is not lost: its lease expires and the job
/// runs again, exactly as if the process had died just before recording it.
final class CompletionBatcher: Sendable {
    private struct State {
        var pending: [JobRepository.Completion] = []
        var closed = false
    }

    private let store: CairnStore
    private let worker: String
    private let session: any PlatformSession
    private let logger: Logger
    private let state = Mutex(State())
    private let added = WakeSignal()
    private let written: @Sendable () -> Void

    /// `written` is called after each batch is recorded.
    init(store: CairnStore, worker: String, session: any PlatformSession, logger: Logger, written: @escaping @Sendable () -> Void) {
        self.store = store
        self.worker = worker
        self.session = session
        self.logger = logger
        self.written = written
    }

    func add(_ completion: JobRepository.Completion) {
        state.withLock { $0.pending.append(completion) }
        added.signal()
    }

    /// No more completions will come: `run` returns once it has written the last ones.
    func close() {
        state.withLock { $0.closed = true }
        added.signal()
    }

    /// Writes batches until closed and empty.
    func run() async {
        while true {
            let seen = added.generation
            let (batch, closed) = state.withLock { state in
                defer { state.pending.removeAll() }
                return (state.pending, state.closed)
            }
            if !batch.isEmpty {
                await write(batch)
                written()
            } else if closed {
                return
            } else {
                await added.wait(after: seen, upTo: .seconds(60))
            }
        }
    }

    private func write(_ batch: [JobRepository.Completion]) async {
        await retryingWrites(logger: logger, failure: "Recording finished jobs failed", metadata: ["jobs": "\(batch.count)"]) {
            let recorded = try await store.jobs.complete(batch, worker: worker, via: session)
            if recorded.count < batch.count {
                logger.warning(
                    "Some finished jobs had lost their lease; their results were discarded",
                    metadata: ["jobs": "\(batch.count - recorded.count)"]
                )
            }
        }
    }
}

/// Runs a worker's write to the queue, trying four times, 0.2 s to 1.6 s apart. Giving up loses
/// nothing: if the database stays down, the jobs' leases expire and the reaper queues them again.
private func retryingWrites(logger: Logger, failure: String, metadata: Logger.Metadata = [:], _ write: () async throws -> Void) async {
    for attempt in 1...4 {
        do {
            try await write()
            return
        } catch {
            logger.warning(
                "\(failure)",
                metadata: metadata.merging(["error": "\(String(reflecting: error))", "try": "\(attempt)"]) { _, new in new }
            )
            try? await Task.sleep(for: .milliseconds(100 << attempt))
        }
    }
}
