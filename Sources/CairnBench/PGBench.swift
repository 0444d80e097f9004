import CairnCore
public import CairnStore
import Foundation
public import Logging

/// PostgreSQL's own benchmark, the anchor: its default TPC-B-like script at scale 1, in a
/// scratch schema of the same database.
public struct PGBench: Sendable {
    let location: PostgresLocation
    let logger: Logger

    public init(location: PostgresLocation, logger: Logger) {
        self.location = location
        self.logger = logger
    }

    /// pgbench's transactions per second with `clients` clients, over about `seconds`.
    public func transactionsPerSecond(clients: Int, seconds: Int) async throws -> Double {
        try await PostgresDatabase.withScratchSchema(prefix: "cairn_pgbench_", on: location, logger: logger) { schema in
            try run(["-i", "-q", "-s", "1"], schema: schema)
            // A fixed transaction count, sized by a short calibration run to last about
            // `seconds`: pgbench's own -T timer relies on SIGALRM, which this process's
            // threads block and its children inherit blocked.
            let calibration = try tps(try run(["-n", "-c", String(clients), "-j", String(clients), "-t", "200"], schema: schema))
            let perClient = max(200, Int(calibration * Double(seconds) / Double(clients)))
            return try tps(try run(["-n", "-c", String(clients), "-j", String(clients), "-t", String(perClient)], schema: schema))
        }
    }

    /// Reads "tps = 1234.567890 (without initial connection time)".
    private func tps(_ output: String) throws -> Double {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst(6).prefix { $0 != " " })
        else {
            throw CairnError(.internalFailure, "pgbench printed no tps line.")
        }
        return tps
    }

    @discardableResult
    private func run(_ arguments: [String], schema: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments = arguments + ["-h", location.host, "-p", String(location.port), "-U", location.username, location.database]
        var environment = ProcessInfo.processInfo.environment
        environment["PGOPTIONS"] = "-c search_path=\(schema)"
        environment["PGPASSWORD"] = location.password ?? ""
        environment["PGSSLMODE"] = location.tls == .require ? "require" : location.tls == .disable ? "disable" : "prefer"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw CairnError(.unavailable, "pgbench \(arguments.first ?? "") failed: \(text.split(separator: "\n").last ?? "no output").")
        }
        return text
    }

    private static func binary() throws -> String {
        let candidates =
            ["/usr/bin/pgbench"]
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { "/usr/lib/postgresql/\($0)/bin/pgbench" }
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw CairnError(.misconfigured, "pgbench is not installed; scripts/setup.sh installs it with PostgreSQL.")
        }
        return found
    }
}
