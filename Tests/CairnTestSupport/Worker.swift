public import CairnJobs
public import CairnStore
import Logging
import ServiceLifecycle

/// Runs a worker over `store` while `body` runs, then shuts it down gracefully.
public func withWorker<Result: Sendable>(
    _ store: CairnStore,
    _ handlers: [any JobHandler],
    // A lease no test outlives: a 10 s one lapsed between heartbeats under a full CI load, and a
    // lapse adds an attempt and an error the tests do not script. The reaper has tests of its own.
    configuration: WorkerConfiguration = WorkerConfiguration(
        concurrency: 4,
        lease: .seconds(120),
        pollInterval: .milliseconds(100),
        gracePeriod: .seconds(2)
    ),
    _ body: @Sendable (Worker) async throws -> Result
) async throws -> Result {
    let worker = Worker(store: store, catalog: JobCatalog(handlers), configuration: configuration, logger: Logger(label: "cairn.test.worker"))
    let group = ServiceGroup(services: [worker], logger: Logger(label: "cairn.test"))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body(worker)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}
