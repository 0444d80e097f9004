/// One server-sent event: its `event:` name (if any) and its `data:` lines joined by newlines.
public struct ServerSentEvent: Sendable, Equatable {
    public var event: String?
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }
}

/// Incremental parser for `text/event-stream` (the WHATWG rules): bytes arrive in arbitrary
/// pieces, events end at a blank line, lines end in LF, CR or CRLF, `:` lines are comments.
///
/// Bounded: a peer that never ends its line or its event cannot grow the buffer past
/// `maximumEventBytes`.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var dataLines: [String] = []
    private var dataBytes = 0
    private var eventName: String?
    private var lastWasCR = false
    private var ready: [ServerSentEvent] = []
    private let maximumEventBytes: Int

    public struct TooLarge: Error, Sendable {}

    public init(maximumEventBytes: Int = 8 << 20) { self.maximumEventBytes = maximumEventBytes }

    /// Feeds bytes; returns the events they completed, in order.
    public mutating func parse(_ bytes: some Sequence<UInt8>) throws(TooLarge) -> [ServerSentEvent] {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                // The LF of a CRLF pair ends nothing: the CR already ended the line.
                if lastWasCR { lastWasCR = false } else { endLine() }
            case UInt8(ascii: "\r"):
                lastWasCR = true
                endLine()
            default:
                lastWasCR = false
                line.append(byte)
                if line.count + dataBytes > maximumEventBytes { throw TooLarge() }
            }
        }
        defer { ready.removeAll(keepingCapacity: true) }
        return ready
    }

    private mutating func endLine() {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            if !dataLines.isEmpty { ready.append(ServerSentEvent(event: eventName, data: dataLines.joined(separator: "\n"))) }
            dataLines.removeAll(keepingCapacity: true)
            dataBytes = 0
            eventName = nil
            return
        }
        if line.first == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.endIndex
        let field = String(decoding: line[..<colon], as: UTF8.self)
        var valueStart = colon < line.endIndex ? line.index(after: colon) : colon
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart = line.index(after: valueStart) }
        let value = String(decoding: line[valueStart...], as: UTF8.self)
        switch field {
        case "data":
            dataLines.append(value)
            dataBytes += value.utf8.count + 1
        case "event":
            eventName = value
        default:
            break  // `id:` and `retry:` steer browser reconnection; an upstream stream is never resumed.
        }
    }
}
