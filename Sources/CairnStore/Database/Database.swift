public import CairnCore
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
    /// SQLite only: set when the transaction enqueued jobs, rung after COMMIT.
    let jobsAnnounced: CommitFlag?

    init(sql: any SQLDatabase, engine: DatabaseEngine, jobsAnnounced: CommitFlag? = nil) {
        self.sql = sql
        self.engine = engine
        self.jobsAnnounced = jobsAnnounced
    }

    /// Tells idle workers, once this transaction commits, that jobs are ready. On PostgreSQL
    /// it is `NOTIFY`, which the server delivers only on commit and to every listening node;
    /// on SQLite it wakes this process's workers after COMMIT.
    func announceJobs() async throws {
        switch engine {
        case .postgres: try await sql.raw("SELECT pg_notify(\(bind: JobBell.channel), '')").run()
        case .sqlite: jobsAnnounced?.set()
        }
    }

    /// `FOR UPDATE` on PostgreSQL; empty on SQLite, whose transactions already hold the
    /// single write lock (they start with `BEGIN IMMEDIATE`).
    var rowLockClause: SQLQueryString {
        engine == .postgres ? " FOR UPDATE" : ""
    }
}

/// A database Cairn can run transactions against. Both engines implement the same contract.
public protocol Database: Sendable {
    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<Result: Sendable>(
        _ scope: TransactionScope,
        _ body: @Sendable (Transaction) async throws -> Result
    ) async throws -> Result

    /// A cheap round trip, for `/readyz`.
    func ping() async throws

    /// Calls `wake` each time a committed transaction announced jobs, until cancelled: on
    /// PostgreSQL by `LISTEN` on a pooled connection (hearing every node), on SQLite within
    /// this process. Workers poll as well, so a lost notification only delays a claim.
    func listenForJobs(_ wake: @escaping @Sendable () -> Void) async throws
}
