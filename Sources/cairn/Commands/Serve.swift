import ArgumentParser
import CairnAssistant
import CairnCore
import CairnGateway
import CairnIdentity
import CairnJobs
import CairnRuntime
import CairnServer
import CairnStore
import Foundation
import Hummingbird
import Logging
import Metrics
import ServiceLifecycle
import UnixSignals

struct Serve: CairnCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API (and, on the embedded default, apply migrations first).")

    // A service logs JSON lines at CAIRN_LOG_LEVEL wherever its output goes: no --verbose.
    static let runsAsService = true
    var logging: LoggingOptions { LoggingOptions() }

    @Option(help: "Port to listen on (overrides CAIRN_HTTP_PORT).")
    var port: Int?

    @Flag(help: "Serve the API only; leave jobs to 'cairn worker' processes (PostgreSQL).")
    var noWorkers = false

    var commandLineSettings: [Setting: String] {
        port.map { [.httpPort: String($0)] } ?? [:]
    }

    func run(settings: Settings, logger: Logger) async throws {
        // Every setting is checked before anything starts, so a typo fails fast.
        try settings.validate()
        let metrics = MetricsRegistry()
        MetricsSystem.bootstrap(metrics.factory)
        let tracing = try Tracing.bootstrap(
            serviceName: "cairn",
            otlpEndpoint: settings.string(.otlpEndpoint),
            environment: ProcessInfo.processInfo.environment
        )

        let location = try settings.databaseLocation
        let opened = try await OpenedDatabase.open(location, logger: logger)
        do {
            try await serve(opened, location: location, settings: settings, metrics: metrics, tracing: tracing, logger: logger)
            await opened.close()
            logger.info("Cairn stopped; in-flight requests completed")
        } catch {
            await opened.close()
            throw error
        }
    }

    private func serve(
        _ opened: OpenedDatabase,
        location: DatabaseLocation,
        settings: Settings,
        metrics: MetricsRegistry,
        tracing: any Service,
        logger: Logger
    ) async throws {
        let serverConfiguration = try settings.server
        let store = CairnStore(database: opened.database, schema: .cairn)
        if case .sqlite = opened {
            // The embedded default is one process owning its file: migrating on start is safe.
            // On PostgreSQL, `cairn migrate` is a deliberate deploy step; /readyz reports pending ones.
            try await store.migrator(logger: logger).migrate()
        }

        if case .postgres(let postgres) = opened {
            await warnIfRowLevelSecurityIsBypassed(postgres, logger: logger)
        }

        var oidc: OIDCAuthenticator?
        var keySetRefresher: KeySetRefresher?
        if let (jwks, configuration) = try settings.oidc {
            let keySet = try JSONWebKeySet.at(jwks)
            keySetRefresher = KeySetRefresher(keySet: keySet, logger: logger)
            do {
                try await keySet.refresh()
            } catch {
                // The IdP may be down at start; API keys still work and the key set is
                // fetched again when a token arrives.
                logger.warning("OIDC key set not loaded yet", metadata: ["reason": "\(error.message)"])
            }
            oidc = OIDCAuthenticator(keySet: keySet, configuration: configuration, store: store)
        }
        let cacheSeconds = try settings.integer(.authCacheSeconds, in: 0...3600)
        let authenticator = Authenticator(
            store: store,
            oidc: oidc,
            operatorToken: settings.string(.operatorToken),
            cacheLifetime: .seconds(cacheSeconds),
            logger: logger
        )

        // Services start in this order and stop in reverse: the worker drains before the
        // database pool closes, and after the HTTP server has stopped taking requests.
        // Recurring tasks and the queue-depth gauge run wherever workers do.
        let documents = try DocumentRuntime.load(settings, logger: logger)
        let queueLimits = try settings.queueLimits
        let models = try GatewayRuntime.load(settings, store: store, localEmbedder: documents.localEmbedder, logger: logger)
        let services = documents.services(store: store, tenantQueueCap: queueLimits.perTenant, models: models, logger: logger)
        let catalog = documents.catalog(agent: services.agent)
        let jobServices: [any Service] =
            noWorkers
            ? []
            : [
                Worker(store: store, catalog: catalog, configuration: try settings.worker, logger: logger),
                RecurringScheduler(store: store, tasks: try settings.recurringTasks(store: store), logger: logger),
                QueueDepthSampler(store: store, logger: logger),
            ]
        let application = try buildApplication(
            configuration: serverConfiguration,
            store: store,
            jobs: JobQueue(store: store, catalog: catalog, limits: queueLimits),
            documents: services,
            gateway: models.gateway,
            gatewayAdministration: GatewayAdministration(platformCatalog: models.platformCatalog, masterKey: models.masterKey),
            authenticator: authenticator,
            metrics: metrics,
            // The books are written after the server and the workers stop making calls, before
            // the pool closes.
            services: [opened.service, keySetRefresher, tracing].compactMap { $0 } + models.services + jobServices,
            logger: logger
        )
        logger.info("Cairn starting", metadata: ["database": "\(location)", "address": "\(serverConfiguration.host):\(serverConfiguration.port)"])
        try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

/// Tenant isolation on PostgreSQL rests partly on row-level security, which superusers and
/// BYPASSRLS roles skip. Serving anyway keeps development set-ups working; the log says loudly
/// that the second wall is down.
private func warnIfRowLevelSecurityIsBypassed(_ database: PostgresDatabase, logger: Logger) async {
    do {
        if let reason = try await database.rowLevelSecurityBypass() {
            logger.critical("Row-level security is bypassed: \(reason). Connect as a role without SUPERUSER or BYPASSRLS.")
        }
    } catch {
        logger.warning("Could not check the database role", metadata: ["reason": "\(error.message)"])
    }
}

struct Migrate: CairnCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")

    @OptionGroup var logging: LoggingOptions

    func run(settings: Settings, logger: Logger) async throws {
        let applied = try await withStore(settings, logger: logger, schema: .asIs) { store in
            try await store.migrator(logger: logger).migrate()
        }
        if applied.isEmpty {
            print("The schema is current; no migration was pending.")
        } else {
            for migration in applied { print("Applied \(migration.version) \(migration.name)") }
        }
    }
}
