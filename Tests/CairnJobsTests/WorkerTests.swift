import CairnCore
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import CairnJobs

/// A handler whose behaviour a test sets with a closure.
struct TestHandler: JobHandler {
    let kind: String
    var defaultMaxAttempts = 3
    /// Retries come quickly in tests: backoff ceilings of 10 ms, 20 ms, …
    var retryPolicy = RetryPolicy(base: .milliseconds(10), cap: .milliseconds(50))
    let body: @Sendable (JobContext) async throws -> String?

    func run(_ job: JobContext) async throws -> String? { try await body(job) }
}

@Suite("Workers")
struct WorkerTests {
    @Test("A job that always throws ends dead after max_attempts with every error kept; once fixed, a replay succeeds", arguments: TestEngine.all)
    func deadLetterAndReplay(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let fixed = Mutex(false)
            let flaky = TestHandler(kind: "flaky") { _ in
                guard fixed.withLock({ $0 }) else { throw CairnError(.unavailable, "The upstream service answered 503.") }
                return #"{"ok":true}"#
            }
            try await withWorker(store, [flaky]) { _ in
                let job = try await store.jobs.enqueue(.init(kind: "flaky", maxAttempts: 3), by: admin).job
                try await eventually("the job to die") { try await store.jobs.get(job.id, for: admin).state == .dead }
                let dead = try await store.jobs.get(job.id, for: admin)
                #expect(dead.attempt == 3)
                #expect(dead.errors.map(\.attempt) == [1, 2, 3])
                #expect(dead.errors.allSatisfy { $0.message == "The upstream service answered 503." && $0.retryable })
                #expect(try await store.jobs.list(for: admin, state: .dead).items.map(\.id) == [job.id])

                fixed.withLock { $0 = true }
                _ = try await store.jobs.replay(job.id, by: admin)
                try await eventually("the replay to succeed") { try await store.jobs.get(job.id, for: admin).state == .succeeded }
                let replayed = try await store.jobs.get(job.id, for: admin)
                #expect(replayed.result == #"{"ok":true}"#)
                #expect(replayed.errors.count == 3, "the history of the dead attempts is kept")
            }
        }
    }

    @Test("An error marked non-retryable goes straight to dead", arguments: TestEngine.all)
    func permanentFailure(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let strict = TestHandler(kind: "strict") { _ in throw JobFailure.permanent("The PDF is encrypted.") }
            try await withWorker(store, [strict]) { _ in
                let job = try await store.jobs.enqueue(.init(kind: "strict", maxAttempts: 5), by: admin).job
                try await eventually("the job to die") { try await store.jobs.get(job.id, for: admin).state == .dead }
                let dead = try await store.jobs.get(job.id, for: admin)
                #expect(dead.attempt == 1)
                #expect(dead.errors.map(\.message) == ["The PDF is encrypted."])
                #expect(dead.errors.first?.retryable == false)
            }
        }
    }

    @Test("A running job sees a cancellation request at its next check and ends cancelled", arguments: TestEngine.all)
    func cooperativeCancellation(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let stoppedCleanly = Mutex(false)
            let long = TestHandler(kind: "long") { job in
                for step in 1...400 {
                    do {
                        try await job.reportProgress(Double(step) / 400, "page \(step)")
                    } catch JobStop.cancellationRequested {
                        stoppedCleanly.withLock { $0 = true }
                        throw JobStop.cancellationRequested
                    }
                    try await Task.sleep(for: .milliseconds(25))
                }
                return nil
            }
            try await withWorker(store, [long]) { _ in
                let job = try await store.jobs.enqueue(.init(kind: "long"), by: admin).job
                try await eventually("progress to be reported") { try await store.jobs.get(job.id, for: admin).progress > 0 }
                #expect(try await store.jobs.get(job.id, for: admin).progressMessage?.hasPrefix("page ") == true)
                _ = try await store.jobs.requestCancellation(job.id, by: admin)
                try await eventually("the job to be cancelled") { try await store.jobs.get(job.id, for: admin).state == .cancelled }
                #expect(stoppedCleanly.withLock { $0 })
            }
        }
    }

    @Test("Fairness: with tenant A's 1,000 jobs queued, tenant B's one job starts as soon as a slot frees", arguments: TestEngine.all)
    func fairness(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let tenantA = try await makeTenant(store, "tenant-a")
            let tenantB = try await makeTenant(store, "tenant-b")
            // Counted in jobs, not seconds: how many of A's jobs start before B's says whether
            // the claim order is fair whatever the machine's load.
            let started = Mutex<(a: Int, aBeforeB: Int?)>((0, nil))
            let work = TestHandler(kind: "work") { job in
                started.withLock { count in
                    if job.job.tenantID == tenantB.tenantID { count.aBeforeB = count.a } else { count.a += 1 }
                }
                try await Task.sleep(for: .milliseconds(500))
                return nil
            }
            // Every slot may go to one tenant: fairness must come from the claim order alone.
            let configuration = WorkerConfiguration(concurrency: 4, perTenantConcurrency: 4, lease: .seconds(5), pollInterval: .milliseconds(100))
            try await withWorker(store, [work], configuration: configuration) { _ in
                _ = try await store.jobs.enqueueBatch(Array(repeating: .init(kind: "work"), count: 1000), by: tenantA)
                try await eventually("tenant A to fill every slot") {
                    try await store.jobs.list(for: tenantA, state: .running).items.count == 4
                }
                _ = try await store.jobs.enqueue(.init(kind: "work"), by: tenantB)
                let runningWhenBArrived = started.withLock { $0.a }
                try await eventually("tenant B's job to start") { started.withLock { $0.aBeforeB } != nil }
                let startedAhead = try #require(started.withLock { $0.aBeforeB }) - runningWhenBArrived
                // Once B's job is committed, the next claim prefers B, the tenant with nothing
                // running; a claim already under way may still take one of A's for each slot.
                // First come, first served would start all 996 of A's waiting jobs first.
                #expect(startedAhead <= 4, "\(startedAhead) of tenant A's jobs started before tenant B's")
                let queuedA = try await store.jobs.list(for: tenantA, state: .queued, limit: 500).items.count
                #expect(queuedA == 500, "A still has most of its queue left: B did not wait behind it")
            }
        }
    }

    @Test("On graceful shutdown, in-flight jobs finish within the grace period; the rest go back to the queue unharmed", arguments: TestEngine.all)
    func gracefulShutdown(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            // The short job holds until shutdown has begun, so it is certainly in flight then,
            // however slowly a loaded machine claims; the long one never finishes on its own.
            let shutdownBegan = Mutex(false)
            let holder = TestHandler(kind: "hold") { job in
                let untilShutdown = try job.payload(as: [String: Bool].self)["untilShutdown"] ?? false
                while !(untilShutdown && shutdownBegan.withLock({ $0 })) {
                    try job.checkCancellation()
                    try await Task.sleep(for: .milliseconds(20))
                }
                return nil
            }
            let worker = Worker(
                store: store,
                catalog: JobCatalog([holder]),
                configuration: WorkerConfiguration(concurrency: 2, lease: .seconds(30), pollInterval: .milliseconds(100), gracePeriod: .seconds(2)),
                logger: Logger(label: "cairn.test.worker")
            )
            let group = ServiceGroup(services: [worker], logger: Logger(label: "cairn.test"))
            let short = try await store.jobs.enqueue(.init(kind: "hold", payload: #"{"untilShutdown":true}"#), by: admin).job
            let long = try await store.jobs.enqueue(.init(kind: "hold", payload: #"{"untilShutdown":false}"#), by: admin).job
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await eventually("both jobs to run") { try await store.jobs.list(for: admin, state: .running).items.count == 2 }
                await group.triggerGracefulShutdown()
                shutdownBegan.withLock { $0 = true }
                try await tasks.waitForAll()
            }
            let finished = try await store.jobs.get(short.id, for: admin)
            #expect(finished.state == .succeeded, "the short job finished inside the grace period")
            let released = try await store.jobs.get(long.id, for: admin)
            #expect(released.state == .queued, "the long job was handed back")
            #expect(released.attempt == 0 && released.errors.isEmpty, "the interrupted attempt is not counted")
            #expect(released.leaseOwner == nil)
        }
    }

    @Test("Workflow: a failure at step 3 of 5 compensates steps 2 then 1, visible as step states", arguments: TestEngine.all)
    func sagaCompensation(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            // A lease far longer than the saga: under a full CI load a 10 s lease once lapsed between
            // heartbeats, the reaper handed the saga to a second attempt, and step 1 ran twice (an
            // earlier rehearsal saw that second attempt's fresh, all-pending steps). This test is
            // about compensation, not lease expiry, which the reaper tests cover.
            let configuration = WorkerConfiguration(concurrency: 4, lease: .seconds(120), pollInterval: .milliseconds(100), gracePeriod: .seconds(2))
            try await withWorker(store, JobCatalog.standard.kinds.compactMap(JobCatalog.standard.handler), configuration: configuration) { _ in
                let job = try await store.jobs.enqueue(
                    .init(kind: "probe.saga", payload: #"{"key":"s1","steps":5,"sleepMs":5,"failAtStep":3}"#, maxAttempts: 2),
                    by: admin
                ).job
                try await eventually("the saga to end") { try await store.jobs.get(job.id, for: admin).state == .dead }
                let (dead, steps) = try await store.jobs.detail(job.id, for: admin)
                #expect(steps.map(\.state) == [.compensated, .compensated, .failed, .pending, .pending])
                let first = try #require(steps[0].compensatedAt)
                let second = try #require(steps[1].compensatedAt)
                #expect(second < first, "step 2 is undone before step 1")
                #expect(dead.attempt == 1, "a permanent failure is not retried")
                let effects = try await store.queueProbes.effects(for: admin)
                #expect(effects == ["s1:step-1": 1, "s1:step-2": 1, "s1:undo-2": 1, "s1:undo-1": 1])
            }
        }
    }
}
