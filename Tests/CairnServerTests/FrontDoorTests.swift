import CairnCore
import CairnDocuments
import CairnGateway
import CairnIdentity
import CairnIngest
import CairnJobs
import CairnMockLLM
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

/// The OpenAI-compatible front door over the real router, with the gateway calling the mock
/// provider over loopback: what an HTTP client sees when limits, budgets and upstreams bite.
@Suite("OpenAI-compatible front door")
struct FrontDoorTests {
    struct Context: Sendable {
        let client: any TestClientProtocol
        let key: String
        let keyID: APIKeyID
        let tenant: TenantID
        let store: CairnStore
        let script: MockScript
    }

    /// The router with a gateway whose alias `chat` is the mock (priced $1 per million tokens),
    /// and an analyst key.
    static func withFrontDoor(_ body: @escaping @Sendable (Context) async throws -> Void) async throws {
        try await withTestStore(.sqlite) { store in
            try await MockModelServer.withRunning { mock in
                let logger = Logger(label: "cairn.test")
                let tenant = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
                let created = try await store.apiKeys.create(
                    by: .localAdministrator(of: tenant),
                    name: "app",
                    grant: APIKeyGrant(subject: "app", roles: [.analyst]),
                    expiresAt: nil
                )
                let price = TokenPrice(inputPerMillion: USD(dollars: 1)!, outputPerMillion: USD(dollars: 1)!)
                let catalog = GatewayCatalog(
                    providers: [ModelProviderConfiguration(name: "mock", kind: .mock, baseURL: mock.baseURL + "/v1")],
                    deployments: [ModelDeployment(name: "mock-chat", provider: "mock", model: "mock-model", price: price)],
                    aliases: [ModelAlias(name: "chat", deployments: ["mock-chat"])]
                )
                let pool = DeploymentPool()
                let gateway = ModelGateway(
                    catalogs: FixedGatewayCatalog(catalog),
                    pool: pool,
                    credentials: ProviderCredentials(environment: [:]),
                    localEmbedder: nil,
                    bookkeeping: GatewayBookkeeping(books: store.gatewayBooks, logger: logger),
                    logger: logger
                )
                let search = SearchService(store: store, index: SearchIndex(feed: store.indexFeed, dimension: nil, logger: logger), embedder: nil)
                let blobs = try LocalBlobStore(
                    root: FileManager.default.temporaryDirectory.appendingPathComponent("cairn-blobs-\(UUID().uuidString)")
                )
                let app = try buildApplication(
                    configuration: ServerConfiguration(),
                    store: store,
                    jobs: JobQueue(store: store, catalog: .standard, limits: QueueLimits()),
                    documents: DocumentServices(
                        library: DocumentLibrary(store: store, blobs: blobs, maximumUploadBytes: 1 << 20, tenantQueueCap: nil),
                        search: search
                    ),
                    gateway: gateway,
                    gatewayAdministration: GatewayAdministration(platformCatalog: catalog, masterKey: nil),
                    authenticator: Authenticator(store: store, oidc: nil, operatorToken: nil, cacheLifetime: .seconds(30), logger: logger),
                    metrics: nil,
                    logger: logger
                )
                try await app.test(.router) { client in
                    try await body(
                        Context(
                            client: client,
                            key: created.secret.token,
                            keyID: created.key.id,
                            tenant: tenant.id,
                            store: store,
                            script: mock.script
                        )
                    )
                }
                try await pool.shutdown()
            }
        }
    }

    static let chat = #"{"model":"chat","messages":[{"role":"user","content":"What is the KYC refresh period?"}],"max_tokens":50}"#

    @Test("A completion carries the deployment, attempts and cache state in headers and in its cairn member; the alias is echoed as model")
    func receipt() async throws {
        try await Self.withFrontDoor { context in
            let response = try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: Self.chat)
            #expect(response.status == .ok)
            #expect(response.headers[OpenAIFrontDoor.deploymentHeader] == "mock-chat")
            #expect(response.headers[OpenAIFrontDoor.attemptsHeader] == "1")
            #expect(response.headers[OpenAIFrontDoor.cacheHeader] == "miss")
            let json = response.json
            #expect(json["model"] as? String == "chat")
            #expect((json["cairn"] as? [String: Any])?["deployment"] as? String == "mock-chat")

            var headers = HTTPFields()
            headers[OpenAIFrontDoor.cacheTTLHeader] = "60"
            _ = try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: Self.chat, headers: headers)
            let cached = try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: Self.chat, headers: headers)
            #expect(cached.headers[OpenAIFrontDoor.cacheHeader] == "hit")
            #expect(cached.headers[OpenAIFrontDoor.attemptsHeader] == "0")
        }
    }

    @Test("A stream is server-sent events ending in [DONE]; one cut after its first token ends with an error event, then [DONE]")
    func streams() async throws {
        try await Self.withFrontDoor { context in
            let streamed = Self.chat.replacingOccurrences(of: #""max_tokens":50"#, with: #""max_tokens":50,"stream":true"#)
            let whole = try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: streamed)
            #expect(whole.status == .ok && whole.headers[.contentType] == "text/event-stream")
            let events = String(buffer: whole.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.last == "data: [DONE]")
            #expect(events.count > 3, "a chunk per word")
            #expect(events.dropLast().last?.contains(#""cairn":{"#) == true, "the receipt rides on the last chunk")

            context.script.enqueue(.cutStream(afterChunks: 2), model: "mock-model")
            let cut = try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: streamed)
            #expect(cut.status == .ok)
            let cutEvents = String(buffer: cut.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(cutEvents.last == "data: [DONE]")
            #expect(cutEvents.dropLast().last?.hasPrefix(#"data: {"error":{"#) == true, "\(cutEvents.suffix(2))")
        }
    }

    @Test("Rate limits answer 429 with Retry-After; a spent budget 402; both as problems OpenAI SDKs can read")
    func limitsOverHTTP() async throws {
        try await Self.withFrontDoor { context in
            // One call a minute: the call allowed would have to take a minute for the next to pass,
            // where with two a loaded machine's 30 s between them refilled the bucket.
            try await context.store.gatewayBooks.setLimits(
                ModelAccessLimits(requestsPerMinute: 1),
                of: context.keyID,
                tenant: context.tenant,
                actor: "test"
            )
            #expect(try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: Self.chat).status == .ok)
            let limited = try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: Self.chat)
            let problem = limited.expectProblem(.tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect((problem["error"] as? [String: Any])?["message"] as? String == problem["detail"] as? String)

        }
        try await Self.withFrontDoor { context in
            try await context.store.gatewayBooks.setBudget(
                tenant: context.tenant,
                apiKeyID: nil,
                period: .month,
                limit: USD(nanodollars: 10),
                actor: "test"
            )
            let refused = try await context.client.send(.post, "/openai/v1/chat/completions", token: context.key, json: Self.chat)
            let problem = refused.expectProblem(HTTPResponse.Status(code: 402))
            #expect((problem["detail"] as? String)?.contains("monthly budget") == true)
            #expect(context.script.requestCount(model: "mock-model") == 0, "nothing reached the provider")
        }
    }

    @Test("Bad requests are 4xx problems: not JSON, an unknown model, n > 1, a missing body member, a viewer's key, no key")
    func badInput() async throws {
        try await Self.withFrontDoor { context in
            let client = context.client
            #expect(try await client.send(.post, "/openai/v1/chat/completions", token: context.key, json: "{nope").status == .badRequest)
            let unknown = try await client.send(
                .post,
                "/openai/v1/chat/completions",
                token: context.key,
                json: Self.chat.replacingOccurrences(of: #""chat""#, with: #""gpt-9""#)
            )
            #expect((unknown.expectProblem(.notFound)["detail"] as? String)?.contains("gpt-9") == true)
            let many = Self.chat.replacingOccurrences(of: #""max_tokens":50"#, with: #""max_tokens":50,"n":3"#)
            #expect(
                (try await client.send(.post, "/openai/v1/chat/completions", token: context.key, json: many).expectProblem(.unprocessableContent)[
                    "detail"
                ] as? String)?
                .contains("one choice") == true
            )
            try await client.send(.post, "/openai/v1/chat/completions", token: context.key, json: #"{"model":"chat"}"#).expectProblem(
                .unprocessableContent
            )
            try await client.send(.post, "/openai/v1/chat/completions", token: context.key, json: #"{"model":"chat","messages":[]}"#)
                .expectProblem(.unprocessableContent)
            try await client.send(.post, "/openai/v1/chat/completions", json: Self.chat).expectProblem(.unauthorized)
            try await client.send(.get, "/openai/v1/chat/completions", token: context.key).expectProblem(.methodNotAllowed)

            let tenant = try #require(try await context.store.tenants.find(id: context.tenant))
            let viewer = try await context.store.apiKeys.create(
                by: .localAdministrator(of: tenant),
                name: "viewer",
                grant: APIKeyGrant(subject: "v", roles: [.viewer]),
                expiresAt: nil
            )
            try await client.send(.post, "/openai/v1/chat/completions", token: viewer.secret.token, json: Self.chat).expectProblem(.forbidden)
            #expect(context.script.requestCount(model: "mock-model") == 0)
        }
    }
}
