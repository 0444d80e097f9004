import CairnCore
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CairnJobs

@Suite("Recurring tasks")
struct RecurringSchedulerTests {
    private let logger = Logger(label: "cairn.test.scheduler")

    @Test("Two nodes checking a due task at once run it exactly once; it is then due at its next firing time", arguments: TestEngine.all)
    func oneNodeAtATime(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let runs = Mutex(0)
            // Yearly, so that the next firing time cannot pass while the test runs, as an hourly
            // one could at the turn of an hour.
            let schedule = try CronSchedule("0 0 1 1 *")
            let task = RecurringTask(name: "probe", schedule: schedule) { _ in
                runs.withLock { $0 += 1 }
                // Long enough that the other node checks while this run holds the lease.
                try await Task.sleep(for: .milliseconds(300))
            }
            let nodes = (0..<2).map { _ in RecurringScheduler(store: store, tasks: [task], logger: logger) }
            // Registered an hour ago, so the first firing time has passed.
            let anHourAgo = Date().addingTimeInterval(-3600)
            try await store.recurringSchedules.register("probe", schedule: schedule.description, firstRun: anHourAgo)
            await withDiscardingTaskGroup { group in
                for node in nodes { group.addTask { await node.runDueTasks() } }
            }
            #expect(runs.withLock { $0 } == 1)
            let entry = try #require(try await store.recurringSchedules.all().first)
            #expect(entry.leaseOwner == nil && entry.lastError == nil && entry.lastFinishedAt != nil)
            let finished = try #require(entry.lastFinishedAt)
            #expect(entry.nextRunAt > Date() && entry.nextRunAt == schedule.next(after: finished))
            // Not due again yet: another check runs nothing.
            await nodes[1].runDueTasks()
            #expect(runs.withLock { $0 } == 1)
        }
    }

    @Test("A node that dies mid-run holds the task only until its lease expires; a failing run is recorded", arguments: TestEngine.all)
    func leaseExpiry(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let schedules = store.recurringSchedules
            let start = Date()
            try await schedules.register("retention", schedule: "15 3 * * *", firstRun: start)
            #expect(try await schedules.acquire("retention", owner: "dead-node", leaseFor: .seconds(60), now: start))
            #expect(try await schedules.acquire("retention", owner: "live-node", leaseFor: .seconds(60), now: start.addingTimeInterval(30)) == false)
            #expect(try await schedules.renew("retention", owner: "live-node", leaseFor: .seconds(60)) == false)
            #expect(try await schedules.acquire("retention", owner: "live-node", leaseFor: .seconds(60), now: start.addingTimeInterval(61)))
            try await schedules.finish("retention", owner: "dead-node", nextRun: start, error: "late", now: start.addingTimeInterval(62))
            #expect(try await schedules.all().first?.leaseOwner == "live-node", "a stale owner cannot end the new owner's run")
            let next = start.addingTimeInterval(86_400)
            try await schedules.finish("retention", owner: "live-node", nextRun: next, error: "The disk is full.", now: start.addingTimeInterval(63))
            let entry = try #require(try await schedules.all().first)
            #expect(entry.leaseOwner == nil && entry.lastError == "The disk is full." && abs(entry.nextRunAt.timeIntervalSince(next)) < 0.001)
            // Editing the expression reschedules; re-registering the same one does not.
            try await schedules.register("retention", schedule: "15 3 * * *", firstRun: start)
            #expect(abs(try #require(try await schedules.all().first).nextRunAt.timeIntervalSince(next)) < 0.001)
            try await schedules.register("retention", schedule: "0 4 * * *", firstRun: start)
            #expect(abs(try #require(try await schedules.all().first).nextRunAt.timeIntervalSince(start)) < 0.001)
        }
    }

    @Test("Retention prunes finished jobs past the age and expired idempotency keys; nothing else", arguments: TestEngine.all)
    func retention(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let old = Date().addingTimeInterval(-40 * 86_400)
            _ = try await store.jobs.enqueueBatch((0..<3).map { _ in .init(kind: "old") }, by: admin, now: old)
            let claimed = try await store.jobs.claim(worker: "w", limit: 3, leaseFor: .seconds(60), perTenantCap: 10, now: old)
            _ = try await store.jobs.complete(claimed.map { .init(id: $0.id) }, worker: "w", now: old)
            let recent = try await store.jobs.enqueue(.init(kind: "recent"), by: admin).job
            let waitingOld = try await store.jobs.enqueue(.init(kind: "waiting", runAt: old), by: admin, now: old).job
            _ = try await store.idempotency.reserve(
                "k-old",
                scope: .tenant(admin.tenantID),
                fingerprint: "f",
                lockFor: .seconds(10),
                keepFor: .seconds(1),
                now: old
            )
            // Locked for an hour: a lock that lapsed on a slow machine would let the check below
            // take the key over, whatever retention did.
            _ = try await store.idempotency.reserve(
                "k-new",
                scope: .tenant(admin.tenantID),
                fingerprint: "f",
                lockFor: .seconds(3600),
                keepFor: .seconds(86_400)
            )

            let task = RecurringTask.retention(store: store, schedule: try CronSchedule("15 3 * * *"), keepFinishedJobs: .seconds(30 * 86_400))
            try await task.work(logger)

            let left = try await store.jobs.list(for: admin, limit: 100).items.map(\.id)
            #expect(Set(left) == [recent.id, waitingOld.id], "only finished jobs past the age go")
            #expect(try await store.idempotency.purgeExpired() == 0)
            let kept = try await store.idempotency.reserve(
                "k-new",
                scope: .tenant(admin.tenantID),
                fingerprint: "f",
                lockFor: .seconds(10),
                keepFor: .seconds(86_400)
            )
            #expect(kept != .reserved, "the unexpired key is still there")
        }
    }
}
