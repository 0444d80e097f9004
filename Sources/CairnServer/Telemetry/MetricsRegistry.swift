public import Metrics
import Prometheus

/// Prometheus metrics for the process: the swift-metrics factory to bootstrap, and the text
/// exposition served at `/metrics`.
public final class MetricsRegistry: Sendable {
    private let registry = PrometheusCollectorRegistry()

    public init() {}

    /// The factory to pass to `MetricsSystem.bootstrap` (in `main` only).
    ///
    /// Hummingbird's metric names are mapped onto Prometheus conventions: counters end in
    /// `_total`, durations are `_seconds` histograms.
    public var factory: any MetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        factory.nameAndLabelSanitizer = { name, labels in
            (Self.renamed[name] ?? name, labels)
        }
        return factory
    }

    private static let renamed = [
        "hb.requests": "http_server_requests_total",
        "hb.request.errors": "http_server_request_errors_total",
        "http.server.request.duration": "http_server_request_duration_seconds",
        "http.server.active_requests": "http_server_active_requests",
    ]

    private static let help = [
        "http_server_requests_total": "HTTP requests served, by route, method and status.",
        "http_server_request_errors_total": "HTTP requests that ended in an error, by route, method and error type.",
        "http_server_request_duration_seconds": "HTTP request latency in seconds, by route, method and status.",
        "http_server_active_requests": "HTTP requests in flight, by method.",
    ]

    /// The Prometheus text exposition.
    ///
    /// swift-prometheus emits no `# HELP` lines for metrics created through swift-metrics, which
    /// `promtool check metrics` rejects; one is inserted before each `# TYPE` that lacks it.
    public func exposition() -> String {
        let text = registry.emitToString()
        var output: [Substring] = []
        var previous: Substring = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), !previous.hasPrefix("# HELP ") {
                let name = line.dropFirst("# TYPE ".count).split(separator: " ").first.map(String.init) ?? ""
                output.append(Substring("# HELP \(name) \(Self.help[name] ?? "Cairn metric \(name).")"))
            }
            output.append(line)
            previous = line
        }
        return output.joined(separator: "\n")
    }
}
