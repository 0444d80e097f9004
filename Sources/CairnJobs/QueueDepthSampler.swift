import CairnCore
public import CairnStore
import Foundation
public import Logging
import Metrics
public import ServiceLifecycle

/// Publishes `cairn_job_queue_depth{tenant,kind,state}` (queued, failed awaiting a retry,
/// running, dead) every `interval`, on every node that runs workers: each node's `/metrics`
/// shows the same, shared queue. A combination that emptied is set to 0 rather than left at
/// its last value.
public struct QueueDepthSampler: Service {
    let store: CairnStore
    let interval: Duration
    let logger: Logger

    public init(store: CairnStore, interval: Duration = .seconds(15), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var published: Set<[String]> = []
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                var current: Set<[String]> = []
                for row in try await store.jobs.depth() {
                    let labels = [row.tenant.description, row.kind, row.state.rawValue]
                    current.insert(labels)
                    gauge(labels).record(row.count)
                }
                for vanished in published.subtracting(current) { gauge(vanished).record(0) }
                published = current
            } catch {
                logger.warning("Sampling the queue depth failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    private func gauge(_ labels: [String]) -> Gauge {
        Gauge(label: "cairn_job_queue_depth", dimensions: [("tenant", labels[0]), ("kind", labels[1]), ("state", labels[2])])
    }
}
