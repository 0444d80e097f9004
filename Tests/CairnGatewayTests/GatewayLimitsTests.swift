import CairnCore
import CairnMockLLM
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import Testing

@testable import CairnGateway

/// Budgets and rate limits, through the gateway against the mock over real HTTP, on every
/// engine the run has.
@Suite("Gateway budgets and rate limits")
struct GatewayLimitsTests {
    /// A tenant with one API key (analyst) and the principal that key resolves to.
    static func tenantWithKey(_ store: CairnStore) async throws -> (Principal, APIKeyID) {
        let tenant = try await store.tenants.create(name: TenantName("budgetbank"), actor: "test")
        let created = try await store.apiKeys.create(
            by: .localAdministrator(of: tenant),
            name: "app",
            grant: APIKeyGrant(subject: "app", roles: [.analyst]),
            expiresAt: nil
        )
        let principal = Principal(
            tenantID: tenant.id,
            tenantName: tenant.name,
            subject: "app",
            roles: [.analyst],
            groups: [],
            attributes: AccessAttributes(),
            credential: .apiKey(created.key.id)
        )
        return (principal, created.key.id)
    }

    /// Priced deployments `primary` → `fallback` on the mock; $1 per million tokens each way.
    static func gateway(_ baseURL: String, store: CairnStore, clock: ManualClock? = nil) -> (ModelGateway, GatewayBookkeeping, DeploymentPool) {
        let price = TokenPrice(inputPerMillion: USD(dollars: 1)!, outputPerMillion: USD(dollars: 1)!)
        let catalog = GatewayCatalog(
            providers: [ModelProviderConfiguration(name: "mock", kind: .mock, baseURL: baseURL + "/v1")],
            deployments: [
                ModelDeployment(name: "primary", provider: "mock", model: "primary-model", price: price, defaultMaxOutputTokens: 200),
                ModelDeployment(name: "fallback", provider: "mock", model: "fallback-model", price: price, defaultMaxOutputTokens: 200),
            ],
            aliases: [ModelAlias(name: "chat", deployments: ["primary", "fallback"])]
        )
        let logger = Logger(label: "cairn.test.gateway")
        let bookkeeping = GatewayBookkeeping(books: store.gatewayBooks, logger: logger)
        let pool = clock.map { clock in DeploymentPool { clock.continuousNow } } ?? DeploymentPool()
        let gateway = ModelGateway(
            catalogs: FixedGatewayCatalog(catalog),
            pool: pool,
            credentials: ProviderCredentials(environment: [:]),
            localEmbedder: nil,
            bookkeeping: bookkeeping,
            configuration: .init(retry: RetryPolicy(attemptsPerDeployment: 2, base: .milliseconds(1), cap: .milliseconds(5))),
            logger: logger
        )
        return (gateway, bookkeeping, pool)
    }

    static func request(stream: Bool) -> ChatRequest {
        var request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "Summarise the sanctions policy")], maxTokens: 100)
        request.stream = stream ? true : nil
        return request
    }

    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        case plain, streaming, retrying
        var testDescription: String { rawValue }
    }

    @Test(
        "50 concurrent calls against a budget for about 10: the ledger never exceeds it, the rest get a 402 sentence",
        arguments: TestEngine.all,
        Mode.allCases
    )
    func budgetHoldsUnderConcurrency(engine: TestEngine, mode: Mode) async throws {
        try await withTestStore(engine) { store in
            let (principal, key) = try await Self.tenantWithKey(store)
            try await MockModelServer.withRunning { mock in
                let (gateway, bookkeeping, pool) = Self.gateway(mock.baseURL, store: store)
                defer { Task { try? await pool.shutdown() } }
                // Every call finishes after 50 ms, so the 50 overlap; in `retrying`, the primary
                // fails every time and each call is retried before the fallback answers.
                mock.script.setLatency(MockLatency(firstByte: .milliseconds(50)))
                // Replies cut at max_tokens make each call cost about two thirds of its worst case,
                // so however the calls interleave on a loaded machine, 15 at most fit the budget.
                let long = Array(repeating: "word", count: 150).joined(separator: " ")
                for model in ["primary-model", "fallback-model"] {
                    mock.script.enqueue(Array(repeating: MockStep.reply(long), count: 60), model: model)
                }
                if mode == .retrying { mock.script.setFault(.fail(status: 500), model: "primary-model") }
                let request = Self.request(stream: mode == .streaming)
                let worstCase = TokenPrice(inputPerMillion: USD(dollars: 1)!, outputPerMillion: USD(dollars: 1)!)
                    .cost(input: request.promptTokenBound, output: 100)
                let limit = USD(nanodollars: worstCase.nanodollars * 10 + worstCase.nanodollars / 2)
                // The tenant's budget and a looser one on the key: both apply.
                let budget = try await store.gatewayBooks.setBudget(
                    tenant: principal.tenantID,
                    apiKeyID: nil,
                    period: .day,
                    limit: limit,
                    actor: "test"
                )
                try await store.gatewayBooks.setBudget(
                    tenant: principal.tenantID,
                    apiKeyID: key,
                    period: .month,
                    limit: USD(dollars: 100)!,
                    actor: "test"
                )

                let outcomes = await withTaskGroup(of: String.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            do {
                                if mode == .streaming {
                                    let stream = try await gateway.stream(request, for: principal)
                                    try await stream.deliver { _ in }
                                } else {
                                    _ = try await gateway.complete(request, for: principal)
                                }
                                return "ok"
                            } catch let error as CairnError {
                                return error.code == .budgetExhausted && error.message.contains("budget") ? "402" : "other: \(error)"
                            } catch {
                                return "other: \(error)"
                            }
                        }
                    }
                    return await group.reduce(into: [String]()) { $0.append($1) }
                }
                try await bookkeeping.flush()
                let succeeded = outcomes.filter { $0 == "ok" }.count
                let unexpected = outcomes.filter { $0 != "ok" && $0 != "402" }
                #expect(unexpected.isEmpty, "\(unexpected)")
                #expect((5...16).contains(succeeded), "about ten fit the budget; \(succeeded) succeeded")
                #expect(outcomes.contains("402"))
                let spent = try await store.gatewayBooks.totalCost(of: principal.tenantID)
                #expect(spent <= limit, "the ledger's \(spent) exceeds the budget \(limit)")
                #expect(spent > .zero)
                let window = try await store.gatewayBooks.window(budget, start: BudgetPeriod.day.windowStart(containing: Date()))
                #expect(window.spent == spent, "every committed cost reached the budget window")
                #expect(window.spent + window.allotted <= limit)
            }
        }
    }

    @Test("A request-per-minute limit answers 429 with a Retry-After; a token-per-minute limit too; a model outside the key's list is refused")
    func rateLimits() async throws {
        try await withTestStore(.sqlite) { store in
            let (principal, key) = try await Self.tenantWithKey(store)
            try await MockModelServer.withRunning { mock in
                // The buckets refill on a clock that stands still, so however long a loaded machine
                // takes over the calls, the fourth finds the bucket exactly empty.
                let (gateway, _, pool) = Self.gateway(mock.baseURL, store: store, clock: ManualClock())
                defer { Task { try? await pool.shutdown() } }
                try await store.gatewayBooks.setLimits(ModelAccessLimits(requestsPerMinute: 3), of: key, tenant: principal.tenantID, actor: "test")
                for _ in 0..<3 { _ = try await gateway.complete(Self.request(stream: false), for: principal) }
                await #expect {
                    try await gateway.complete(Self.request(stream: false), for: principal)
                } throws: { error in
                    // A token comes back every 20 s.
                    (error as? CairnError)?.code == .overloaded && (error as? CairnError)?.retryAfter == .seconds(20)
                }
            }
        }
        try await withTestStore(.sqlite) { store in
            let (principal, key) = try await Self.tenantWithKey(store)
            try await MockModelServer.withRunning { mock in
                let (gateway, _, pool) = Self.gateway(mock.baseURL, store: store, clock: ManualClock())
                defer { Task { try? await pool.shutdown() } }
                try await store.gatewayBooks.setLimits(
                    ModelAccessLimits(allowedModels: ["chat"], tokensPerMinute: 300),
                    of: key,
                    tenant: principal.tenantID,
                    actor: "test"
                )
                // Each call takes an estimate of about 130 tokens up front and really uses about
                // 107 (a reply cut at max_tokens = 100): two fit in 300 a minute, the third waits.
                let long = Array(repeating: "word", count: 150).joined(separator: " ")
                mock.script.enqueue(.reply(long), .reply(long), .reply(long), model: "primary-model")
                _ = try await gateway.complete(Self.request(stream: false), for: principal)
                _ = try await gateway.complete(Self.request(stream: false), for: principal)
                await #expect {
                    try await gateway.complete(Self.request(stream: false), for: principal)
                } throws: { error in
                    (error as? CairnError)?.code == .overloaded && (error as? CairnError)?.retryAfter != nil
                }
                var other = Self.request(stream: false)
                other.model = "primary"
                await #expect {
                    try await gateway.complete(other, for: principal)
                } throws: { error in
                    (error as? CairnError)?.code == .forbidden
                }
            }
        }
    }

    @Test("An opted-in identical request is answered from the tenant's cache at no cost and without an upstream call; another tenant misses")
    func responseCache() async throws {
        try await withTestStore(.sqlite) { store in
            let (principal, _) = try await Self.tenantWithKey(store)
            let other = Principal.localAdministrator(of: try await store.tenants.create(name: TenantName("otherbank"), actor: "test"))
            try await MockModelServer.withRunning { mock in
                let (gateway, bookkeeping, pool) = Self.gateway(mock.baseURL, store: store)
                defer { Task { try? await pool.shutdown() } }
                let request = Self.request(stream: false)
                let first = try await gateway.complete(request, for: principal, cacheTTL: .seconds(60))
                let second = try await gateway.complete(request, for: principal, cacheTTL: .seconds(60))
                #expect(first.cairn?.cacheHit == false && second.cairn?.cacheHit == true)
                #expect(second.cairn?.attempts == 0 && second.cairn?.deployment == "primary")
                #expect(second.message == first.message)
                #expect(mock.script.requestCount(model: "primary-model") == 1)

                var changed = request
                changed.temperature = 0.5
                _ = try await gateway.complete(changed, for: principal, cacheTTL: .seconds(60))
                _ = try await gateway.complete(request, for: other, cacheTTL: .seconds(60))
                _ = try await gateway.complete(request, for: principal)
                #expect(
                    mock.script.requestCount(model: "primary-model") == 4,
                    "a changed request, another tenant and a caller not opting in all miss"
                )

                try await bookkeeping.flush()
                let usage = try await store.gatewayBooks.usage(
                    of: principal.tenantID,
                    groupedBy: .model,
                    from: .distantPast,
                    to: Date().addingTimeInterval(60)
                )
                #expect(usage.first?.calls == 4, "the hit is on the ledger too")
                let paid = try await store.gatewayBooks.totalCost(of: principal.tenantID)
                let usage1 = try #require(first.usage)
                let each = TokenPrice(inputPerMillion: USD(dollars: 1)!, outputPerMillion: USD(dollars: 1)!)
                    .cost(input: usage1.promptTokens, output: usage1.completionTokens)
                #expect(paid == each + each + each, "three paid calls; the hit was free")
            }
        }
    }
}
