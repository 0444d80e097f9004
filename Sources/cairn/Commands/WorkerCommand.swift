import ArgumentParser
import CairnCore
import CairnJobs
import CairnRuntime
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

    // A service logs JSON lines at CAIRN_LOG_LEVEL wherever its output goes: no --verbose.
    static let runsAsService = true
    var logging: LoggingOptions { LoggingOptions() }

    @Option(help: "Jobs this process runs at once (overrides CAIRN_JOBS_CONCURRENCY).")
    var concurrency: Int?

    var commandLineSettings: [Setting: String] {
        concurrency.map { [.jobsConcurrency: String($0)] } ?? [:]
    }

    func run(settings: Settings, logger: Logger) async throws {
        try settings.validate()
        guard case .postgres(let location) = try settings.databaseLocation else {
            // One process owns the embedded file; its jobs run inside `cairn serve`.
            throw CairnError(
                .misconfigured,
                "On the embedded SQLite database jobs run inside 'cairn serve'; 'cairn worker' needs CAIRN_DATABASE_URL to name PostgreSQL."
            )
        }
        let tracing = try Tracing.bootstrap(
            serviceName: "cairn-worker",
            otlpEndpoint: settings.string(.otlpEndpoint),
            environment: ProcessInfo.processInfo.environment
        )
        let database = PostgresDatabase(location: location, logger: logger)
        try await database.checkConnection()
        let store = CairnStore(database: database, schema: .cairn)
        let documents = try DocumentRuntime.load(settings, logger: logger)
        // Agent runs call models, so a worker holds a gateway of its own, metered like the server's.
        let models = try GatewayRuntime.load(settings, store: store, localEmbedder: documents.localEmbedder, logger: logger)
        let agent = documents.services(store: store, tenantQueueCap: try settings.queueLimits.perTenant, models: models, logger: logger).agent
        let jobServices: [any Service] =
            models.services + [
                Worker(store: store, catalog: documents.catalog(agent: agent), configuration: try settings.worker, logger: logger),
                RecurringScheduler(store: store, tasks: try settings.recurringTasks(store: store), logger: logger),
                QueueDepthSampler(store: store, logger: logger),
            ]
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: database), .init(service: tracing),
                    .init(service: SchemaChecked(services: jobServices, store: store, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Refuses to run jobs against a schema that `cairn migrate` has not brought up to date (a
/// worker writing columns that do not exist yet would fail every job), then runs the worker,
/// the recurring scheduler and the queue-depth gauge.
private struct SchemaChecked: Service {
    let services: [any Service]
    let store: CairnStore
    let logger: Logger

    func run() async throws {
        if try await !store.migrator(logger: logger).pending().isEmpty {
            throw CairnError(.misconfigured, "The database schema is not current; run 'cairn migrate' first.")
        }
        // Graceful shutdown reaches each child: its handlers are task-local, and inherited.
        try await withThrowingDiscardingTaskGroup { group in
            for service in services { group.addTask { try await service.run() } }
        }
    }
}
