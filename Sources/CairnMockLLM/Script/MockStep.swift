import CairnCore

/// What the mock does with one request instead of its default reply: a scripted answer or a fault.
///
/// Queued steps are consumed one per request (``MockScript/enqueue(_:model:)``); a step
/// set as a fault applies to every request until cleared (``MockScript/setFault(_:model:)``).
/// Embeddings requests take steps too, but only the faults change their answer.
public enum MockStep: Sendable, Equatable {
    /// Answers with this text; a stream sends it a word per chunk.
    case reply(String)
    /// Calls the tool `name` with `arguments`, the text of a JSON object, sent as given.
    case toolCall(name: String, arguments: String)
    /// Answers with this raw content, e.g. invalid JSON or JSON that breaks the requested schema.
    case json(String)
    /// Fails with HTTP `status`, the body in the dialect's error shape, and `Retry-After: retryAfter`
    /// (in seconds) when given.
    case fail(status: Int, retryAfter: Int? = nil)
    /// Accepts the request and never answers; ends when the client closes the connection or the
    /// server stops.
    case hang
    /// Closes the TCP connection with a reset, writing no response.
    case reset
    /// A stream sends its opening events and `afterChunks` content chunks, then closes the
    /// connection without the terminating event; a complete response sends its head and half its
    /// body, then closes.
    case cutStream(afterChunks: Int)
}

/// How long the mock waits before answering.
public struct MockLatency: Sendable, Equatable {
    /// The wait before the first byte of the response.
    public var firstByte: Duration
    /// The wait before each content chunk of a stream.
    public var perChunk: Duration

    /// A latency of `firstByte` before the response and `perChunk` before each streamed chunk.
    public init(firstByte: Duration = .zero, perChunk: Duration = .zero) {
        self.firstByte = firstByte
        self.perChunk = perChunk
    }

    /// No added latency.
    public static let zero = MockLatency()
}

// The JSON shapes `POST /mock/script` takes; see ``MockScriptUpdate``.

extension MockStep: Codable {
    private enum CodingKeys: String, CodingKey {
        case type, text, name, arguments, status, retryAfter, afterChunks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "reply":
            self = .reply(try container.decode(String.self, forKey: .text))
        case "json":
            self = .json(try container.decode(String.self, forKey: .text))
        case "toolCall":
            let name = try container.decode(String.self, forKey: .name)
            // Arguments come as the JSON text itself or, more conveniently, as the object.
            if let text = try? container.decode(String.self, forKey: .arguments) {
                self = .toolCall(name: name, arguments: text)
            } else {
                let object = try container.decode(JSONValue.self, forKey: .arguments)
                self = .toolCall(name: name, arguments: try JSONText.string(object))
            }
        case "fail":
            let status = try container.decode(Int.self, forKey: .status)
            guard (400...599).contains(status) else {
                throw DecodingError.dataCorruptedError(forKey: .status, in: container, debugDescription: "must be 400 to 599")
            }
            let retryAfter = try container.decodeIfPresent(Int.self, forKey: .retryAfter)
            if let retryAfter, retryAfter < 0 {
                throw DecodingError.dataCorruptedError(forKey: .retryAfter, in: container, debugDescription: "must not be negative")
            }
            self = .fail(status: status, retryAfter: retryAfter)
        case "hang":
            self = .hang
        case "reset":
            self = .reset
        case "cutStream":
            let chunks = try container.decode(Int.self, forKey: .afterChunks)
            guard chunks >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .afterChunks, in: container, debugDescription: "must not be negative")
            }
            self = .cutStream(afterChunks: chunks)
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "'\(other)' is not one of reply, toolCall, json, fail, hang, reset, cutStream"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .reply(let text):
            try container.encode("reply", forKey: .type)
            try container.encode(text, forKey: .text)
        case .json(let text):
            try container.encode("json", forKey: .type)
            try container.encode(text, forKey: .text)
        case .toolCall(let name, let arguments):
            try container.encode("toolCall", forKey: .type)
            try container.encode(name, forKey: .name)
            try container.encode(arguments, forKey: .arguments)
        case .fail(let status, let retryAfter):
            try container.encode("fail", forKey: .type)
            try container.encode(status, forKey: .status)
            try container.encodeIfPresent(retryAfter, forKey: .retryAfter)
        case .hang:
            try container.encode("hang", forKey: .type)
        case .reset:
            try container.encode("reset", forKey: .type)
        case .cutStream(let chunks):
            try container.encode("cutStream", forKey: .type)
            try container.encode(chunks, forKey: .afterChunks)
        }
    }
}

extension MockLatency: Codable {
    private enum CodingKeys: String, CodingKey {
        case firstByteMs, perChunkMs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let firstByte = try container.decodeIfPresent(Int.self, forKey: .firstByteMs) ?? 0
        let perChunk = try container.decodeIfPresent(Int.self, forKey: .perChunkMs) ?? 0
        guard firstByte >= 0, perChunk >= 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "latencies must not be negative"))
        }
        self.init(firstByte: .milliseconds(firstByte), perChunk: .milliseconds(perChunk))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(firstByte.wholeMilliseconds, forKey: .firstByteMs)
        try container.encode(perChunk.wholeMilliseconds, forKey: .perChunkMs)
    }
}
