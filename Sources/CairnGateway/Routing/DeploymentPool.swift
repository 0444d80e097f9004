public import AsyncHTTPClient
import CairnCore
import NIOCore
public import ServiceLifecycle
import Synchronization

/// The live state behind each deployment: its circuit breaker, its in-flight count and the HTTP
/// client whose bounded connection pool serves it.
///
/// Keyed by the deployment's whole configuration (and its provider's), so a deployment that is
/// reconfigured starts afresh, while tenants routed to the same platform deployment share one
/// breaker: its health is the deployment's, not the tenant's.
public final class DeploymentPool: Service, Sendable {
    public struct Breakers: Sendable, Equatable {
        public var failureThreshold: Int
        public var cooldown: Duration

        public init(failureThreshold: Int = 5, cooldown: Duration = .seconds(30)) {
            self.failureThreshold = failureThreshold
            self.cooldown = cooldown
        }
    }

    /// One deployment's live state.
    public final class Runtime: Sendable {
        public let breaker: CircuitBreaker
        public let client: HTTPClient
        let maxConcurrency: Int
        private let inFlight = Mutex(0)

        init(hop: GatewayCatalog.Hop, breakers: Breakers) {
            breaker = CircuitBreaker(failureThreshold: breakers.failureThreshold, cooldown: breakers.cooldown)
            maxConcurrency = max(1, hop.deployment.maxConcurrency)
            var configuration = HTTPClient.Configuration()
            let timeouts = hop.deployment.timeouts
            configuration.timeout = .init(connect: .init(timeouts.connect), read: .init(timeouts.firstToken))
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConcurrency)
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }

        /// Takes an in-flight slot; `false` when the deployment is at its concurrency limit.
        func acquire() -> Bool {
            inFlight.withLock { count in
                guard count < maxConcurrency else { return false }
                count += 1
                return true
            }
        }

        func release() { inFlight.withLock { $0 -= 1 } }
    }

    private let breakers: Breakers
    private let runtimes = Mutex<[GatewayCatalog.Hop: Runtime]>([:])

    /// The clock breakers read their cooldowns on, and the gateway's per-key rate limits their
    /// refills: the continuous clock, or a test's hand-moved one.
    let now: @Sendable () -> ContinuousClock.Instant

    public init(breakers: Breakers = Breakers(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.breakers = breakers
        self.now = now
    }

    /// The runtime for `hop`, created on first use.
    public func runtime(for hop: GatewayCatalog.Hop) -> Runtime {
        runtimes.withLock { runtimes in
            if let runtime = runtimes[hop] { return runtime }
            let runtime = Runtime(hop: hop, breakers: breakers)
            runtimes[hop] = runtime
            return runtime
        }
    }

    /// Breaker states by deployment name, for `/readyz`-style reporting and tests.
    public func breakerStates() -> [String: CircuitBreaker.State] {
        runtimes.withLock { runtimes in
            Dictionary(runtimes.map { ($0.key.deployment.name, $0.value.breaker.state) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Waits for shutdown, then closes every client's connections.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Closes every client's connections; the pool must not be used afterwards.
    public func shutdown() async throws {
        let clients = runtimes.withLock { runtimes in
            defer { runtimes.removeAll() }
            return runtimes.values.map(\.client)
        }
        for client in clients { try await client.shutdown() }
    }
}
