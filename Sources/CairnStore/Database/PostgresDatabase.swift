public import CairnCore
import Foundation
public import Logging
import NIOSSL
import PostgresKit
package import PostgresNIO
import SQLKit
public import ServiceLifecycle

/// The production engine: a pooled PostgreSQL client whose transactions carry the tenant
/// scope into row-level security.
///
/// Run it as a `Service` (it owns the connection pool's background work).
public struct PostgresDatabase: Database, Service {
    private let client: PostgresClient
    private let location: PostgresLocation
    private let searchPath: String?
    private let logger: Logger
    private let announcements: AnnouncementThrottle

    /// - Parameter searchPath: schema to resolve table names in; tests give each case its own
    ///   schema this way. `nil` keeps the server's default (`public`).
    public init(location: PostgresLocation, maximumConnections: Int = 20, searchPath: String? = nil, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: location.host,
            port: location.port,
            username: location.username,
            password: location.password,
            database: location.database,
            tls: Self.tls(location.tls)
        )
        configuration.options.maximumConnections = maximumConnections
        // No keep-alive pings. postgres-nio 1.33 writes a query to its connection without a write
        // promise, so a query on a connection that has just closed is never answered; when that
        // query is the pool's keep-alive, `run()` waits for it forever. A test run hung so, on a
        // pool that sat idle while a keep-alive raced the connection's close. With no minimum
        // connections, an idle connection is closed after 60 s anyway, so the ping bought nothing.
        configuration.options.keepAliveBehavior = nil
        if let searchPath {
            configuration.options.additionalStartupParameters = [("search_path", searchPath)]
        }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.location = location
        self.searchPath = searchPath
        self.logger = logger
        // A dispatcher that found the queue drained waits 5 ms before its next claim
        // (`WorkerConfiguration.claimCooldown`); news more often than that wakes nobody sooner.
        self.announcements = AnnouncementThrottle(window: .milliseconds(5))
    }

    private static func tls(_ mode: PostgresLocation.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    public var engine: DatabaseEngine { .postgres }

    public var workAnnouncements: AnnouncementThrottle? { announcements }

    /// Runs the connection pool's background work and the deferred enqueue notifications until
    /// cancelled (graceful shutdown).
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                await announcements.run { [client, logger] in
                    try await client.query("SELECT pg_notify(\(WorkBell.channel), '')", logger: logger)
                }
            }
            // The pool stops on cancellation or graceful shutdown; the notifications stop with it.
            await client.run()
            group.cancelAll()
        }
    }

    public func transaction<Result: Sendable>(
        _ scope: TransactionScope,
        _ body: @Sendable (Transaction) async throws -> Result
    ) async throws -> Result {
        let (tenant, platform) =
            switch scope {
            case .tenant(let id): (id.description, "off")
            case .platform: ("", "on")
            }
        do {
            return try await client.withTransaction(logger: logger) { connection in
                // `true` makes both settings local to this transaction, so a pooled connection
                // never carries one request's tenant into the next.
                try await connection.query(
                    "SELECT set_config('cairn.tenant_id', \(tenant), true), set_config('cairn.platform', \(platform), true)",
                    logger: logger
                )
                return try await body(Transaction(postgres: connection, logger: logger))
            }
        } catch let error as PostgresTransactionError {
            // postgres-nio wraps the body's own error; callers must see it unwrapped, exactly as
            // on SQLite, so `notFound` stays `notFound`. A failed BEGIN, COMMIT or ROLLBACK is
            // the database's failure and stays wrapped.
            if let bodyError = error.closureError, error.rollbackError == nil {
                throw bodyError
            }
            throw error
        }
    }

    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger)
    }

    public func listenForWork(_ wake: @escaping @Sendable () -> Void) async throws {
        // The listening connection stays leased from the pool for as long as this runs.
        try await client.withConnection { connection in
            try await connection.listen(on: WorkBell.channel) { notifications in
                for try await _ in notifications { wake() }
            }
        }
    }

    public func withUnscopedConnection<Result: Sendable>(_ body: @Sendable (Transaction) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            try await body(Transaction(postgres: connection, logger: logger))
        }
    }

    public func withPlatformSession<Result: Sendable>(
        _ body: @Sendable (any PlatformSession) async throws -> Result
    ) async throws -> Result {
        let session = PostgresPlatformSession(logger: logger) { [self] () async throws(CairnError) -> PostgresConnection in
            try await connectOutsidePool(platform: true)
        }
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    /// Opens and closes one connection outside the pool, which would otherwise retry a
    /// refused or rejected connection indefinitely. One-shot commands call this first, so a
    /// wrong URL fails at once with the server's reason.
    public func checkConnection() async throws(CairnError) {
        try await withDirectConnection { _ in }
    }

    /// Why row-level security would not hold for the role Cairn connects as, if it would not:
    /// superusers and `BYPASSRLS` roles skip every policy. `nil` when the role is fine.
    public func rowLevelSecurityBypass() async throws(CairnError) -> String? {
        let username = location.username
        return try await withDirectConnection { connection in
            let rows = try await connection.query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user", logger: logger)
            for try await (superuser, bypass) in rows.decode((Bool, Bool).self) {
                if superuser { return "the role \(username) is a superuser" }
                if bypass { return "the role \(username) has BYPASSRLS" }
            }
            return nil
        }
    }

    /// Runs `body` on a connection of its own, outside the pool (which must run only once, as
    /// a service), and closes it.
    private func withDirectConnection<Result: Sendable>(
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws(CairnError) -> Result {
        let connection = try await connectOutsidePool(platform: false)
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw CairnError(.unavailable, "A check on the database at \(location) failed.", underlying: error)
        }
    }

    /// Opens a connection that is not the pool's. With `platform`, the platform scope is a
    /// startup parameter: the connection is platform-scoped from its first statement to its
    /// last, which is safe only because it is never handed to anything else.
    private func connectOutsidePool(platform: Bool) async throws(CairnError) -> PostgresConnection {
        try await Self.connect(to: location, searchPath: searchPath, platform: platform, logger: logger)
    }

    private static func connect(
        to location: PostgresLocation,
        searchPath: String?,
        platform: Bool,
        logger: Logger
    ) async throws(CairnError) -> PostgresConnection {
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls = try Self.connectionTLS(location.tls)
        } catch {
            throw CairnError(.misconfigured, "TLS for the database connection cannot be set up from the system's trust store.", underlying: error)
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.username,
            password: location.password,
            database: location.database,
            tls: tls
        )
        if let searchPath { configuration.options.additionalStartupParameters.append(("search_path", searchPath)) }
        if platform { configuration.options.additionalStartupParameters.append(("cairn.platform", "on")) }
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        } catch let error as PSQLError {
            let reason = error.serverInfo?[.message] ?? "the server could not be reached"
            throw CairnError(.unavailable, "Cannot use the database at \(location): \(reason).", underlying: error)
        } catch {
            throw CairnError(.unavailable, "Cannot use the database at \(location): the server could not be reached.", underlying: error)
        }
    }

    private static func connectionTLS(_ mode: PostgresLocation.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}

extension PostgresDatabase {
    /// Creates a schema named `<prefix><random>` in the database `location` names, runs `body`
    /// with its name, and drops it with everything in it, even on failure. Benchmarks and tests
    /// work in these, never among Cairn's own tables.
    public static func withScratchSchema<Result: Sendable>(
        prefix: String,
        on location: PostgresLocation,
        logger: Logger,
        _ body: @Sendable (String) async throws -> Result
    ) async throws -> Result {
        // Generated, lowercase: DDL cannot bind identifiers, and this one never holds input.
        let schema = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // Each statement on a connection of its own: they are minutes apart, and a pool held open
        // between them would only idle (see `keepAliveBehavior` in `init`).
        try await executeOutsidePool("CREATE SCHEMA \(schema)", on: location, logger: logger)
        do {
            let result = try await body(schema)
            try await executeOutsidePool("DROP SCHEMA \(schema) CASCADE", on: location, logger: logger)
            return result
        } catch {
            try? await executeOutsidePool("DROP SCHEMA \(schema) CASCADE", on: location, logger: logger)
            throw error
        }
    }

    /// Runs one statement (DDL, whose rows are discarded) on a connection opened for it and
    /// closed after it, in the database `location` names.
    public static func executeOutsidePool(_ sql: String, on location: PostgresLocation, logger: Logger) async throws {
        let connection = try await connect(to: location, searchPath: nil, platform: false, logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// A worker's own PostgreSQL connection (see `Database.withPlatformSession`). It connects on
/// first use and again once the server has closed its connection, so a database restart costs
/// the worker at most the statement that was running, not its session.
actor PostgresPlatformSession: PlatformSession {
    private let logger: Logger
    private let connect: @Sendable () async throws(CairnError) -> PostgresConnection
    /// Shared by concurrent first uses, so they open one connection, not one each.
    private var connection: Task<PostgresConnection, any Error>?

    init(logger: Logger, connect: @escaping @Sendable () async throws(CairnError) -> PostgresConnection) {
        self.logger = logger
        self.connect = connect
    }

    func run<Result: Sendable>(_ body: @Sendable (Transaction) async throws -> Result) async throws -> Result {
        let (current, opening) = try await openConnection()
        do {
            return try await body(Transaction(postgres: current, logger: logger))
        } catch {
            if current.isClosed, connection == opening { connection = nil }
            throw error
        }
    }

    /// The connection held, or a new one when none is held or the server has closed it.
    /// postgres-nio never answers a statement written to a closed connection (it writes without
    /// a write promise), so using one the server ended (a restart, a failover, an idle-session
    /// timeout) would hang the worker for good instead of failing a statement.
    private func openConnection() async throws -> (PostgresConnection, Task<PostgresConnection, any Error>) {
        for _ in 1...2 {
            let opening = connection ?? Task { try await connect() }
            connection = opening
            let current: PostgresConnection
            do {
                current = try await opening.value
            } catch {
                if connection == opening { connection = nil }
                throw error
            }
            if !current.isClosed { return (current, opening) }
            if connection == opening { connection = nil }
        }
        throw CairnError(.unavailable, "The database closed a new connection as soon as it was opened.")
    }

    func close() async {
        guard let opening = connection else { return }
        connection = nil
        try? await opening.value.close()
    }
}

extension Transaction {
    /// Runs a prepared statement: PostgreSQL plans it once per connection instead of on every
    /// call, which on the queue's hot path costs more than executing it. PostgreSQL only.
    package func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
        guard let (connection, logger) = postgres else {
            throw CairnError(.internalFailure, "A PostgreSQL statement was run on another engine.")
        }
        var rows: [Statement.Row] = []
        for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }
}
