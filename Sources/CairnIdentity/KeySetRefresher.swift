import CairnCore
public import Logging
public import ServiceLifecycle

/// Re-fetches the OIDC key set on a schedule, so a key the identity provider withdraws stops
/// being trusted within one interval (an unknown `kid` already triggers an early fetch).
public struct KeySetRefresher: Service {
    let keySet: JSONWebKeySet
    let interval: Duration
    let logger: Logger
    /// Waits out one interval on the refresher's clock; a test moves a manual clock instead.
    private let sleep: @Sendable (Duration) async throws -> Void

    /// Refreshes `keySet` every `interval` (10 minutes by default) as `clock` counts it.
    public init<C: Clock>(keySet: JSONWebKeySet, interval: Duration = .seconds(600), clock: C = ContinuousClock(), logger: Logger)
    where C.Duration == Duration {
        self.keySet = keySet
        self.interval = interval
        self.logger = logger
        self.sleep = { try await clock.sleep(for: $0, tolerance: nil) }
    }

    /// Refreshes every `interval` until graceful shutdown, then returns normally: a service
    /// that throws at shutdown would make the whole service group, and `cairn serve`, fail.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while true {
                do {
                    try await sleep(interval)
                } catch {
                    return
                }
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
