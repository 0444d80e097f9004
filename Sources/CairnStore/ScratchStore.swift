import Foundation
public import Logging

extension CairnStore {
    /// A migrated, empty store that exists only while `body` runs: a SQLite file in a fresh
    /// temporary directory, or (given `postgres`) a schema of its own in that database, dropped
    /// afterwards. `cairn bench` and the tests run in these.
    public static func withScratch<Result: Sendable>(
        postgres: PostgresLocation?,
        maximumConnections: Int,
        schema: DatabaseSchema,
        logger: Logger,
        _ body: @Sendable (CairnStore) async throws -> Result
    ) async throws -> Result {
        guard let postgres else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-scratch-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let database = try await SQLiteDatabase.open(path: directory.appendingPathComponent("cairn.sqlite").path, logger: logger)
            do {
                let store = CairnStore(database: database, schema: schema)
                try await store.migrator(logger: logger).migrate()
                let result = try await body(store)
                try await database.close()
                return result
            } catch {
                try? await database.close()
                throw error
            }
        }
        return try await PostgresDatabase.withScratchSchema(prefix: "scratch_", on: postgres, logger: logger) { schemaName in
            let database = PostgresDatabase(location: postgres, maximumConnections: maximumConnections, searchPath: schemaName, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await database.run() }
                defer { group.cancelAll() }
                let store = CairnStore(database: database, schema: schema)
                try await store.migrator(logger: logger).migrate()
                return try await body(store)
            }
        }
    }
}
