import CairnCore
import CairnGateway
import CairnMockLLM
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The model gateway's admin routes over the real router.
@Suite("Gateway administration over HTTP")
struct GatewayAdminAPITests {
    static let platform = GatewayCatalog(
        providers: [
            ModelProviderConfiguration(name: "openai", kind: .openAI, baseURL: "https://api.openai.test/v1", credential: .environment("OPENAI_KEY"))
        ],
        deployments: [ModelDeployment(name: "gpt-small", provider: "openai", model: "gpt-small")],
        aliases: [ModelAlias(name: "chat", deployments: ["gpt-small"])]
    )

    /// The id of the caller's own API key.
    static func ownKeyID(_ client: some TestClientProtocol, _ token: String) async throws -> String {
        let me = try await client.send(.get, "/v1/me", token: token)
        return try #require((me.json["credential"] as? [String: Any])?["keyId"] as? String)
    }

    static func tenantID(_ client: some TestClientProtocol, _ token: String) async throws -> String {
        try #require(try await client.send(.get, "/v1/me", token: token).json["tenantId"] as? String)
    }

    static func entries(_ response: TestResponse, _ list: String) -> [String: [String: Any]] {
        let items = response.json[list] as? [[String: Any]] ?? []
        return Dictionary(items.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test(
        "A tenant admin stores a credential, adds a provider, a deployment and an alias over the platform's, and takes them away again",
        arguments: TestEngine.all
    )
    func catalogLifecycle(engine: TestEngine) async throws {
        try await withTestApp(engine, platformCatalog: Self.platform) { client, fixture in
            let admin = fixture.northbankAdmin
            let initial = try await client.send(.get, "/v1/gateway/catalog", token: admin)
            #expect(initial.status == .ok)
            let platformProvider = try #require(Self.entries(initial, "providers")["openai"])
            #expect(platformProvider["source"] as? String == "platform")
            // The platform's credential reference names its environment: not shown to tenants.
            #expect(platformProvider["credential"] == nil)
            #expect(!String(buffer: initial.body).contains("OPENAI_KEY"))

            let stored = try await client.send(.put, "/v1/gateway/credentials/own-key", token: admin, json: #"{"secret":"sk-northbank-7"}"#)
            #expect(stored.status == .noContent)
            let provider = #"{"kind":"openai","baseURL":"https://llm.northbank.test/v1","credential":"stored:own-key"}"#
            let created = try await client.send(.put, "/v1/gateway/providers/own", token: admin, json: provider)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            #expect(created.json["credential"] as? String == "stored:own-key")
            #expect(try await client.send(.put, "/v1/gateway/providers/own", token: admin, json: provider).status == .ok)

            let deployment = try await client.send(
                .put,
                "/v1/gateway/deployments/in-house",
                token: admin,
                json: #"{"provider":"own","model":"llama-3","inputUSDPerMillion":0.2,"outputUSDPerMillion":0.6,"#
                    + #""timeouts":{"firstToken":9},"maxConcurrency":8}"#
            )
            #expect(deployment.status == .created, "\(String(buffer: deployment.body))")
            #expect(deployment.json["inputUSDPerMillion"] as? Double == 0.2)
            #expect((deployment.json["timeouts"] as? [String: Any])?["firstToken"] as? Double == 9)
            #expect((deployment.json["timeouts"] as? [String: Any])?["total"] as? Double == 120)
            let alias = try await client.send(.put, "/v1/gateway/aliases/chat", token: admin, json: #"{"deployments":["in-house","gpt-small"]}"#)
            #expect(alias.status == .created, "\(String(buffer: alias.body))")
            #expect(alias.json["overridesPlatform"] as? Bool == true)

            let catalog = try await client.send(.get, "/v1/gateway/catalog", token: admin)
            let aliases = Self.entries(catalog, "aliases")
            #expect(aliases["chat"]?["source"] as? String == "tenant")
            #expect(aliases["chat"]?["deployments"] as? [String] == ["in-house", "gpt-small"])
            #expect(Self.entries(catalog, "providers")["own"]?["credential"] as? String == "stored:own-key")
            #expect(Self.entries(catalog, "deployments").keys.sorted() == ["gpt-small", "in-house"])

            let credentials = try await client.send(.get, "/v1/gateway/credentials", token: admin)
            #expect((credentials.json["credentials"] as? [[String: Any]])?.map { $0["name"] as? String } == ["own-key"])
            #expect((credentials.json["credentials"] as? [[String: Any]])?.first?["createdBy"] as? String == "api_key:northbank-admin")
            #expect(!String(buffer: credentials.body).contains("sk-northbank"))

            // The other tenant sees the platform's catalog, and none of northbank's entries.
            let other = try await client.send(.get, "/v1/gateway/catalog", token: fixture.southbankAdmin)
            #expect(Self.entries(other, "aliases")["chat"]?["source"] as? String == "platform")
            #expect(Self.entries(other, "providers")["own"] == nil)
            #expect(
                (try await client.send(.get, "/v1/gateway/credentials", token: fixture.southbankAdmin).json["credentials"] as? [Any])?.isEmpty == true
            )
            for path in [
                "/v1/gateway/aliases/chat", "/v1/gateway/deployments/in-house", "/v1/gateway/providers/own", "/v1/gateway/credentials/own-key",
            ] {
                try await client.send(.delete, path, token: fixture.southbankAdmin).expectProblem(.notFound)
            }

            // What is in use cannot be taken away.
            let inUse = try await client.send(.delete, "/v1/gateway/deployments/in-house", token: admin).expectProblem(.conflict)
            #expect(inUse["detail"] as? String == "The deployment 'in-house' is still used by the alias 'chat'; change or delete that first.")
            try await client.send(.delete, "/v1/gateway/providers/own", token: admin).expectProblem(.conflict)
            try await client.send(.delete, "/v1/gateway/credentials/own-key", token: admin).expectProblem(.conflict)

            for path in [
                "/v1/gateway/aliases/chat", "/v1/gateway/deployments/in-house", "/v1/gateway/providers/own", "/v1/gateway/credentials/own-key",
            ] {
                #expect(try await client.send(.delete, path, token: admin).status == .noContent, "\(path)")
            }
            let after = try await client.send(.get, "/v1/gateway/catalog", token: admin)
            #expect(Self.entries(after, "aliases")["chat"]?["source"] as? String == "platform")
            #expect(Self.entries(after, "providers").keys.sorted() == ["openai"])

            let audit = try await client.send(.get, "/v1/audit?actor=api_key:northbank-admin&limit=100", token: admin)
            let actions = (audit.json["events"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
            for action in [
                "gateway.credential.set", "gateway.provider.put", "gateway.deployment.put", "gateway.alias.put",
                "gateway.alias.delete", "gateway.deployment.delete", "gateway.provider.delete", "gateway.credential.delete",
            ] {
                #expect(actions.contains(action), "\(action) was not audited")
            }
            #expect(!String(buffer: audit.body).contains("sk-northbank"))
        }
    }

    @Test("Only gateway.manage (admin) may administer the gateway; a viewer gets 403 everywhere", arguments: TestEngine.all)
    func permissions(engine: TestEngine) async throws {
        try await withTestApp(engine, platformCatalog: Self.platform) { client, fixture in
            let keyID = try await Self.ownKeyID(client, fixture.northbankViewer)
            let tenantID = try await Self.tenantID(client, fixture.northbankViewer)
            let routes: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/gateway/catalog", nil),
                (.put, "/v1/gateway/providers/p", #"{"kind":"openai","baseURL":"https://p.test"}"#),
                (.delete, "/v1/gateway/providers/p", nil),
                (.put, "/v1/gateway/deployments/d", #"{"provider":"openai","model":"m"}"#),
                (.delete, "/v1/gateway/deployments/d", nil),
                (.put, "/v1/gateway/aliases/a", #"{"deployments":["gpt-small"]}"#),
                (.delete, "/v1/gateway/aliases/a", nil),
                (.get, "/v1/gateway/credentials", nil),
                (.put, "/v1/gateway/credentials/c", #"{"secret":"s"}"#),
                (.delete, "/v1/gateway/credentials/c", nil),
                (.get, "/v1/gateway/budgets", nil),
                (.get, "/v1/api-keys/\(keyID)/model-limits", nil),
                (.put, "/v1/api-keys/\(keyID)/model-limits", #"{"requestsPerMinute":1000}"#),
                (.put, "/v1/api-keys/\(keyID)/budgets/day", #"{"limitUSD":1000}"#),
                (.delete, "/v1/api-keys/\(keyID)/budgets/day", nil),
                (.put, "/v1/tenants/\(tenantID)/budgets/day", #"{"limitUSD":1000}"#),
                (.get, "/v1/usage", nil),
                (.get, "/v1/platform/usage", nil),
            ]
            for (method, path, body) in routes {
                try await client.send(method, path, token: fixture.northbankViewer, json: body).expectProblem(.forbidden)
            }
            // The operator credential cannot reach a tenant's gateway.
            try await client.send(.get, "/v1/gateway/catalog", token: fixture.operatorToken).expectProblem(.forbidden)
            try await client.send(.get, "/v1/usage", token: fixture.operatorToken).expectProblem(.forbidden)
        }
    }

    @Test(
        "Key limits and key budgets are set by the tenant's admins, the tenant's own budget by the operator only; every change is audited",
        arguments: TestEngine.all
    )
    func limitsAndBudgets(engine: TestEngine) async throws {
        try await withTestApp(engine, platformCatalog: Self.platform) { client, fixture in
            let admin = fixture.northbankAdmin
            let viewerKey = try await Self.ownKeyID(client, fixture.northbankViewer)
            let tenantID = try await Self.tenantID(client, admin)

            let unlimited = try await client.send(.get, "/v1/api-keys/\(viewerKey)/model-limits", token: admin)
            #expect(unlimited.status == .ok)
            #expect(unlimited.json.isEmpty)
            let limits = #"{"allowedModels":["chat"],"requestsPerMinute":60,"tokensPerMinute":100000}"#
            let set = try await client.send(.put, "/v1/api-keys/\(viewerKey)/model-limits", token: admin, json: limits)
            #expect(set.status == .ok, "\(String(buffer: set.body))")
            let read = try await client.send(.get, "/v1/api-keys/\(viewerKey)/model-limits", token: admin)
            #expect(read.json["allowedModels"] as? [String] == ["chat"])
            #expect(read.json["requestsPerMinute"] as? Int == 60)
            try await client.send(.get, "/v1/api-keys/\(viewerKey)/model-limits", token: fixture.southbankAdmin).expectProblem(.notFound)
            try await client.send(.put, "/v1/api-keys/\(viewerKey)/model-limits", token: fixture.southbankAdmin, json: limits).expectProblem(
                .notFound
            )

            let keyBudget = try await client.send(.put, "/v1/api-keys/\(viewerKey)/budgets/day", token: admin, json: #"{"limitUSD":12.5}"#)
            #expect(keyBudget.status == .ok, "\(String(buffer: keyBudget.body))")
            #expect(keyBudget.json["limitUSD"] as? Double == 12.5)
            #expect(keyBudget.json["scope"] as? String == "key")
            #expect(keyBudget.json["apiKeyId"] as? String == viewerKey)
            #expect(keyBudget.json["spentUSD"] as? Double == 0)
            #expect(keyBudget.json["windowStart"] as? String != nil)
            try await client.send(.put, "/v1/api-keys/\(viewerKey)/budgets/day", token: fixture.southbankAdmin, json: #"{"limitUSD":1}"#)
                .expectProblem(.notFound)

            // A tenant admin cannot set the tenant's own budget; the operator can.
            try await client.send(.put, "/v1/tenants/\(tenantID)/budgets/month", token: admin, json: #"{"limitUSD":1000000}"#).expectProblem(
                .forbidden
            )
            try await client.send(.delete, "/v1/tenants/\(tenantID)/budgets/month", token: admin).expectProblem(.forbidden)
            let tenantBudget = try await client.send(
                .put,
                "/v1/tenants/\(tenantID)/budgets/month",
                token: fixture.operatorToken,
                json: #"{"limitUSD":250}"#
            )
            #expect(tenantBudget.status == .ok, "\(String(buffer: tenantBudget.body))")
            #expect(tenantBudget.json["scope"] as? String == "tenant")
            try await client.send(.put, "/v1/tenants/\(UUID())/budgets/month", token: fixture.operatorToken, json: #"{"limitUSD":1}"#)
                .expectProblem(.notFound)

            let budgets = try await client.send(.get, "/v1/gateway/budgets", token: admin)
            let listed = budgets.json["budgets"] as? [[String: Any]] ?? []
            #expect(Set(listed.compactMap { $0["scope"] as? String }) == ["key", "tenant"])
            #expect(listed.first { $0["scope"] as? String == "tenant" }?["limitUSD"] as? Double == 250)
            #expect((try await client.send(.get, "/v1/gateway/budgets", token: fixture.southbankAdmin).json["budgets"] as? [Any])?.isEmpty == true)

            let audit = try await client.send(.get, "/v1/audit?action=gateway.budget.set", token: admin)
            #expect(
                Set((audit.json["events"] as? [[String: Any]])?.compactMap { $0["actor"] as? String } ?? []) == [
                    "operator", "api_key:northbank-admin",
                ]
            )
            let limitEvents = try await client.send(.get, "/v1/audit?action=gateway.key_limits.set", token: admin).json["events"] as? [Any]
            #expect(limitEvents?.count == 1)

            #expect(try await client.send(.delete, "/v1/api-keys/\(viewerKey)/budgets/day", token: admin).status == .noContent)
            try await client.send(.delete, "/v1/api-keys/\(viewerKey)/budgets/day", token: admin).expectProblem(.notFound)
            #expect(try await client.send(.delete, "/v1/tenants/\(tenantID)/budgets/month", token: fixture.operatorToken).status == .noContent)
            #expect((try await client.send(.get, "/v1/gateway/budgets", token: admin).json["budgets"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(
        "The usage report groups the tenant's ledger, defaults to the last 30 days, and the operator sees totals per tenant",
        arguments: TestEngine.all
    )
    func usage(engine: TestEngine) async throws {
        try await withTestApp(engine, platformCatalog: Self.platform) { client, fixture in
            let northbank = try #require(try await fixture.store.tenants.find(name: TenantName("northbank")))
            let southbank = try #require(try await fixture.store.tenants.find(name: TenantName("southbank")))
            func call(_ tenant: Tenant, _ alias: String, _ status: ModelCallStatus, cost: Double, daysAgo: Double) -> ModelCallRecord {
                ModelCallRecord(
                    tenantID: tenant.id,
                    apiKeyID: nil,
                    subject: "app",
                    operation: .chat,
                    alias: alias,
                    deployment: "gpt-small",
                    status: status,
                    inputTokens: 100,
                    outputTokens: 20,
                    cost: USD(dollars: cost)!,
                    latency: .milliseconds(40),
                    timeToFirstToken: nil,
                    attempts: 1,
                    cacheHit: false,
                    streamed: false,
                    at: Date().addingTimeInterval(-daysAgo * 86_400)
                )
            }
            try await fixture.store.gatewayBooks.record([
                call(northbank, "chat", .succeeded, cost: 0.5, daysAgo: 1),
                call(northbank, "chat", .failed, cost: 0, daysAgo: 2),
                call(northbank, "reasoning", .succeeded, cost: 2, daysAgo: 3),
                call(northbank, "chat", .succeeded, cost: 7, daysAgo: 45),
                call(southbank, "chat", .succeeded, cost: 1, daysAgo: 1),
            ])
            let byModel = try await client.send(.get, "/v1/usage?group_by=model", token: fixture.northbankAdmin)
            #expect(byModel.status == .ok, "\(String(buffer: byModel.body))")
            let rows = byModel.json["rows"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["group"] as? String } == ["chat", "reasoning"])
            #expect(rows.first?["calls"] as? Int == 2)
            #expect(rows.first?["failedCalls"] as? Int == 1)
            #expect(rows.first?["inputTokens"] as? Int == 200)
            #expect(rows.first?["costUSD"] as? Double == 0.5)
            #expect(byModel.json["groupBy"] as? String == "model")

            let since = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60 * 86_400))
            let long = try await client.send(.get, "/v1/usage?group_by=day&from=\(since)", token: fixture.northbankAdmin)
            #expect((long.json["rows"] as? [Any])?.count == 4)

            let platform = try await client.send(.get, "/v1/platform/usage", token: fixture.operatorToken)
            #expect(platform.status == .ok, "\(String(buffer: platform.body))")
            let tenants = platform.json["rows"] as? [[String: Any]] ?? []
            #expect(tenants.map { $0["group"] as? String } == ["northbank", "southbank"])
            #expect(tenants.map { $0["costUSD"] as? Double } == [2.5, 1])
        }
    }

    @Test("Bad input answers 4xx with a sentence, and changes nothing", arguments: TestEngine.all)
    func badInput(engine: TestEngine) async throws {
        try await withTestApp(engine, platformCatalog: Self.platform) { client, fixture in
            let admin = fixture.northbankAdmin
            let keyID = try await Self.ownKeyID(client, fixture.northbankViewer)
            let long = String(repeating: "n", count: 129)
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
                (.put, "/v1/gateway/aliases/x", #"{"deployments":["gpt-small","nope"]}"#, .unprocessableContent, "unknown deployment 'nope'"),
                (.put, "/v1/gateway/aliases/x", #"{"deployments":[]}"#, .unprocessableContent, "1–32 deployments"),
                (.put, "/v1/gateway/aliases/\(long)", #"{"deployments":["gpt-small"]}"#, .unprocessableContent, "1–128 characters"),
                (.put, "/v1/gateway/aliases/a%20b", #"{"deployments":["gpt-small"]}"#, .unprocessableContent, "without spaces"),
                (.put, "/v1/gateway/deployments/d", #"{"provider":"nobody","model":"m"}"#, .unprocessableContent, "unknown provider 'nobody'"),
                // Priced at zero on the platform's provider, it would spend past the operator's budget.
                (.put, "/v1/gateway/deployments/d", #"{"provider":"openai","model":"m"}"#, .unprocessableContent, "tenant's own providers"),
                (.put, "/v1/gateway/deployments/d", #"{"provider":"openai","model":"m","inputUSDPerMillion":-1}"#, .unprocessableContent, "negative"),
                (.put, "/v1/gateway/deployments/d", #"{"provider":"openai","model":"m","timeouts":{"total":0}}"#, .unprocessableContent, "timeout"),
                (.put, "/v1/gateway/deployments/d", #"{"provider":"openai","model":"m","maxConcurrency":0}"#, .unprocessableContent, "out of range"),
                (.put, "/v1/gateway/providers/p", #"{"kind":"openai","baseURL":"ftp://p.test"}"#, .unprocessableContent, "http:// or https://"),
                (.put, "/v1/gateway/providers/p", #"{"kind":"openai","baseURL":"https://ops:pw@p.test"}"#, .unprocessableContent, "user or password"),
                (.put, "/v1/gateway/providers/p", #"{"kind":"azure-openai","baseURL":"https://p.test"}"#, .unprocessableContent, "api_version"),
                (
                    .put, "/v1/gateway/providers/p", #"{"kind":"openai","baseURL":"https://p.test","credential":"env:CAIRN_OPERATOR_TOKEN"}"#,
                    .unprocessableContent, "stored:NAME"
                ),
                (
                    .put, "/v1/gateway/providers/p", #"{"kind":"openai","baseURL":"https://p.test","credential":"stored:none"}"#,
                    .unprocessableContent, "unknown credential 'none'"
                ),
                (.put, "/v1/gateway/providers/p", #"{"kind":"openai","baseURL":"https://p.test","debug":true}"#, .unprocessableContent, "schema"),
                (.put, "/v1/gateway/credentials/c", #"{"secret":"a\u0000b"}"#, .unprocessableContent, "control characters"),
                (.put, "/v1/api-keys/\(keyID)/budgets/day", #"{"limitUSD":-5}"#, .unprocessableContent, "limitUSD"),
                (.put, "/v1/api-keys/\(keyID)/budgets/day", #"{"limitUSD":1e12}"#, .unprocessableContent, "limitUSD"),
                (.put, "/v1/api-keys/\(keyID)/budgets/weekly", #"{"limitUSD":5}"#, .unprocessableContent, "day, month or total"),
                (.put, "/v1/api-keys/not-a-key/budgets/day", #"{"limitUSD":5}"#, .notFound, "API key"),
                (.put, "/v1/api-keys/\(keyID)/model-limits", #"{"requestsPerMinute":0}"#, .unprocessableContent, "requestsPerMinute"),
                (.put, "/v1/api-keys/\(keyID)/model-limits", #"{"allowedModels":["two words"]}"#, .unprocessableContent, "without spaces"),
                (.get, "/v1/usage?from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", nil, .unprocessableContent, "before"),
                (.get, "/v1/usage?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", nil, .unprocessableContent, "366 days"),
                (.get, "/v1/usage?group_by=planet", nil, .unprocessableContent, "tenant, key, model or day"),
            ]
            for (method, path, body, status, phrase) in cases {
                let problem = try await client.send(method, path, token: admin, json: body).expectProblem(status)
                #expect((problem["detail"] as? String)?.contains(phrase) == true, "\(path): \(problem["detail"] ?? "")")
            }
            let catalog = try await client.send(.get, "/v1/gateway/catalog", token: admin)
            #expect(Self.entries(catalog, "aliases").keys.sorted() == ["chat"])
            #expect(Self.entries(catalog, "deployments").keys.sorted() == ["gpt-small"])
            #expect(Self.entries(catalog, "providers").keys.sorted() == ["openai"])
            #expect((try await client.send(.get, "/v1/gateway/budgets", token: admin).json["budgets"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("Without a master key, storing a credential answers 409 naming CAIRN_MASTER_KEY; the rest of the gateway's administration works")
    func noMasterKey() async throws {
        try await withTestApp(platformCatalog: Self.platform, masterKey: nil) { client, fixture in
            let problem = try await client.send(.put, "/v1/gateway/credentials/c", token: fixture.northbankAdmin, json: #"{"secret":"sk-1"}"#)
                .expectProblem(.conflict)
            #expect((problem["detail"] as? String)?.contains("CAIRN_MASTER_KEY") == true)
            let alias = try await client.send(
                .put,
                "/v1/gateway/aliases/fast",
                token: fixture.northbankAdmin,
                json: #"{"deployments":["gpt-small"]}"#
            )
            #expect(alias.status == .created)
        }
    }

    @Test("A tenant alias overriding the platform's routes the tenant's next call, and the stored credential reaches the upstream")
    func overrideTakesEffect() async throws {
        try await Self.withMockPlatform { client, fixture, mock in
            let admin = fixture.northbankAdmin
            let ask = #"{"model":"chat","messages":[{"role":"user","content":"What is the KYC refresh period?"}],"max_tokens":16}"#
            let before = try await client.send(.post, "/openai/v1/chat/completions", token: admin, json: ask)
            #expect(before.status == .ok, "\(String(buffer: before.body))")
            #expect(before.headers[HTTPField.Name("x-cairn-deployment")!] == "platform-chat")

            #expect(
                try await client.send(.put, "/v1/gateway/credentials/mock-key", token: admin, json: #"{"secret":"sk-tenant-5150"}"#).status
                    == .noContent
            )
            let provider = #"{"kind":"mock","baseURL":"\#(mock.baseURL)/v1","credential":"stored:mock-key"}"#
            #expect(try await client.send(.put, "/v1/gateway/providers/own-mock", token: admin, json: provider).status == .created)
            let deployment = #"{"provider":"own-mock","model":"tenant-model"}"#
            #expect(try await client.send(.put, "/v1/gateway/deployments/tenant-chat", token: admin, json: deployment).status == .created)
            #expect(
                try await client.send(.put, "/v1/gateway/aliases/chat", token: admin, json: #"{"deployments":["tenant-chat"]}"#).status
                    == .created
            )

            // At once, on this node: no cache lifetime to wait out.
            let after = try await client.send(.post, "/openai/v1/chat/completions", token: admin, json: ask)
            #expect(after.status == .ok, "\(String(buffer: after.body))")
            #expect(after.headers[HTTPField.Name("x-cairn-deployment")!] == "tenant-chat")
            #expect(mock.script.requestCount(model: "tenant-model") == 1)
            #expect(mock.script.lastRequest(model: "tenant-model")?.header("authorization") == "Bearer sk-tenant-5150")
            // The platform deployment sends no credential, and the tenant's went nowhere else.
            #expect(mock.script.lastRequest(model: "platform-model")?.header("authorization") == nil)

            // The other tenant still gets the platform's alias.
            let other = try await client.send(.post, "/openai/v1/chat/completions", token: fixture.southbankAdmin, json: ask)
            #expect(other.headers[HTTPField.Name("x-cairn-deployment")!] == "platform-chat")
            #expect(mock.script.requestCount(model: "platform-model") == 2)

            // A replaced secret is used from the next call on.
            #expect(
                try await client.send(.put, "/v1/gateway/credentials/mock-key", token: admin, json: #"{"secret":"sk-rotated"}"#).status
                    == .noContent
            )
            #expect(try await client.send(.post, "/openai/v1/chat/completions", token: admin, json: ask).status == .ok)
            #expect(mock.script.lastRequest(model: "tenant-model")?.header("authorization") == "Bearer sk-rotated")
        }
    }

    @Test(
        "With the tenant's privacy policy on, personal data leaves for the provider redacted; the other tenant's calls and checksum look-alikes are untouched"
    )
    func redactsOutboundPersonalData() async throws {
        try await Self.withMockPlatform { client, fixture, mock in
            let admin = fixture.northbankAdmin
            // A valid IBAN and e-mail address, and a policy reference that only looks like a card number.
            let text = "Refund GB82 WEST 1234 5698 7654 32 and write to jane.doe@example.com; see policy 4111 1111 1111 1112."
            let ask = #"{"model":"chat","messages":[{"role":"user","content":"\#(text)"}],"max_tokens":16}"#
            func sent() throws -> String {
                let request = try #require(mock.script.lastRequest(model: "platform-model")?.json)
                return "\(request)"
            }
            #expect(try await client.send(.post, "/openai/v1/chat/completions", token: admin, json: ask).status == .ok)
            #expect(try sent().contains("jane.doe@example.com"), "the policy is off by default")
            let policy = try await client.send(.get, "/v1/gateway/privacy", token: admin)
            #expect(String(buffer: policy.body) == #"{"redactPersonalData":false}"#)

            let set = try await client.send(.put, "/v1/gateway/privacy", token: admin, json: #"{"redactPersonalData":true}"#)
            #expect(set.status == .ok, "\(String(buffer: set.body))")
            #expect(try await client.send(.post, "/openai/v1/chat/completions", token: admin, json: ask).status == .ok)
            let redacted = try sent()
            #expect(!redacted.contains("jane.doe@example.com") && !redacted.contains("GB82 WEST"), "\(redacted)")
            #expect(redacted.contains("[REDACTED:email]") && redacted.contains("[REDACTED:iban]") && redacted.contains("4111 1111 1111 1112"))

            #expect(try await client.send(.post, "/openai/v1/chat/completions", token: fixture.southbankAdmin, json: ask).status == .ok)
            #expect(try sent().contains("jane.doe@example.com"), "another tenant's policy is its own")

            #expect(
                try await client.send(.put, "/v1/gateway/privacy", token: admin, json: #"{"redactPersonalData":"yes"}"#).status
                    == .unprocessableContent
            )
            let audit = try await client.send(.get, "/v1/audit?action=gateway.privacy.set", token: admin)
            #expect(String(buffer: audit.body).contains("gateway.privacy.set"))
        }
    }

    /// Runs `body` against an app whose platform catalog routes `chat` to the mock's `platform-model`.
    static func withMockPlatform(
        _ body: @escaping @Sendable (any TestClientProtocol, Fixture, MockModelServer.Running) async throws -> Void
    ) async throws {
        try await MockModelServer.withRunning { mock in
            let platform = GatewayCatalog(
                providers: [ModelProviderConfiguration(name: "mock", kind: .mock, baseURL: mock.baseURL + "/v1")],
                deployments: [ModelDeployment(name: "platform-chat", provider: "mock", model: "platform-model")],
                aliases: [ModelAlias(name: "chat", deployments: ["platform-chat"])]
            )
            try await withTestApp(platformCatalog: platform) { client, fixture in try await body(client, fixture, mock) }
        }
    }
}
