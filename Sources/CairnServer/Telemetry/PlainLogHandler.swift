public import Logging

/// swift-log handler for a person at a terminal: one line per event, `level: message`, with
/// the event's own metadata after it in parentheses. One-shot commands use it on a terminal,
/// where JSON lines read as noise; services keep `JSONLogHandler` wherever their output goes.
/// Personal data is redacted as in the JSON lines.
public struct PlainLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let sink: LogSink

    public init(level: Logger.Level, sink: LogSink = .standardError) {
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "\(event.level): \(JSONLogHandler.redacted(event.message.description))"
        if !merged.isEmpty {
            let details = merged.keys.sorted().map { "\($0): \(JSONLogHandler.redacted(merged[$0]!.description))" }
            line += " (\(details.joined(separator: ", ")))"
        }
        sink.write(Array((line + "\n").utf8))
    }
}
