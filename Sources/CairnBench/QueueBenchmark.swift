import CairnCore
import CairnJobs
public import CairnStore
import Foundation
public import Logging
import ServiceLifecycle
import Synchronization

/// `cairn bench queue`: no-op jobs through the whole queue (enqueue + claim + complete).
///
/// Producers and workers run at once, as in production: the figure is jobs fully processed
/// per second, from the first enqueue to the last completion. A worker is what one
/// `cairn worker` process runs (a dispatcher, its slots, its claim and completion sessions);
/// each has a producer beside it. Unbatched, producers enqueue one job per call (one statement
/// on PostgreSQL); batched, 500 per call. The store must be empty and dedicated to the run.
public struct QueueBenchmark: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case unbatched
        case batched
    }

    public let store: CairnStore
    public let logger: Logger

    public init(store: CairnStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Runs `jobs` no-op jobs with `workers` workers of `concurrency` slots and as many
    /// producers as workers; returns jobs per second.
    ///
    /// The clock starts after a warm-up of as many jobs (batched) and a refresh of the planner's
    /// statistics: a fresh scratch table has neither history nor statistics, and the figure
    /// would otherwise be the queue's first seconds after `cairn migrate`, not its steady state.
    public func run(jobs: Int, workers: Int, concurrency: Int, mode: Mode) async throws -> Double {
        let tenant = try await store.tenants.create(name: try TenantName("bench-\(UUID().uuidString.prefix(8).lowercased())"), actor: "bench")
        let producer = Principal.localAdministrator(of: tenant)
        let handled = Counter()
        // One tenant, so no fairness cap: a tenant's running count includes jobs whose success is
        // still being written, and a cap of exactly the slots would idle a slot for each write.
        let configuration = WorkerConfiguration(concurrency: concurrency, perTenantConcurrency: 1_000_000, pollInterval: .milliseconds(20))
        let pool = (0..<workers).map { _ in
            Worker(store: store, catalog: JobCatalog([NoOp(handled: handled)]), configuration: configuration, logger: logger)
        }
        let group = ServiceGroup(services: pool, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await process(jobs, mode: .batched, producers: workers, as: producer, untilHandled: jobs, counter: handled)
            try await store.jobs.refreshStatistics()
            let started = ContinuousClock.now
            try await process(jobs, mode: mode, producers: workers, as: producer, untilHandled: 2 * jobs, counter: handled)
            let elapsed = ContinuousClock.now - started
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return Double(jobs) / elapsed.inSeconds
        }
    }

    /// Enqueues `jobs` from `producers` concurrent producers and returns once `handled` reaches
    /// `total` and every success has been recorded.
    private func process(
        _ jobs: Int,
        mode: Mode,
        producers: Int,
        as producer: Principal,
        untilHandled total: Int,
        counter handled: Counter
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for share in Self.shares(of: jobs, among: producers) {
                group.addTask {
                    switch mode {
                    case .unbatched:
                        for _ in 0..<share { _ = try await store.jobs.enqueue(.init(kind: NoOp.name), by: producer) }
                    case .batched:
                        var left = share
                        while left > 0 {
                            let size = min(500, left)
                            _ = try await store.jobs.enqueueBatch(Array(repeating: .init(kind: NoOp.name), count: size), by: producer)
                            left -= size
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        while handled.value < total { try await Task.sleep(for: .milliseconds(2)) }
        // Completions are recorded in batches after their handlers return; wait for them too.
        while try await store.jobs.list(for: producer, state: .running, limit: 1).items.isEmpty == false {
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    private static func shares(of total: Int, among count: Int) -> [Int] {
        (0..<count).map { total / count + ($0 < total % count ? 1 : 0) }
    }

    /// Counts handler runs.
    final class Counter: Sendable {
        private let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    struct NoOp: JobHandler {
        static let name = "bench.noop"
        let kind = NoOp.name
        let handled: Counter

        func run(_ job: JobContext) async throws -> String? {
            handled.increment()
            return nil
        }
    }
}
