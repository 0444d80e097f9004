import ArgumentParser
import CairnCore
import CairnJobs
import CairnServer
import CairnStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import UnixSignals

struct WorkerCommand: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run jobs from the shared PostgreSQL queue (any number of these, on any number of machines)."
    )

    @Option(help: "Jobs this process runs at once (overrides CAIRN_JOBS_CONCURRENCY).")
    var concurrency: Int?

    var commandLineSettings: [Setting: String] {
        concurrency.map { [.jobsConcurrency: String($0)] } ?? [:]
    }

    func run(settings: Settings, logger: Logger) async throws {
        try settings.validate()
        guard case .postgres(let location) = try settings.databaseLocation else {
            // One process owns the embedded file; its jobs run inside `cairn serve`.
            throw CairnError(.misconfigured, "On the embedded SQLite database jobs run inside 'cairn serve'; 'cairn worker' needs CAIRN_DATABASE_URL to name PostgreSQL.")
        }
        let tracing = try Tracing.bootstrap(
            serviceName: "cairn-worker",
            otlpEndpoint: settings.string(.otlpEndpoint),
            environment: ProcessInfo.processInfo.environment
        )
        let database = PostgresDatabase(location: location, logger: logger)
        try await database.checkConnection()
        let store = CairnStore(database: database)
        let worker = Worker(store: store, catalog: .standard, configuration: try settings.worker, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: database), .init(service: tracing), .init(service: SchemaCheckedWorker(worker: worker, store: store, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Refuses to run jobs against a schema that `cairn migrate` has not brought up to date (a
/// worker writing columns that do not exist yet would fail every job), then runs the worker.
private struct SchemaCheckedWorker: Service {
    let worker: Worker
    let store: CairnStore
    let logger: Logger

    func run() async throws {
        if try await !store.migrator(logger: logger).pending().isEmpty {
            throw CairnError(.misconfigured, "The database schema is not current; run 'cairn migrate' first.")
        }
        try await worker.run()
    }
}
