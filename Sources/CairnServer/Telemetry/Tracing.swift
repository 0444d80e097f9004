import Foundation
public import Logging
import OTel
public import ServiceLifecycle

/// Distributed tracing over OpenTelemetry.
public enum Tracing {
    /// Bootstraps the process-wide tracer (once, in `main` or one test) and returns the
    /// service that exports spans; run it in the service group, after the HTTP server in
    /// shutdown order, so the last spans are flushed.
    ///
    /// With an OTLP endpoint, spans are exported over OTLP/HTTP (protobuf) to
    /// `<endpoint>/v1/traces`. Without one, spans are still created — so every log line carries
    /// a trace id — but go nowhere.
    ///
    /// - Parameter environment: `OTEL_*` variables; the standard ones override the defaults here.
    public static func bootstrap(serviceName: String, otlpEndpoint: String?, environment: [String: String]) throws -> any Service {
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.batchSpanProcessor.scheduleDelay = .seconds(1)
        configuration.diagnosticLogLevel = .warning
        var environment = environment
        if let otlpEndpoint, !otlpEndpoint.isEmpty {
            configuration.traces.exporter = .otlp
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint
        } else {
            configuration.traces.exporter = .none
            environment["OTEL_TRACES_EXPORTER"] = nil
        }
        return try OTel.bootstrap(configuration: configuration, environment: environment)
    }

    /// Log metadata naming the current trace and span, for `LoggingSystem.bootstrap`.
    public static var loggingMetadataProvider: Logger.MetadataProvider {
        OTel.makeLoggingMetadataProvider()
    }
}
