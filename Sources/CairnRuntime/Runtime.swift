package import CairnCore
import CairnServer
package import CairnStore
package import Logging
package import ServiceLifecycle

/// The configured database, opened. PostgreSQL's pool is a service that must run while used.
package enum OpenedDatabase {
    case sqlite(SQLiteDatabase)
    case postgres(PostgresDatabase)

    package static func open(_ location: DatabaseLocation, logger: Logger) async throws(CairnError) -> OpenedDatabase {
        switch location {
        case .sqlite(let path): .sqlite(try await SQLiteDatabase.open(path: path, logger: logger))
        case .postgres(let postgres): .postgres(PostgresDatabase(location: postgres, logger: logger))
        }
    }

    package var database: any Database {
        switch self {
        case .sqlite(let database): database
        case .postgres(let database): database
        }
    }

    /// The service to run beside the server, if the engine needs one.
    package var service: (any Service)? {
        if case .postgres(let database) = self { database } else { nil }
    }

    package func close() async {
        if case .sqlite(let database) = self { try? await database.close() }
    }
}

/// What a one-shot command needs of the schema before it runs.
package enum SchemaPolicy {
    /// Current: the embedded database is migrated on the spot (it belongs to this installation
    /// alone); PostgreSQL with pending migrations is refused with a sentence saying what to run.
    case current
    /// Whatever state it is in: `cairn migrate` itself.
    case asIs
}

/// Runs `body` against the configured database, for one-shot commands: the PostgreSQL pool
/// runs in a child task for exactly as long as `body` does.
package func withStore<Result: Sendable>(
    _ settings: Settings,
    logger: Logger,
    schema: SchemaPolicy = .current,
    _ body: @Sendable (CairnStore) async throws -> Result
) async throws -> Result {
    let location = try settings.databaseLocation
    let opened = try await OpenedDatabase.open(location, logger: logger)
    let store = CairnStore(database: opened.database, schema: .cairn)
    do {
        let result: Result
        if case .postgres(let postgres) = opened {
            try await postgres.checkConnection()
            result = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await postgres.run() }
                defer { group.cancelAll() }
                if schema == .current, try await !store.migrator(logger: logger).pending().isEmpty {
                    throw CairnError(.misconfigured, "The database schema is not current; run 'cairn migrate' first.")
                }
                return try await body(store)
            }
        } else {
            if schema == .current {
                try await store.migrator(logger: logger).migrate()
            }
            result = try await body(store)
        }
        await opened.close()
        return result
    } catch let error as CairnError {
        await opened.close()
        throw error
    } catch {
        await opened.close()
        // The connection itself was checked first, so this is a failure inside the command.
        logger.error("Command failed", metadata: ["database": "\(location)", "error": "\(String(reflecting: error))"])
        throw CairnError(
            .internalFailure,
            "The command failed against the database at \(location); the log line above has the cause.",
            underlying: error
        )
    }
}

/// Parses one of a fixed set of named values (a role, a job state), or says which exist.
package func parseChoice<Choice: RawRepresentable & CaseIterable>(_ text: String, as noun: String) throws(CairnError) -> Choice
where Choice.RawValue == String {
    guard let choice = Choice(rawValue: text) else {
        throw CairnError(.invalidInput, "'\(text.prefix(80))' is not \(noun); use one of \(Choice.allCases.map(\.rawValue).joined(separator: ", ")).")
    }
    return choice
}

extension TenantRepository {
    /// The tenant a command names; a sentence saying how to create it when there is none.
    package func existing(_ name: TenantName) async throws -> Tenant {
        guard let tenant = try await find(name: name) else {
            throw CairnError(.notFound, "There is no tenant named '\(name)'; create it with 'cairn tenant create \(name)'.")
        }
        return tenant
    }
}
