public import CairnCore
import Foundation
public import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// The embedded engine: one SQLite file in WAL mode, one connection, transactions in FIFO order.
///
/// SQLite admits a single writer at a time anyway; serialising transactions in-process turns
/// `SQLITE_BUSY` retries into an orderly queue. Hot read paths (API-key checks) are cached
/// above the store, so the single connection is not the throughput limit.
///
/// Each database runs its blocking SQLite calls on a thread of its own: a call waiting out
/// `busy_timeout` on a file another process is writing then stalls only this database, never
/// every SQLite database in the process (as a shared thread pool would).
public final class SQLiteDatabase: Database {
    private let connection: SQLiteConnection
    private let thread: NIOThreadPool
    private let gate = TransactionGate()
    private let bell = WorkBell()
    private let logger: Logger

    private init(connection: SQLiteConnection, thread: NIOThreadPool, logger: Logger) {
        self.connection = connection
        self.thread = thread
        self.logger = logger
    }

    /// Opens (creating if needed) the database file and its parent directory.
    public static func open(path: String, logger: Logger) async throws(CairnError) -> SQLiteDatabase {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let connection = try await SQLiteConnection.open(
                storage: .file(path: path),
                threadPool: thread,
                logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any()
            )
            do {
                let sql = connection.sql()
                for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000"] {
                    // Fixed PRAGMA text, no user input.
                    try await sql.raw(SQLQueryString(pragma)).run()
                }
            } catch {
                try? await connection.close()
                throw error
            }
            return SQLiteDatabase(connection: connection, thread: thread, logger: logger)
        } catch {
            try? await thread.shutdownGracefully()
            throw CairnError(.unavailable, "Cannot open the SQLite database at \(path).", underlying: error)
        }
    }

    public func transaction<Result: Sendable>(
        _ scope: TransactionScope,
        _ body: @Sendable (Transaction) async throws -> Result
    ) async throws -> Result {
        await gate.enter()
        do {
            let sql = connection.sql()
            // IMMEDIATE takes the write lock up front, so read-then-write sequences (the audit
            // chain head) cannot interleave with another process sharing the file.
            try await sql.raw("BEGIN IMMEDIATE").run()
            let workAnnounced = CommitFlag()
            do {
                let result = try await body(Transaction(sqlite: sql, workAnnounced: workAnnounced))
                try await Self.end(with: "COMMIT", on: sql)
                await gate.leave()
                if workAnnounced.isSet { bell.ring() }
                return result
            } catch {
                do { try await Self.end(with: "ROLLBACK", on: sql) } catch { logger.error("SQLite rollback failed: \(String(reflecting: error))") }
                throw error
            }
        } catch {
            await gate.leave()
            throw error
        }
    }

    /// Runs COMMIT or ROLLBACK whether or not the calling task has been cancelled. SQLite's
    /// statements run on NIO's thread pool, which drops work submitted by a cancelled task: a
    /// worker cancelled at shutdown then left the one shared connection inside its transaction,
    /// and every later BEGIN failed ("cannot start a transaction within a transaction"). A new
    /// task does not inherit the cancellation.
    private static func end(with statement: SQLQueryString, on sql: any SQLDatabase) async throws {
        try await Task { try await sql.raw(statement).run() }.value
    }

    public func ping() async throws {
        _ = try await connection.sql().raw("SELECT 1").all()
    }

    public var engine: DatabaseEngine { .sqlite }

    public var workAnnouncements: AnnouncementThrottle? { nil }

    public func withUnscopedConnection<Result: Sendable>(_ body: @Sendable (Transaction) async throws -> Result) async throws -> Result {
        try await transaction(.platform, body)
    }

    public func withPlatformSession<Result: Sendable>(
        _ body: @Sendable (any PlatformSession) async throws -> Result
    ) async throws -> Result {
        try await body(SQLitePlatformSession(database: self))
    }

    public func listenForWork(_ wake: @escaping @Sendable () -> Void) async throws {
        await bell.listen(wake)
    }

    /// Closes the connection and stops its thread; the object must not be used afterwards.
    /// Closes the connection and its thread, also when the calling task has been cancelled (a
    /// test past its time limit, a command interrupted): the thread pool would drop the close
    /// of a cancelled task, and SQLiteNIO traps on a connection released without one. A new
    /// task does not inherit the cancellation, as in `end(with:on:)`.
    public func close() async throws {
        let (connection, thread) = (connection, thread)
        try await Task {
            do {
                try await connection.close()
            } catch {
                try? await thread.shutdownGracefully()
                throw error
            }
            try await thread.shutdownGracefully()
        }.value
    }
}

/// The embedded engine's platform session: each run is a transaction on the one connection,
/// queued behind any other (a bare statement could land inside another task's transaction).
struct SQLitePlatformSession: PlatformSession {
    let database: SQLiteDatabase

    func run<Result: Sendable>(_ body: @Sendable (Transaction) async throws -> Result) async throws -> Result {
        try await database.transaction(.platform, body)
    }
}

/// A FIFO asynchronous mutex: at most one transaction holds the connection at a time.
actor TransactionGate {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func leave() {
        if waiters.isEmpty {
            held = false
        } else {
            // Ownership passes straight to the next waiter; `held` stays true.
            waiters.removeFirst().resume()
        }
    }
}
