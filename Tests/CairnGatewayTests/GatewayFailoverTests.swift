import CairnCore
import CairnMockLLM
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import Testing

@testable import CairnGateway

/// The gateway against the `mock` provider over real HTTP on loopback: a primary deployment
/// that fails in each way a provider fails, and a fallback that answers.
@Suite("Gateway failover")
struct GatewayFailoverTests {
    static let principal = Principal.localAdministrator(of: Tenant(id: TenantID(), name: try! TenantName("northbank"), createdAt: Date()))

    /// A gateway routing alias `chat` to `primary` then `fallback`, both on the mock at `baseURL`.
    static func gateway(
        _ baseURL: String,
        store: CairnStore,
        breakers: DeploymentPool.Breakers = .init(failureThreshold: 3, cooldown: .milliseconds(300)),
        firstToken: Duration = .seconds(20),
        clock: ManualClock? = nil
    ) -> (ModelGateway, DeploymentPool) {
        let provider = ModelProviderConfiguration(name: "mock", kind: .mock, baseURL: baseURL + "/v1")
        // Only the primary's first-token timeout is short (it is what a hang trips); the
        // fallback's is generous, so a loaded machine cannot time it out too.
        let catalog = GatewayCatalog(
            providers: [provider],
            deployments: [
                ModelDeployment(
                    name: "primary",
                    provider: "mock",
                    model: "primary-model",
                    timeouts: DeploymentTimeouts(connect: .seconds(5), firstToken: firstToken, total: .seconds(30))
                ),
                ModelDeployment(
                    name: "fallback",
                    provider: "mock",
                    model: "fallback-model",
                    timeouts: DeploymentTimeouts(connect: .seconds(5), firstToken: .seconds(20), total: .seconds(30))
                ),
            ],
            aliases: [ModelAlias(name: "chat", deployments: ["primary", "fallback"])]
        )
        let pool = clock.map { clock in DeploymentPool(breakers: breakers) { clock.continuousNow } } ?? DeploymentPool(breakers: breakers)
        let gateway = ModelGateway(
            catalogs: FixedGatewayCatalog(catalog),
            pool: pool,
            credentials: ProviderCredentials(environment: [:]),
            localEmbedder: nil,
            bookkeeping: GatewayBookkeeping(books: store.gatewayBooks, logger: Logger(label: "cairn.test.gateway")),
            configuration: .init(retry: RetryPolicy(attemptsPerDeployment: 2, base: .milliseconds(1), cap: .milliseconds(5))),
            logger: Logger(label: "cairn.test.gateway")
        )
        return (gateway, pool)
    }

    static func ask(_ text: String = "What is the KYC refresh period?", stream: Bool = false) -> ChatRequest {
        var request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: text)], maxTokens: 64)
        request.stream = stream ? true : nil
        return request
    }

    /// Runs `body` with the mock up and a gateway on it; the pool's clients close afterwards.
    static func withGateway(
        breakers: DeploymentPool.Breakers = .init(failureThreshold: 3, cooldown: .milliseconds(300)),
        firstToken: Duration = .seconds(20),
        clock: ManualClock? = nil,
        _ body: @Sendable (ModelGateway, MockScript, DeploymentPool) async throws -> Void
    ) async throws {
        try await withTestStore(.sqlite) { store in
            try await MockModelServer.withRunning { mock in
                let (gateway, pool) = gateway(mock.baseURL, store: store, breakers: breakers, firstToken: firstToken, clock: clock)
                do {
                    try await body(gateway, mock.script, pool)
                    try await pool.shutdown()
                } catch {
                    try? await pool.shutdown()
                    throw error
                }
            }
        }
    }

    @Test(
        "Each way the primary fails — 500, 429 with Retry-After, a timeout, a reset — is answered by the fallback",
        arguments: [
            MockStep.fail(status: 500), .fail(status: 503), .fail(status: 429, retryAfter: 0), .hang, .reset,
        ]
    )
    func failover(fault: MockStep) async throws {
        try await Self.withGateway(firstToken: .milliseconds(500)) { gateway, script, _ in
            script.setFault(fault, model: "primary-model")
            let answer = try await gateway.complete(Self.ask(), for: Self.principal)
            #expect(answer.message?.content?.hasPrefix("Mock reply to:") == true)
            #expect(answer.cairn?.deployment == "fallback")
            #expect(answer.cairn?.attempts == 3, "two attempts at the primary, one at the fallback")
            #expect(answer.model == "chat", "the caller sees the alias it asked for")
            #expect(script.requestCount(model: "primary-model") == 2)
            #expect(script.requestCount(model: "fallback-model") == 1)
        }
    }

    @Test("A request the provider rejects (400) is not retried at the same deployment")
    func rejectedIsNotRetried() async throws {
        try await Self.withGateway { gateway, script, _ in
            script.setFault(.fail(status: 400), model: "primary-model")
            script.setFault(.fail(status: 400), model: "fallback-model")
            await #expect {
                try await gateway.complete(Self.ask(), for: Self.principal)
            } throws: { error in
                (error as? CairnError)?.code == .invalidInput
            }
            #expect(script.requestCount(model: "primary-model") == 1)
            #expect(script.requestCount(model: "fallback-model") == 1)
        }
    }

    @Test("The breaker opens at its threshold, the primary then gets no traffic at all, and a half-open probe closes it once it recovers")
    func breaker() async throws {
        // The breakers read a clock the test moves, so however slowly a loaded machine serves the
        // requests, the cooldown passes exactly where the test says and nowhere else.
        let clock = ManualClock()
        try await Self.withGateway(breakers: .init(failureThreshold: 3, cooldown: .seconds(30)), clock: clock) { gateway, script, pool in
            script.setFault(.fail(status: 500), model: "primary-model")
            // Two attempts per request at the primary: the second request's first failure is the third.
            _ = try await gateway.complete(Self.ask(), for: Self.principal)
            _ = try await gateway.complete(Self.ask(), for: Self.principal)
            #expect(pool.breakerStates()["primary"] == .open)
            let beforeOpen = script.requestCount(model: "primary-model")
            #expect(beforeOpen == 3, "the breaker cut the second request's retry short")

            for _ in 0..<10 {
                let answer = try await gateway.complete(Self.ask(), for: Self.principal)
                #expect(answer.cairn?.deployment == "fallback")
                #expect(answer.cairn?.attempts == 1, "the open primary is skipped without an attempt")
            }
            #expect(script.requestCount(model: "primary-model") == beforeOpen, "no traffic while open")

            // The cooldown passes while the primary is still down: the probe fails, it reopens.
            clock.advance(by: .seconds(30))
            _ = try await gateway.complete(Self.ask(), for: Self.principal)
            #expect(script.requestCount(model: "primary-model") == beforeOpen + 1, "exactly one probe")
            #expect(pool.breakerStates()["primary"] == .open)

            // It recovers; the next probe succeeds and closes the breaker.
            script.clearFault(model: "primary-model")
            #expect(try await gateway.complete(Self.ask(), for: Self.principal).cairn?.deployment == "fallback", "still open until the cooldown")
            clock.advance(by: .seconds(30))
            let probe = try await gateway.complete(Self.ask(), for: Self.principal)
            #expect(probe.cairn?.deployment == "primary")
            #expect(pool.breakerStates()["primary"] == .closed)
            let after = try await gateway.complete(Self.ask(), for: Self.principal)
            #expect(after.cairn?.deployment == "primary")
        }
    }

    @Test("Every deployment down: a 502 problem naming what happened; every deployment rate limited: 429 with Retry-After")
    func exhausted() async throws {
        try await Self.withGateway { gateway, script, _ in
            script.setFault(.fail(status: 500))
            await #expect {
                try await gateway.complete(Self.ask(), for: Self.principal)
            } throws: { error in
                let error = error as? CairnError
                return error?.code == .upstreamFailed && error?.message.contains("HTTP 500") == true
            }
            script.setFault(.fail(status: 429, retryAfter: 30))
            await #expect {
                try await gateway.complete(Self.ask(), for: Self.principal)
            } throws: { error in
                let error = error as? CairnError
                return error?.code == .overloaded && error?.retryAfter == .seconds(30)
            }
        }
    }

    /// Collects a stream's text and its terminal failure, if any.
    static func drain(_ stream: GatewayChatStream) async throws -> (text: String, failure: CairnError?, receipt: GatewayReceipt?) {
        var text = ""
        var failure: CairnError?
        var receipt: GatewayReceipt?
        try await stream.deliver { event in
            switch event {
            case .chunk(let chunk):
                text += chunk.choices.compactMap(\.delta.content).joined()
                receipt = chunk.cairn ?? receipt
            case .failure(let error):
                failure = error
            }
        }
        return (text, failure, receipt)
    }

    @Test(
        "A stream whose primary fails before the first token is served whole by the fallback",
        arguments: [MockStep.fail(status: 500), .reset, .hang, .cutStream(afterChunks: 0)]
    )
    func streamFailoverBeforeFirstToken(fault: MockStep) async throws {
        try await Self.withGateway(firstToken: .milliseconds(500)) { gateway, script, _ in
            script.setFault(fault, model: "primary-model")
            let stream = try await gateway.stream(Self.ask(stream: true), for: Self.principal)
            #expect(stream.receipt.deployment == "fallback")
            let (text, failure, receipt) = try await Self.drain(stream)
            #expect(failure == nil)
            #expect(text == "Mock reply to: What is the KYC refresh period?")
            #expect(receipt?.deployment == "fallback")
        }
    }

    @Test("A stream cut after its first token ends with an error event, and nothing from another deployment follows")
    func streamCutAfterFirstToken() async throws {
        try await Self.withGateway { gateway, script, _ in
            script.enqueue(.cutStream(afterChunks: 2), model: "primary-model")
            let stream = try await gateway.stream(Self.ask(stream: true), for: Self.principal)
            #expect(stream.receipt.deployment == "primary")
            let (text, failure, _) = try await Self.drain(stream)
            #expect(failure?.code == .upstreamFailed)
            #expect("Mock reply to: What is the KYC refresh period?".hasPrefix(text) && !text.isEmpty, "only the primary's words: \(text)")
            #expect(script.requestCount(model: "fallback-model") == 0, "no splice from the fallback")
        }
    }

    @Test("A reply that breaks the schema is re-asked with the violations and the repaired reply passes; one that stays broken is rejected with them")
    func structuredOutputRepair() async throws {
        try await Self.withGateway { gateway, script, _ in
            let schema = JSONValue.object([
                "type": .string("object"),
                "properties": .object(["risk": .object(["type": .string("string"), "enum": .array([.string("low"), .string("high")])])]),
                "required": .array([.string("risk")]),
                "additionalProperties": .bool(false),
            ])
            var request = Self.ask("Rate the risk")
            request.responseFormat = .jsonSchema(.init(name: "risk", schema: schema))
            script.enqueue(.json(#"{"risk": "extreme"}"#), .json(#"{"risk": "high"}"#), model: "primary-model")
            let repaired = try await gateway.complete(request, for: Self.principal)
            #expect(repaired.message?.content == #"{"risk": "high"}"#)
            #expect(repaired.cairn?.structuredOutputAttempt == 2)
            let reask = try #require(script.lastRequest(model: "primary-model")?.json)
            guard case .object(let body) = reask, case .array(let messages) = body["messages"] else {
                Issue.record("the re-ask is not a chat request")
                return
            }
            #expect(messages.count == 3, "the question, the broken reply, and the repair request")
            #expect("\(messages.last ?? .null)".contains("/risk must be one of"), "the repair request names the violation")

            script.enqueue(.json("not json"), .json(#"{"risk": 1}"#), .json(#"{"other": true}"#), model: "primary-model")
            await #expect {
                try await gateway.complete(request, for: Self.principal)
            } throws: { error in
                let error = error as? CairnError
                return error?.code == .upstreamFailed && error?.message.contains("after 3 asks") == true && error?.message.contains("risk") == true
            }
        }
    }
}
