public import CairnStore
import Foundation
public import Logging
public import ServiceLifecycle
import Tracing

/// Platform work that runs on a cron schedule: retention, audit verification.
public struct RecurringTask: Sendable {
    /// Unique; names the schedule's row, and so its lease.
    public let name: String
    public let schedule: CronSchedule
    let work: @Sendable (Logger) async throws -> Void

    public init(name: String, schedule: CronSchedule, work: @escaping @Sendable (Logger) async throws -> Void) {
        self.name = name
        self.schedule = schedule
        self.work = work
    }
}

/// Runs recurring tasks on exactly one node at a time, wherever workers run.
///
/// Every node checks each `checkInterval` which tasks are due, and runs a due task only after
/// winning its lease (`RecurringSchedules.acquire`). The winner renews the lease while the
/// task runs and, when it ends, records the outcome and the next due time; a node that dies
/// mid-run lets its lease expire and another node runs the task again. A failing run is
/// logged and recorded on the schedule (`last_error`), and waits for its next due time.
public final class RecurringScheduler: Service {
    private let store: CairnStore
    private let tasks: [RecurringTask]
    private let owner: String
    private let lease: Duration
    private let checkInterval: Duration
    private let logger: Logger

    public init(store: CairnStore, tasks: [RecurringTask], lease: Duration = .seconds(60), checkInterval: Duration = .seconds(15), logger: Logger) {
        self.store = store
        self.tasks = tasks
        self.owner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
        self.lease = lease
        self.checkInterval = checkInterval
        self.logger = logger
    }

    public func run() async throws {
        // Each check runs to the end of whatever task it started; shutdown waits for it (a
        // killed run is taken over once its lease expires). Tasks are registered once, at the
        // first check that reaches the database.
        var registered = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if !registered { registered = await registerTasks() }
            if registered { await runDueTasks() }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.checkInterval) }
        }
    }

    /// Adds each task's schedule row (kept as it is unless its expression changed).
    private func registerTasks() async -> Bool {
        do {
            for task in tasks {
                try await store.recurringSchedules.register(
                    task.name,
                    schedule: task.schedule.description,
                    firstRun: task.schedule.next(after: Date()) ?? Date()
                )
            }
            return true
        } catch {
            logger.warning("Registering the recurring tasks failed; retrying at the next check", metadata: ["error": "\(String(reflecting: error))"])
            return false
        }
    }

    /// Runs the registered tasks that are due and whose lease this node wins.
    func runDueTasks() async {
        for task in tasks {
            do {
                guard try await store.recurringSchedules.acquire(task.name, owner: owner, leaseFor: lease) else { continue }
            } catch {
                logger.warning("Checking a recurring task failed", metadata: ["task": "\(task.name)", "error": "\(String(reflecting: error))"])
                continue
            }
            let failure = await run(task)
            do {
                let finished = Date()
                try await store.recurringSchedules.finish(
                    task.name,
                    owner: owner,
                    nextRun: task.schedule.next(after: finished) ?? finished.addingTimeInterval(86_400),
                    error: failure,
                    now: finished
                )
            } catch {
                // The lease runs out and another node runs the task again: at least once.
                logger.warning(
                    "Recording a recurring task's run failed",
                    metadata: ["task": "\(task.name)", "error": "\(String(reflecting: error))"]
                )
            }
        }
    }

    /// Runs the task beside its lease renewal; returns the failure message, if it failed.
    private func run(_ task: RecurringTask) async -> String? {
        var taskLogger = self.logger
        taskLogger[metadataKey: "task"] = "\(task.name)"
        let logger = taskLogger
        logger.info("Recurring task started")
        return await withSpan("recurring \(task.name)") { span in
            let failure: String? = await withTaskGroup(of: String??.self) { group in
                group.addTask {
                    do {
                        try await task.work(logger)
                        return .some(nil)
                    } catch {
                        return .some(String(describing: error))
                    }
                }
                group.addTask {
                    await self.renewLease(of: task.name, logger: logger)
                    return nil
                }
                var outcome: String? = "The run stopped because this node lost the task's lease."
                for await finished in group {
                    if let finished {
                        outcome = finished
                        break
                    }
                }
                group.cancelAll()
                return outcome
            }
            if let failure {
                span.setStatus(SpanStatus(code: .error, message: failure))
                logger.error("Recurring task failed", metadata: ["error": "\(failure)"])
            } else {
                logger.info("Recurring task finished")
            }
            return failure
        }
    }

    /// Renews every third of the lease; returns (ending the run) only if the lease was lost.
    private func renewLease(of name: String, logger: Logger) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: lease / 3)
            if Task.isCancelled { return }
            do {
                if try await !store.recurringSchedules.renew(name, owner: owner, leaseFor: lease) { return }
            } catch {
                logger.warning("Renewing a recurring task's lease failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
