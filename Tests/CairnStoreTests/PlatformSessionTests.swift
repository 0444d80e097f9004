import CairnCore
import CairnStore
import CairnTestSupport
import Foundation
import SQLKit
import Synchronization
import Testing

@Suite("Worker sessions")
struct PlatformSessionTests {
    @Test(
        "A worker's session whose connection the server ended (a restart, a failover) reconnects for its next statement instead of hanging",
        .enabled(if: TestEngine.postgresURL != nil, "needs CAIRN_TEST_DATABASE_URL")
    )
    func reconnectsAfterServerEndsConnection() async throws {
        try await withTestStore(.postgres) { store in
            try await store.database.withPlatformSession { session in
                let ended = try await Self.backendID(via: session)
                try await store.database.transaction(.platform) { try await $0.sql.raw("SELECT pg_terminate_backend(\(bind: ended)::int)").run() }
                // The server's close reaches the client as the end of the stream; wait for it.
                try await Task.sleep(for: .milliseconds(500))
                let answer = try await Self.withinTenSeconds { try await Self.backendID(via: session) }
                let next = try #require(answer, "the statement after the server ended the connection never returned")
                #expect(next != ended, "a new connection, a new backend")
            }
        }
    }

    private static func backendID(via session: any PlatformSession) async throws -> Int {
        try await session.run { try await $0.sql.raw("SELECT pg_backend_pid() AS pid").first()?.decode(column: "pid", as: Int.self) ?? -1 }
    }

    /// `operation`'s result, or nil when it has not returned after ten seconds. It runs unstructured:
    /// a statement postgres-nio never answers ignores cancellation, and a task group would wait
    /// for it forever, hanging the suite instead of failing this test.
    private static func withinTenSeconds<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T? {
        let outcome = Outcome<T>()
        let task = Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            outcome.value.withLock { $0 = result }
        }
        for _ in 0..<100 {
            if let result = outcome.value.withLock({ $0 }) { return try result.get() }
            try await Task.sleep(for: .milliseconds(100))
        }
        task.cancel()
        return nil
    }

    private final class Outcome<T: Sendable>: Sendable {
        let value = Mutex<Result<T, any Error>?>(nil)
    }
}
