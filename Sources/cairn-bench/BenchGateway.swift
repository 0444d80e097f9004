import ArgumentParser
import AsyncHTTPClient
import CairnCore
import CairnDocuments
import CairnGateway
import CairnIdentity
import CairnIngest
import CairnJobs
import CairnMockLLM
import CairnRuntime
import CairnSearch
import CairnServer
import CairnStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// `cairn bench gateway`: the latency the gateway adds to a chat call.
///
/// One process holds the upstream (the `mock` provider on loopback, answering at once), Cairn's
/// whole HTTP application (authentication, key limits, a tenant budget, the ledger) and the
/// load generator. The same client sends the same chat request, open-loop at `--rate` per
/// second, once straight to the upstream and once through `/openai/v1/chat/completions`;
/// phases alternate `--runs` times and the medians are reported. The added latency is the
/// difference of the two distributions' quantiles.
///
/// A third phase prices what being a server in the path costs on this machine, so the
/// gateway's own work can be told apart from it: a bare forwarding proxy — one Hummingbird
/// route that hands the body to the upstream with the same client and returns the reply, with
/// no authentication, limits, budget or ledger. The latency it adds is the floor for any
/// gateway built from these parts.
struct BenchGateway: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Latency the gateway adds over a direct call to the same upstream."
    )

    @OptionGroup var logging: LoggingOptions

    @Option(help: "Requests per second, open-loop.")
    var rate = 1000

    @Option(help: "Seconds each phase lasts (after a one-second warm-up).")
    var seconds = 10

    @Option(help: "Phases of each kind; medians are reported.")
    var runs = 3

    @Option(help: "Connections the client may open.")
    var connections = 64

    func run(settings: Settings, logger base: Logger) async throws {
        guard (1...50_000).contains(rate), (1...600).contains(seconds), (1...15).contains(runs), (1...1024).contains(connections) else {
            throw CairnError(.invalidInput, "--rate takes 1–50,000, --seconds 1–600, --runs 1–15 and --connections 1–1,024.")
        }
        var quiet = base
        quiet.logLevel = .error
        let logger = quiet
        try await CairnStore.withScratch(postgres: nil, maximumConnections: 4, schema: .cairn, logger: logger) { store in
            try await MockModelServer.withRunning(script: MockScript(requiredAPIKey: "bench-upstream-key")) { mock in
                try await measure(store: store, mockURL: mock.baseURL, logger: logger)
            }
        }
    }

    private func measure(store: CairnStore, mockURL: String, logger: Logger) async throws {
        let tenant = try await store.tenants.create(name: TenantName("bench"), actor: "bench")
        let created = try await store.apiKeys.create(
            by: .localAdministrator(of: tenant),
            name: "bench",
            grant: APIKeyGrant(subject: "bench", roles: [.analyst]),
            expiresAt: nil
        )
        // Every check a production call passes: key limits and a budget, far from binding.
        try await store.gatewayBooks.setLimits(
            ModelAccessLimits(requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000),
            of: created.key.id,
            tenant: tenant.id,
            actor: "bench"
        )
        try await store.gatewayBooks.setBudget(tenant: tenant.id, apiKeyID: nil, period: .day, limit: USD(dollars: 1_000_000)!, actor: "bench")

        let catalog = GatewayCatalog(
            providers: [
                ModelProviderConfiguration(name: "mock", kind: .mock, baseURL: mockURL + "/v1", credential: .environment("BENCH_UPSTREAM_KEY"))
            ],
            deployments: [
                ModelDeployment(
                    name: "mock-chat",
                    provider: "mock",
                    model: "mock-model",
                    price: TokenPrice(inputPerMillion: USD(dollars: 0.15)!, outputPerMillion: USD(dollars: 0.6)!),
                    maxConcurrency: 1024
                )
            ],
            aliases: [ModelAlias(name: "chat", deployments: ["mock-chat"])]
        )
        let bookkeeping = GatewayBookkeeping(books: store.gatewayBooks, logger: logger)
        let pool = DeploymentPool()
        let gateway = ModelGateway(
            catalogs: FixedGatewayCatalog(catalog),
            pool: pool,
            credentials: ProviderCredentials(environment: ["BENCH_UPSTREAM_KEY": "bench-upstream-key"]),
            localEmbedder: nil,
            bookkeeping: bookkeeping,
            logger: logger
        )
        let port = try Self.freePort()
        let search = SearchService(store: store, index: SearchIndex(feed: store.indexFeed, dimension: nil, logger: logger), embedder: nil)
        let blobs = try LocalBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("cairn-bench-blobs-\(UUID().uuidString)"))
        let application = try buildApplication(
            configuration: ServerConfiguration(port: port),
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
            services: [bookkeeping, pool],
            logger: logger
        )
        let body =
            #"{"model":"MODEL","messages":[{"role":"user","content":"What is the KYC refresh period for high-risk customers?"}],"max_tokens":16}"#
        let direct = LoadTarget(
            url: mockURL + "/v1/chat/completions",
            token: "bench-upstream-key",
            body: body.replacingOccurrences(of: "MODEL", with: "mock-model")
        )
        let throughGateway = LoadTarget(
            url: "http://127.0.0.1:\(port)/openai/v1/chat/completions",
            token: created.secret.token,
            body: body.replacingOccurrences(of: "MODEL", with: "chat")
        )
        let proxyPort = try Self.freePort()
        let throughProxy = LoadTarget(url: "http://127.0.0.1:\(proxyPort)/v1/chat/completions", token: direct.token, body: direct.body)

        var client = HTTPClient.Configuration()
        client.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
        let proxy = Self.bareProxy(port: proxyPort, upstream: mockURL, client: http, logger: logger)
        let services = ServiceGroup(configuration: .init(services: [.init(service: application), .init(service: proxy)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            do {
                try await Self.waitUntilListening(http, port: port)
                try await Self.waitUntilListening(http, port: proxyPort)
                try await measure(direct: direct, gateway: throughGateway, proxy: throughProxy, client: http)
                try await bookkeeping.flush()
                let ledger = try await store.gatewayBooks.usage(
                    of: tenant.id,
                    groupedBy: .model,
                    from: .distantPast,
                    to: Date().addingTimeInterval(60)
                )
                print("gateway ledger_calls=\(ledger.reduce(0) { $0 + $1.calls }) ledger_cost=\(ledger.reduce(USD.zero) { $0 + $1.cost })")
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        try await http.shutdown()
    }

    private func measure(direct: LoadTarget, gateway throughGateway: LoadTarget, proxy throughProxy: LoadTarget, client http: HTTPClient) async throws
    {
        print("bench gateway: rate=\(rate)/s seconds=\(seconds) runs=\(runs) connections=\(connections) upstream=mock (loopback, no delay)")
        var directRuns: [LoadResult] = []
        var gatewayRuns: [LoadResult] = []
        var proxyRuns: [LoadResult] = []
        for run in 1...runs {
            let directResult = try await LoadGenerator(client: http, rate: rate, seconds: seconds).run(direct)
            let gatewayResult = try await LoadGenerator(client: http, rate: rate, seconds: seconds).run(throughGateway)
            let proxyResult = try await LoadGenerator(client: http, rate: rate, seconds: seconds).run(throughProxy)
            print(
                String(
                    format:
                        "gateway run=%d direct_p50_ms=%.3f direct_p99_ms=%.3f gateway_p50_ms=%.3f gateway_p99_ms=%.3f proxy_p50_ms=%.3f proxy_p99_ms=%.3f sent_per_s=%.0f failures=%d",
                    run,
                    directResult.p50,
                    directResult.p99,
                    gatewayResult.p50,
                    gatewayResult.p99,
                    proxyResult.p50,
                    proxyResult.p99,
                    gatewayResult.achievedRate,
                    directResult.failures + gatewayResult.failures + proxyResult.failures
                )
            )
            directRuns.append(directResult)
            gatewayRuns.append(gatewayResult)
            proxyRuns.append(proxyResult)
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let directP50 = median(directRuns.map(\.p50))
        let directP99 = median(directRuns.map(\.p99))
        let gatewayP50 = median(gatewayRuns.map(\.p50))
        let gatewayP99 = median(gatewayRuns.map(\.p99))
        let achieved = median(gatewayRuns.map(\.achievedRate))
        let sustained = achieved >= Double(rate) * 0.95 ? "yes" : "no (the most this machine sent: \(Int(achieved))/s)"
        let failures = (directRuns + gatewayRuns + proxyRuns).reduce(0) { $0 + $1.failures }
        let proxyP50 = median(proxyRuns.map(\.p50))
        let proxyP99 = median(proxyRuns.map(\.p99))
        print(
            String(
                format:
                    "gateway added_p50_ms=%.3f added_p99_ms=%.3f ratio_p50=%.2f ratio_p99=%.2f direct_p50_ms=%.3f gateway_p50_ms=%.3f target_added_p50_ms=0.3 target_added_p99_ms=1.0",
                gatewayP50 - directP50,
                gatewayP99 - directP99,
                gatewayP50 / directP50,
                gatewayP99 / directP99,
                directP50,
                gatewayP50
            )
        )
        print(
            String(
                format:
                    "gateway proxy_added_p50_ms=%.3f proxy_added_p99_ms=%.3f beyond_proxy_p50_ms=%.3f beyond_proxy_p99_ms=%.3f (a bare forwarding route, same client: the floor for any server in the path)",
                proxyP50 - directP50,
                proxyP99 - directP99,
                gatewayP50 - proxyP50,
                gatewayP99 - proxyP99
            )
        )
        print("gateway rate_target=\(rate) rate_sustained=\(sustained) failures=\(failures) resident_mib=\(Self.residentMebibytes())")
    }

    /// The anchor for being in the path at all: one route that forwards the chat body to the
    /// upstream with `client` and answers with the upstream's reply, nothing else.
    private static func bareProxy(port: Int, upstream: String, client: HTTPClient, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in HTTPResponse.Status.ok }
        router.post("/v1/chat/completions") { request, _ -> Response in
            var forwarded = HTTPClientRequest(url: upstream + "/v1/chat/completions")
            forwarded.method = .POST
            forwarded.headers.add(name: "Authorization", value: request.headers[.authorization] ?? "")
            forwarded.headers.add(name: "Content-Type", value: "application/json")
            forwarded.body = .bytes(try await request.body.collect(upTo: 1 << 20))
            let response = try await client.execute(forwarded, timeout: .seconds(10))
            let reply = try await response.body.collect(upTo: 1 << 20)
            return Response(
                status: .init(code: Int(response.status.code)),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: reply)
            )
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    }

    /// A port nothing listens on now: bound to port 0, read back, released.
    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw CairnError(.unavailable, "No loopback port could be found for the benchmark's server.") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func waitUntilListening(_ client: HTTPClient, port: Int) async throws {
        for _ in 0..<200 {
            if let response = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CairnError(.unavailable, "The benchmark's server did not start listening.")
    }

    /// This process's resident set, from /proc/self/status.
    private static func residentMebibytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kibibytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return -1 }
        return kibibytes / 1024
    }
}

/// Where one phase sends its requests.
private struct LoadTarget: Sendable {
    let url: String
    let token: String
    /// JSON to POST; `nil` for a GET.
    let body: String?
}

/// One phase's latencies, in milliseconds.
private struct LoadResult: Sendable {
    let p50: Double
    let p99: Double
    let achievedRate: Double
    let failures: Int
}

/// Sends requests open-loop: request `i` starts at `i / rate` seconds, whether or not earlier
/// ones have finished, so a slow server shows as latency instead of a slower send rate
/// (coordinated omission).
private struct LoadGenerator {
    let client: HTTPClient
    let rate: Int
    let seconds: Int

    func run(_ target: LoadTarget) async throws -> LoadResult {
        var template = HTTPClientRequest(url: target.url)
        template.headers.add(name: "Authorization", value: "Bearer \(target.token)")
        if let body = target.body {
            template.method = .POST
            template.headers.add(name: "Content-Type", value: "application/json")
            template.body = .bytes(ByteBuffer(string: body))
        }
        let request = template
        let warmUp = rate
        let total = rate * seconds + warmUp
        let interval = Duration.nanoseconds(1_000_000_000 / Int64(rate))
        let started = ContinuousClock.now
        let samples = await withTaskGroup(of: Double?.self) { group in
            for index in 0..<total {
                try? await Task.sleep(until: started + interval * index, clock: .continuous)
                let measured = index >= warmUp
                group.addTask {
                    let began = ContinuousClock.now
                    do {
                        let response = try await client.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else { return measured ? -1 : nil }
                    } catch {
                        return measured ? -1 : nil
                    }
                    return measured ? (ContinuousClock.now - began).inSeconds * 1000 : nil
                }
            }
            var samples: [Double] = []
            for await sample in group { if let sample { samples.append(sample) } }
            return samples
        }
        let elapsed = (ContinuousClock.now - started).inSeconds
        let latencies = samples.filter { $0 >= 0 }.sorted()
        guard !latencies.isEmpty else { throw CairnError(.unavailable, "Every request of the phase failed; is the upstream reachable?") }
        func quantile(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
        return LoadResult(p50: quantile(0.5), p99: quantile(0.99), achievedRate: Double(total) / elapsed, failures: samples.count - latencies.count)
    }
}
