import CairnCore
import CairnJobs
import CairnRuntime
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@Suite("Enqueue notifications")
struct AnnouncementThrottleTests {
    @Test("Within a window one enqueue notifies; one that missed out gets exactly one trailing notification")
    func throttle() async throws {
        let clock = ManualClock()
        let throttle = AnnouncementThrottle(window: .seconds(1), clock: clock)
        let sent = Shared(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await throttle.run { sent.value.withLock { $0 += 1 } } }
            #expect(throttle.claim())
            #expect(!throttle.claim(), "a second enqueue inside the window goes without")
            throttle.missed()
            throttle.missed()
            try await eventually("the trailing notification to wait for the window's end") { clock.sleeping == 1 }
            clock.advance(by: .milliseconds(999))
            #expect(sent.value.withLock { $0 } == 0 && !throttle.claim(), "still inside the window")
            clock.advance(by: .milliseconds(1))
            try await eventually("the trailing notification") { sent.value.withLock { $0 } == 1 }
            #expect(!throttle.claim(), "the trailing notification opened a window of its own")
            clock.advance(by: .seconds(1))
            #expect(throttle.claim(), "after the window an enqueue notifies again")
            #expect(sent.value.withLock { $0 } == 1, "two missed enqueues share one trailing notification")
            group.cancelAll()
        }
    }

    @Test(
        "A burst of enqueues on PostgreSQL sends far fewer notifications than jobs, and one arrives after the last job commits",
        .enabled(if: TestEngine.postgresURL != nil, "needs CAIRN_TEST_DATABASE_URL")
    )
    func burst() async throws {
        // A database of its own: notifications reach every listener in a database, and the
        // other suites enqueue in theirs at the same time.
        let location = try PostgresLocation(url: try #require(TestEngine.postgresURL))
        try await withDedicatedPostgresDatabase(on: location, prefix: "notify") { dedicated in
            try await burst(on: dedicated)
        }
    }

    private func burst(on dedicated: PostgresLocation) async throws {
        try await CairnStore.withScratch(postgres: dedicated, maximumConnections: 4, schema: .cairn, logger: Logger(label: "test")) { store in
            let admin = try await makeTenant(store, "northbank")
            let heard = Shared<[ContinuousClock.Instant]>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.database.listenForWork { heard.value.withLock { $0.append(.now) } } }
                // LISTEN starts in the background; enqueue until it hears one, then start afresh.
                while heard.value.withLock({ $0.isEmpty }) {
                    _ = try await store.jobs.enqueue(.init(kind: "probe"), by: admin)
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(50))
                heard.value.withLock { $0 = [] }
                // Concurrent, as a burst from many requests is: on a loaded machine one enqueue
                // after another can each take longer than the window, and then none coalesce.
                try await withThrowingTaskGroup(of: Void.self) { burst in
                    for _ in 0..<39 { burst.addTask { _ = try await store.jobs.enqueue(.init(kind: "burst"), by: admin) } }
                    try await burst.waitForAll()
                }
                // The last job's news comes from its own NOTIFY, sent at its commit, or from the
                // trailing one sent after it; either is heard after the enqueue began. (An
                // earlier job's NOTIFY went out before it.)
                let lastStarted = ContinuousClock.now
                _ = try await store.jobs.enqueue(.init(kind: "burst"), by: admin)
                // The loop ends as soon as it is heard; the deadline only bounds a failure.
                let deadline = ContinuousClock.now + .seconds(30)
                while heard.value.withLock({ $0.last.map { $0 < lastStarted } ?? true }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let times = heard.value.withLock { $0 }
                #expect(times.contains { $0 >= lastStarted }, "the last job's news arrives after it was enqueued")
                #expect(times.count < 40, "heard \(times.count) notifications for 40 jobs")
                group.cancelAll()
            }
        }
    }
}

/// A value the test and a background task both touch.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ initial: Value) { value = Mutex(initial) }
}
