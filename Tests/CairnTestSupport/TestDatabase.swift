public import CairnCore
public import CairnRuntime
public import CairnStore
import Foundation
import Logging

/// The engines a store test runs on. PostgreSQL joins when `CAIRN_TEST_DATABASE_URL` is set,
/// which `scripts/test.sh` always does; `TestEngine.postgresIsRequired` makes CI fail rather
/// than quietly skip it.
public enum TestEngine: String, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public static var all: [TestEngine] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["CAIRN_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `scripts/test.sh` (and so CI) must exercise PostgreSQL; a plain `swift test` may not.
    public static var postgresIsRequired: Bool {
        ProcessInfo.processInfo.environment["CAIRN_REQUIRE_POSTGRES"] == "1" || ProcessInfo.processInfo.environment["CI"] != nil
    }

    public var description: String { rawValue }
}

/// Runs `body` with a freshly migrated, empty store on `engine`, and removes it afterwards:
/// a temporary SQLite file, or a PostgreSQL schema of its own (so tests run in parallel).
/// `schema` is the whole of Cairn's unless a test needs another.
public func withTestStore<Result: Sendable>(
    _ engine: TestEngine,
    schema: DatabaseSchema = .cairn,
    _ body: @Sendable (CairnStore) async throws -> Result
) async throws -> Result {
    let postgres: PostgresLocation?
    switch engine {
    case .sqlite:
        postgres = nil
    case .postgres:
        guard let url = TestEngine.postgresURL else {
            throw CairnError(.misconfigured, "CAIRN_TEST_DATABASE_URL is not set; run scripts/test.sh.")
        }
        postgres = try PostgresLocation(url: url)
    }
    return try await CairnStore.withScratch(postgres: postgres, maximumConnections: 8, schema: schema, logger: Logger(label: "cairn.test"), body)
}

/// Runs `body` with a PostgreSQL database of its own on the server at `location`, created empty
/// (named `prefix_…`) and dropped afterwards, also when `body` throws. For what a schema cannot
/// isolate: notifications reach every listener in a database, and the CLI takes a URL.
public func withDedicatedPostgresDatabase<Result: Sendable>(
    on location: PostgresLocation,
    prefix: String,
    _ body: (PostgresLocation) async throws -> Result
) async throws -> Result {
    let name = "\(prefix)_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    try await administer("CREATE DATABASE \(name)", on: location)
    var dedicated = location
    dedicated.database = name
    let result: Result
    do {
        result = try await body(dedicated)
    } catch {
        try? await administer("DROP DATABASE \(name) WITH (FORCE)", on: location)
        throw error
    }
    try await administer("DROP DATABASE \(name) WITH (FORCE)", on: location)
    return result
}

/// Runs one statement outside any test database, tried up to five times. With suites creating
/// and dropping databases at once, PostgreSQL can refuse one for a moment (a CI run failed on a
/// drop); a refusal that lasts is reported with the server's own words, which `PSQLError`'s
/// description hides.
private func administer(_ sql: String, on location: PostgresLocation) async throws {
    for attempt in 1...5 {
        do {
            try await PostgresDatabase.executeOutsidePool(sql, on: location, logger: Logger(label: "cairn.test.admin"))
            return
        } catch  where attempt < 5 {
            try await Task.sleep(for: .milliseconds(500 * attempt))
        } catch {
            throw CairnError(.internalFailure, "\(sql) failed five times: \(String(reflecting: error))")
        }
    }
}

/// Creates tenant `name` and returns its local administrator, the usual actor of store tests.
public func makeTenant(_ store: CairnStore, _ name: String) async throws -> Principal {
    .localAdministrator(of: try await store.tenants.create(name: TenantName(name), actor: "test"))
}
