import CairnCore
import Foundation
public import Logging

#if canImport(Glibc)
import Glibc
private typealias BrokenDownTime = Glibc.tm
private let writeToDescriptor = Glibc.write
#elseif canImport(Darwin)
import Darwin
private typealias BrokenDownTime = Darwin.tm
private let writeToDescriptor = Darwin.write
#endif

/// swift-log handler writing one JSON object per line: time, level, logger label, message and
/// every metadata field (request id, trace id, …) as top-level keys, in sorted order.
///
/// It encodes by hand into one byte buffer and writes it with a single `write(2)`: with one
/// access-log line per request, going through `JSONSerialization` and date formatters cost two
/// thirds of the server's throughput (see docs/benchmarks.md).
///
/// Personal data is redacted from the message and every text value before it is written
/// (``PIIDetector``): e-mail addresses, phone numbers, IBANs, card numbers and national ids
/// become `[REDACTED:<kind>]`, whatever code logged them.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }

        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(UInt8(ascii: "{"))
        Self.appendMember("ts", into: &line) { Self.appendTimestamp(into: &$0) }
        Self.appendMember("level", into: &line) { Self.appendString(event.level.rawValue, into: &$0) }
        Self.appendMember("logger", into: &line) { Self.appendString(label, into: &$0) }
        Self.appendMember("msg", into: &line) { Self.appendString(Self.redacted(event.message.description), into: &$0) }
        for key in merged.keys.sorted() where !["ts", "level", "logger", "msg"].contains(key) {
            Self.appendMember(key, into: &line) { Self.appendValue(merged[key]!, into: &$0) }
        }
        line.append(UInt8(ascii: "}"))
        line.append(UInt8(ascii: "\n"))
        sink.write(line)
    }

    private static func appendMember(_ key: String, into line: inout [UInt8], value: (inout [UInt8]) -> Void) {
        if line.count > 1 { line.append(UInt8(ascii: ",")) }
        appendString(key, into: &line)
        line.append(UInt8(ascii: ":"))
        value(&line)
    }

    private static func appendValue(_ value: Logger.Metadata.Value, into line: inout [UInt8]) {
        switch value {
        case .string(let string):
            appendString(redacted(string), into: &line)
        case .stringConvertible(let convertible):
            appendString(redacted(convertible.description), into: &line)
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendValue(element, into: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            line.append(UInt8(ascii: "{"))
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendString(key, into: &line)
                line.append(UInt8(ascii: ":"))
                appendValue(dictionary[key]!, into: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    private static let detector = PIIDetector()

    /// `text` without personal data. Values shorter than the shortest thing redacted (an e-mail
    /// address such as `a@b.io`) are left as they are without a look: statuses, durations,
    /// counts.
    static func redacted(_ text: String) -> String {
        text.utf8.count < 6 ? text : detector.redacted(text)
    }

    /// A JSON string literal (RFC 8259): quote, backslash and control characters escaped.
    static func appendString(_ string: String, into line: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        line.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                line.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)],
                ])
            default: line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
    }

    /// `"2026-11-25T09:30:00.123Z"`, UTC with milliseconds.
    private static func appendTimestamp(into line: inout [UInt8]) {
        let now = Date().timeIntervalSince1970
        var seconds = time_t(now)
        let milliseconds = Int((now - Double(seconds)) * 1000)
        var parts = BrokenDownTime()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var remaining = value
            while divisor > 0 {
                line.append(UInt8(ascii: "0") + UInt8(remaining / divisor % 10))
                remaining %= divisor
                divisor /= 10
            }
        }
        line.append(UInt8(ascii: "\""))
        digits(Int(parts.tm_year) + 1900, 4)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        line.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        line.append(UInt8(ascii: "."))
        digits(min(milliseconds, 999), 3)
        line.append(contentsOf: [UInt8(ascii: "Z"), UInt8(ascii: "\"")])
    }
}

/// Where log lines go. Standard error by default, so standard output stays free for command
/// results (`cairn key create` prints the key alone on its last line).
public final class LogSink: Sendable {
    private let writer: @Sendable ([UInt8]) -> Void

    public init(_ writer: @escaping @Sendable ([UInt8]) -> Void) { self.writer = writer }

    /// One `write(2)` per line: the kernel keeps lines this small (under `PIPE_BUF`) whole
    /// even when several threads log at once.
    public static let standardError = LogSink { bytes in
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = writeToDescriptor(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    func write(_ bytes: [UInt8]) { writer(bytes) }
}
