public import CairnCore
package import Logging
import PostgresKit
package import PostgresNIO
public import SQLKit

/// Which SQL engine a transaction runs on, for the few statements whose syntax differs.
public enum DatabaseEngine: Sendable {
    case sqlite
    case postgres
}

/// Whose rows a transaction may touch.
///
/// On PostgreSQL the scope becomes a per-transaction setting that row-level security checks,
/// so a query that forgets its `tenant_id` predicate still sees only the scoped tenant's rows.
/// On SQLite there is no second wall; repositories' own predicates are the only one.
public enum TransactionScope: Sendable, Equatable {
    /// One tenant's rows only.
    case tenant(TenantID)
    /// Platform work that spans tenants: authentication look-ups by key id, tenant
    /// administration, audit verification. Never used for a request's own data.
    case platform
}

/// An open transaction: the SQL handle plus the engine, for dialect-specific statements.
public struct Transaction: Sendable {
    public let sql: any SQLDatabase
    public let engine: DatabaseEngine
    /// SQLite only: set when the transaction announced work, rung after COMMIT.
    package let workAnnounced: CommitFlag?
    /// PostgreSQL only: the connection itself, for prepared statements.
    package let postgres: (connection: PostgresConnection, logger: Logger)?

    /// A transaction on SQLite's connection.
    package init(sqlite sql: any SQLDatabase, workAnnounced: CommitFlag) {
        self.sql = sql
        self.engine = .sqlite
        self.workAnnounced = workAnnounced
        self.postgres = nil
    }

    /// A transaction (or a platform session's autocommit statements) on a PostgreSQL connection.
    package init(postgres connection: PostgresConnection, logger: Logger) {
        self.sql = connection.sql()
        self.engine = .postgres
        self.workAnnounced = nil
        self.postgres = (connection, logger)
    }

    /// Tells idle workers, once this transaction commits, that there is work to claim (the job
    /// queue is the one user). On PostgreSQL it is `NOTIFY`, which the server delivers only on
    /// commit and to every listening node; on SQLite it wakes this process's listeners after COMMIT.
    package func announceWork() async throws {
        switch engine {
        case .postgres: try await sql.raw("SELECT pg_notify(\(bind: WorkBell.channel), '')").run()
        case .sqlite: workAnnounced?.set()
        }
    }

    /// `FOR UPDATE` on PostgreSQL; empty on SQLite, whose transactions already hold the
    /// single write lock (they start with `BEGIN IMMEDIATE`).
    package var rowLockClause: SQLQueryString {
        engine == .postgres ? " FOR UPDATE" : ""
    }
}

/// A database Cairn can run transactions against. Both engines implement the same contract.
public protocol Database: Sendable {
    var engine: DatabaseEngine { get }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<Result: Sendable>(
        _ scope: TransactionScope,
        _ body: @Sendable (Transaction) async throws -> Result
    ) async throws -> Result

    /// A cheap round trip, for `/readyz`.
    func ping() async throws

    /// Runs `body` on a pooled connection outside any transaction and any scope: each statement
    /// commits on its own, and on PostgreSQL row-level security admits no row to a statement
    /// that does not set its own scope (so a forgotten scope fails closed). For single
    /// statements that scope themselves: the enqueue's one-round-trip path. On SQLite, whose
    /// one connection is shared, `body` runs in a transaction.
    func withUnscopedConnection<Result: Sendable>(_ body: @Sendable (Transaction) async throws -> Result) async throws -> Result

    /// Runs `body` with a session of its own for a worker's hot path (claims, completions):
    /// platform-scoped statements that each commit on their own, without a transaction's
    /// round trips. On PostgreSQL it is a connection opened for the session and never shared
    /// with requests (so its platform scope cannot leak into one); on SQLite, whose single
    /// connection is shared, each run is a transaction.
    func withPlatformSession<Result: Sendable>(_ body: @Sendable (any PlatformSession) async throws -> Result) async throws -> Result

    /// Spaces out the work announcements of single enqueues; `nil` on SQLite, whose in-process
    /// bell costs a few callbacks.
    var workAnnouncements: AnnouncementThrottle? { get }

    /// Calls `wake` each time a committed transaction announced work, until cancelled: on
    /// PostgreSQL by `LISTEN` on a pooled connection (hearing every node), on SQLite within
    /// this process. Workers poll as well, so a lost notification only delays a claim.
    func listenForWork(_ wake: @escaping @Sendable () -> Void) async throws
}

/// Platform-scoped statements on a connection a worker holds (see `withPlatformSession`).
/// Each statement commits on its own: callers run single statements whose atomicity needs
/// nothing more.
public protocol PlatformSession: Sendable {
    func run<Result: Sendable>(_ body: @Sendable (Transaction) async throws -> Result) async throws -> Result
}
