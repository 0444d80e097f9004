import CairnCore
import Foundation
import Testing

@testable import CairnGateway

@Suite("Gateway routing pieces")
struct RoutingTests {
    @Test("The breaker opens at its threshold, rejects while open, lets exactly one probe through after the cooldown, and closes on its success")
    func breakerLifecycle() {
        let breaker = CircuitBreaker(failureThreshold: 3, cooldown: .seconds(10))
        let start = ContinuousClock.now
        #expect(breaker.admit(now: start) == .allowed)
        #expect(!breaker.recordFailure(now: start))
        #expect(!breaker.recordFailure(now: start))
        #expect(breaker.recordFailure(now: start), "the third consecutive failure opens it")
        #expect(breaker.state == .open)
        #expect(breaker.admit(now: start + .seconds(9)) == .rejected)
        #expect(breaker.admit(now: start + .seconds(10)) == .probe)
        #expect(breaker.admit(now: start + .seconds(10)) == .rejected, "one probe at a time")
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
        #expect(breaker.admit(now: start + .seconds(11)) == .allowed)
    }

    @Test("A failed probe reopens the breaker for another cooldown; a success in between resets the count")
    func failedProbe() {
        let breaker = CircuitBreaker(failureThreshold: 2, cooldown: .seconds(5))
        let start = ContinuousClock.now
        breaker.recordFailure(now: start)
        breaker.recordSuccess()
        #expect(!breaker.recordFailure(now: start), "the success reset the consecutive count")
        #expect(breaker.recordFailure(now: start))
        #expect(breaker.admit(now: start + .seconds(5)) == .probe)
        #expect(breaker.recordFailure(now: start + .seconds(5)))
        #expect(breaker.admit(now: start + .seconds(9)) == .rejected)
        #expect(breaker.admit(now: start + .seconds(10)) == .probe)
        breaker.recordNeutral()
        #expect(breaker.admit(now: start + .seconds(10)) == .probe, "a probe that said nothing hands its slot back")
    }

    @Test("Backoff has full jitter under an exponential cap, honours Retry-After, and never retries what cannot change")
    func retryPolicy() {
        let policy = RetryPolicy(attemptsPerDeployment: 4, base: .milliseconds(100), cap: .seconds(1), longestRetryAfter: .seconds(5))
        var generator = SystemRandomNumberGenerator()
        let serverError = UpstreamFailure(.status(503), deployment: "a")
        for retry in 1...3 {
            for _ in 0..<200 {
                let delay = policy.delay(beforeRetry: retry, after: serverError, using: &generator)
                let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (retry - 1)))
                #expect(delay.map { $0 >= .zero && $0 <= ceiling } == true)
            }
        }
        #expect(policy.delay(beforeRetry: 4, after: serverError, using: &generator) == nil, "attempts are spent")
        #expect(policy.delay(beforeRetry: 1, after: UpstreamFailure(.status(400), deployment: "a"), using: &generator) == nil)
        let limited = UpstreamFailure(.rateLimited(retryAfter: .seconds(2)), deployment: "a")
        #expect(policy.delay(beforeRetry: 1, after: limited, using: &generator) == .seconds(2))
        let tooLong = UpstreamFailure(.rateLimited(retryAfter: .seconds(60)), deployment: "a")
        #expect(policy.delay(beforeRetry: 1, after: tooLong, using: &generator) == nil, "a long Retry-After moves on to the next deployment")
    }

    @Test("Aliases resolve in order, weighted aliases draw by weight, and a tenant's entries override the platform's")
    func catalogRoutes() throws {
        let provider = ModelProviderConfiguration(name: "p", kind: .openAI, baseURL: "http://127.0.0.1:1/v1")
        let heavy = ModelDeployment(name: "heavy", provider: "p", model: "m1", weight: 9)
        let light = ModelDeployment(name: "light", provider: "p", model: "m2", weight: 1)
        let vectors = ModelDeployment(name: "vectors", provider: "p", model: "e", capability: .embeddings)
        let platform = GatewayCatalog(
            providers: [provider],
            deployments: [heavy, light, vectors],
            aliases: [
                ModelAlias(name: "ordered", deployments: ["light", "heavy", "vectors"]),
                ModelAlias(name: "weighted", strategy: .weighted, deployments: ["heavy", "light"]),
            ]
        )
        var generator = SystemRandomNumberGenerator()
        #expect(platform.route("ordered", capability: .chat, using: &generator)?.map(\.deployment.name) == ["light", "heavy"])
        #expect(platform.route("vectors", capability: .embeddings, using: &generator)?.map(\.deployment.name) == ["vectors"])
        #expect(platform.route("vectors", capability: .chat, using: &generator) == nil)
        #expect(platform.route("unknown", capability: .chat, using: &generator) == nil)
        var firstHeavy = 0
        for _ in 0..<2000 where platform.route("weighted", capability: .chat, using: &generator)?.first?.deployment.name == "heavy" {
            firstHeavy += 1
        }
        #expect((1600...1990).contains(firstHeavy), "heavy leads about 90% of the time, got \(firstHeavy) of 2000")

        let tenant = GatewayCatalog(aliases: [ModelAlias(name: "ordered", deployments: ["heavy"])])
        #expect(platform.overlaid(with: tenant).route("ordered", capability: .chat, using: &generator)?.map(\.deployment.name) == ["heavy"])
    }

    @Test("Costs are whole nanodollars, rounded up, and never drift when summed")
    func prices() {
        let price = TokenPrice(inputPerMillion: USD(dollars: 0.15)!, outputPerMillion: USD(dollars: 0.6)!)
        #expect(price.cost(input: 1, output: 0) == USD(nanodollars: 150))
        #expect(price.cost(input: 1_000_000, output: 1_000_000) == USD(dollars: 0.75))
        let odd = TokenPrice(inputPerMillion: USD(nanodollars: 1), outputPerMillion: .zero)
        #expect(odd.cost(input: 1, output: 0) == USD(nanodollars: 1), "a fraction of a nanodollar rounds up")
        #expect(USD(dollars: -1) == nil && USD(dollars: .nan) == nil)
        #expect(USD(dollars: 12.5)!.description == "$12.500000")
    }

    @Test("The SSE parser handles any split, CRLF, comments and multi-line data, and bounds an endless event")
    func serverSentEvents() throws {
        let text = ": comment\r\nevent: delta\r\ndata: {\"a\":1}\r\n\r\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n"
        let bytes = Array(text.utf8)
        for split in 1..<bytes.count {
            var parser = ServerSentEventParser()
            let events = try parser.parse(bytes[..<split]) + parser.parse(bytes[split...])
            #expect(
                events == [
                    ServerSentEvent(event: "delta", data: #"{"a":1}"#), ServerSentEvent(data: "line one\nline two"), ServerSentEvent(data: "[DONE]"),
                ]
            )
        }
        var bounded = ServerSentEventParser(maximumEventBytes: 64)
        #expect(throws: ServerSentEventParser.TooLarge.self) { try bounded.parse(Array(repeating: UInt8(ascii: "x"), count: 100)) }
    }

    @Test("A catalog file with a dangling reference, a bad price or a missing Azure api_version is refused with a sentence")
    func catalogDocumentChecks() throws {
        func load(_ json: String) throws -> GatewayCatalog {
            try JSONDecoder().decode(GatewayCatalogDocument.self, from: Data(json.utf8)).catalog()
        }
        let good = """
            {"providers":[{"name":"p","kind":"openai","base_url":"http://127.0.0.1:9/v1","credential":"env:KEY"}],
             "deployments":[{"name":"d","provider":"p","model":"m","input_usd_per_million":0.5,"output_usd_per_million":1.5,"timeouts":{"first_token":2}}],
             "aliases":[{"name":"chat","strategy":"ordered","deployments":["d"]}]}
            """
        let catalog = try load(good)
        #expect(catalog.deployments["d"]?.price.inputPerMillion == USD(dollars: 0.5))
        #expect(catalog.deployments["d"]?.timeouts.firstToken == .seconds(2))
        #expect(catalog.providers["p"]?.credential == .environment("KEY"))
        let cases = [
            (good.replacingOccurrences(of: #""deployments":["d"]"#, with: #""deployments":["x"]"#), "unknown deployment 'x'"),
            (good.replacingOccurrences(of: #""provider":"p""#, with: #""provider":"q""#), "unknown provider 'q'"),
            (good.replacingOccurrences(of: "0.5", with: "-0.5"), "negative"),
            (good.replacingOccurrences(of: #""kind":"openai""#, with: #""kind":"azure-openai""#), "api_version"),
            (good.replacingOccurrences(of: #""first_token":2"#, with: #""first_token":0"#), "timeout"),
        ]
        for (json, expected) in cases {
            #expect {
                try load(json)
            } throws: { error in
                (error as? CairnError)?.message.contains(expected) == true
            }
        }
    }
}
