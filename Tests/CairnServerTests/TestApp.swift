import CairnCore
import CairnDocuments
import CairnGateway
import CairnIdentity
import CairnIngest
import CairnJobs
import CairnSearch
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import CairnServer

/// Two tenants with an admin and a viewer key each, an OIDC provider, and the operator token.
struct Fixture: Sendable {
    let store: CairnStore
    let provider: TestIdentityProvider
    let northbankAdmin: String
    let northbankViewer: String
    let southbankAdmin: String
    let operatorToken = "operator-test-token"

    static func make(_ store: CairnStore) async throws -> Fixture {
        func key(_ tenant: Tenant, _ role: Role) async throws -> String {
            let grant = APIKeyGrant(subject: "\(tenant.name)-\(role.rawValue)", roles: [role], attributes: AccessAttributes(clearance: .restricted))
            let created = try await store.apiKeys.create(
                by: .localAdministrator(of: tenant),
                name: "\(role.rawValue)-key",
                grant: grant,
                expiresAt: nil
            )
            return created.secret.token
        }
        let northbank = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
        let southbank = try await store.tenants.create(name: TenantName("southbank"), actor: "test")
        return Fixture(
            store: store,
            provider: try TestIdentityProvider(),
            northbankAdmin: try await key(northbank, .admin),
            northbankViewer: try await key(northbank, .viewer),
            southbankAdmin: try await key(southbank, .admin)
        )
    }
}

/// Runs `body` against the real router (no socket) over a fresh store on `engine`, with the
/// gateway wired as `cairn serve` wires it: `platformCatalog` under the tenants' stored
/// entries, and stored credentials sealed with `masterKey`.
func withTestApp(
    _ engine: TestEngine = .sqlite,
    configuration: ServerConfiguration = ServerConfiguration(corsAllowedOrigins: ["https://portal.bank.test"], maximumBodyBytes: 4096),
    queueLimits: QueueLimits = QueueLimits(),
    platformCatalog: GatewayCatalog = GatewayCatalog(),
    masterKey: MasterKey? = MasterKey.generate(),
    _ body: @escaping @Sendable (any TestClientProtocol, Fixture) async throws -> Void
) async throws {
    try await withTestStore(engine) { store in
        let fixture = try await Fixture.make(store)
        let keySet = try await JSONWebKeySet(document: try fixture.provider.jwks())
        let oidc = OIDCAuthenticator(
            keySet: keySet,
            configuration: OIDCConfiguration(issuer: fixture.provider.issuer, audience: fixture.provider.audience),
            store: store
        )
        let logger = Logger(label: "cairn.test")
        let authenticator = Authenticator(store: store, oidc: oidc, operatorToken: fixture.operatorToken, cacheLifetime: .seconds(30), logger: logger)
        let blobs = try LocalBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("cairn-blobs-\(UUID().uuidString)"))
        let documents = DocumentServices(
            library: DocumentLibrary(store: store, blobs: blobs, maximumUploadBytes: 1 << 20, tenantQueueCap: queueLimits.perTenant),
            search: SearchService(store: store, index: SearchIndex(feed: store.indexFeed, dimension: nil, logger: logger), embedder: nil)
        )
        let pool = DeploymentPool()
        let app = try buildApplication(
            configuration: configuration,
            store: store,
            jobs: JobQueue(store: store, catalog: .standard, limits: queueLimits),
            documents: documents,
            gateway: ModelGateway(
                catalogs: StoredGatewayCatalog(platform: platformCatalog, repository: store.gatewayCatalog),
                pool: pool,
                credentials: StoredCredentials(
                    repository: store.gatewayCatalog,
                    masterKey: masterKey,
                    platform: ProviderCredentials(environment: [:])
                ),
                localEmbedder: nil,
                bookkeeping: GatewayBookkeeping(books: store.gatewayBooks, logger: logger),
                logger: logger
            ),
            gatewayAdministration: GatewayAdministration(platformCatalog: platformCatalog, masterKey: masterKey),
            authenticator: authenticator,
            metrics: nil,
            logger: logger
        )
        // The deployments' HTTP clients are shut down whether or not the body passed.
        do {
            try await app.test(.router) { client in try await body(client, fixture) }
        } catch {
            try? await pool.shutdown()
            throw error
        }
        try await pool.shutdown()
    }
}

extension TestClientProtocol {
    /// A request with a bearer token and an optional JSON body.
    @discardableResult
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String? = nil,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// Asserts an RFC 9457 problem with this status; returns its body.
    @discardableResult
    func expectProblem(_ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
        #expect(self.status == status, "body: \(String(buffer: body))", sourceLocation: sourceLocation)
        #expect(headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let problem = json
        #expect(problem["status"] as? Int == Int(status.code), sourceLocation: sourceLocation)
        #expect((problem["type"] as? String)?.hasPrefix("urn:cairn:problem:") == true, sourceLocation: sourceLocation)
        #expect((problem["detail"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        return problem
    }
}
