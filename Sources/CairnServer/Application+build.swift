import CairnAPI
public import CairnAssistant
import CairnCore
public import CairnGateway
public import CairnIdentity
public import CairnIngest
public import CairnJobs
public import CairnSearch
public import CairnStore
package import Foundation
public import Hummingbird
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
public import ServiceLifecycle

/// HTTP settings, resolved from configuration by the executable.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Origins allowed to call the API from a browser; empty disables CORS.
    public var corsAllowedOrigins: [String]
    /// Largest request body accepted, in bytes.
    public var maximumBodyBytes: Int
    /// How long an `Idempotency-Key`'s response is kept for replay.
    public var idempotencyRetention: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        corsAllowedOrigins: [String] = [],
        maximumBodyBytes: Int = 1 << 20,
        idempotencyRetention: Duration = .seconds(24 * 3600)
    ) {
        self.host = host
        self.port = port
        self.corsAllowedOrigins = corsAllowedOrigins
        self.maximumBodyBytes = maximumBodyBytes
        self.idempotencyRetention = idempotencyRetention
    }
}

/// The document features the API serves: uploads and lifecycle, search, the assistant and its
/// agent.
public struct DocumentServices: Sendable {
    public let library: DocumentLibrary
    public let search: SearchService
    /// Reads documents where a request itself must (scoring a pipeline version on promotion);
    /// ingestion and extraction read them in jobs.
    public let parser: DocumentParser
    public let assistant: Assistant
    public let agent: Agent

    /// - Parameters:
    ///   - answerRoute: the model that writes generative answers and that agent runs think
    ///     with; `nil` answers extractively and refuses agent runs.
    ///   - judgeRoute: the model asked about each claim verification finds supported.
    ///   - agentApprovals: who may approve the call an agent run waits on.
    public init(
        library: DocumentLibrary,
        search: SearchService,
        parser: DocumentParser = DocumentParser(),
        answerRoute: AnswerRoute? = nil,
        judgeRoute: AnswerRoute? = nil,
        agentApprovals: AgentApprovalRule = .starterOrManager
    ) {
        self.library = library
        self.search = search
        self.parser = parser
        assistant = Assistant(
            search: search,
            route: answerRoute,
            judge: judgeRoute,
            traces: library.store.answerTraces,
            sessions: library.store.answerSessions
        )
        agent = Agent(store: library.store, search: search, route: answerRoute, approvals: agentApprovals, tenantQueueCap: library.tenantQueueCap)
    }
}

/// What the gateway's admin routes need beside the gateway itself.
public struct GatewayAdministration: Sendable {
    /// The platform catalog that tenants' entries are laid over and checked against: the one the
    /// gateway routes with.
    public let platformCatalog: GatewayCatalog
    /// Seals stored provider credentials; `nil` (no master key configured) refuses to store any.
    public let masterKey: MasterKey?

    public init(platformCatalog: GatewayCatalog, masterKey: MasterKey?) {
        self.platformCatalog = platformCatalog
        self.masterKey = masterKey
    }
}

/// Builds the HTTP application. `main` and the tests both call this, so what is tested is
/// what runs. Logging, metrics and tracing systems are bootstrapped by the caller, never here.
///
/// - Parameters:
///   - metrics: the registry behind `/metrics`; `nil` serves an empty exposition.
///   - services: long-lived services (database pool, span exporter) to run beside the server,
///     in dependency order; they shut down after it, in reverse.
public func buildApplication(
    configuration: ServerConfiguration,
    store: CairnStore,
    jobs: JobQueue,
    documents: DocumentServices,
    gateway: ModelGateway,
    gatewayAdministration: GatewayAdministration,
    authenticator: Authenticator,
    metrics: MetricsRegistry?,
    services: [any Service] = [],
    logger: Logger
) throws -> some ApplicationProtocol {
    let router = try buildRouter(
        configuration: configuration,
        store: store,
        jobs: jobs,
        documents: documents,
        gateway: gateway,
        gatewayAdministration: gatewayAdministration,
        authenticator: authenticator,
        metrics: metrics,
        logger: logger
    )
    var application = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cairn"),
        logger: logger
    )
    application.addServices(services)
    return application
}

func buildRouter(
    configuration: ServerConfiguration,
    store: CairnStore,
    jobs: JobQueue,
    documents: DocumentServices,
    gateway: ModelGateway,
    gatewayAdministration: GatewayAdministration,
    authenticator: Authenticator,
    metrics: MetricsRegistry?,
    logger: Logger
) throws -> Router<CairnRequestContext> {
    // The generated operations are collected first, to learn the declared path templates; the
    // router then gets its middleware (which must be in place before routes are added) and
    // mounts the collected routes.
    let api = RouteCollection(context: CairnRequestContext.self)
    let transport = MethodAwareTransport(routes: api)
    let handlers = APIHandlers(
        store: store,
        jobs: jobs,
        documents: documents,
        gateway: gateway,
        gatewayAdministration: gatewayAdministration,
        authenticator: authenticator,
        logger: logger
    )
    try handlers.registerHandlers(
        on: transport,
        serverURL: URL(string: "/")!,
        // Compact, sorted JSON: pretty-printing (the runtime's default) only adds bytes and time.
        configuration: .init(dateTranscoder: FlexibleISO8601DateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
        middlewares: [AccessControlMiddleware()]
    )

    let router = Router(context: CairnRequestContext.self)
    // Outermost first.
    router.addMiddleware {
        RequestIDMiddleware()
        // Tracing before the access log, so the request's log lines carry its trace id.
        TracingMiddleware()
        AccessLogMiddleware()
        MetricsMiddleware()
        CORSAllowListMiddleware(allowedOrigins: Set(configuration.corsAllowedOrigins))
        ProblemDetailsMiddleware()
        MethodNotAllowedMiddleware(routes: transport.declaredRoutes.adding(OpenAIFrontDoor.declaredRoutes))
        // Authentication before the body limit and null check: no body is read for a caller
        // who has not proved who they are.
        AuthenticationMiddleware(authenticator: authenticator)
        BodyLimitMiddleware(maximumBytes: configuration.maximumBodyBytes, maximumUploadBytes: documents.library.maximumUploadBytes)
        // Fingerprints the body as received, before any rewriting.
        IdempotencyMiddleware(records: store.idempotency, retention: configuration.idempotencyRetention)
        NullMemberMiddleware()
    }

    let openAPIDocument = try OpenAPIDocument.yaml()
    router.get("/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: openAPIDocument)))
    }
    router.get("/metrics") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: metrics?.exposition() ?? ""))
        )
    }
    router.addRoutes(api)
    OpenAIFrontDoor(gateway: gateway).register(on: router)
    return router
}
