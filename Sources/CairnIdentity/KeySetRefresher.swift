import CairnCore
public import Logging
public import ServiceLifecycle

/// Re-fetches the OIDC key set on a schedule, so a key the identity provider withdraws stops
/// being trusted within one interval (an unknown `kid` already triggers an early fetch).
public struct KeySetRefresher: Service {
    let keySet: JSONWebKeySet
    let interval: Duration
    let logger: Logger

    public init(keySet: JSONWebKeySet, interval: Duration = .seconds(600), logger: Logger) {
        self.keySet = keySet
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Stops at graceful shutdown: the sleep is cancelled and the loop ends.
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await refreshOnce()
            }
        }
    }

    private func refreshOnce() async {
        do {
            try await keySet.refresh()
        } catch {
            // The previous keys stay in place; tokens keep verifying against them.
            logger.warning("OIDC key set refresh failed", metadata: ["reason": "\(error.message)"])
        }
    }
}
