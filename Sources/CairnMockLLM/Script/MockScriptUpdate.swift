public import CairnCore
import Foundation

/// A change to a ``MockScript`` sent over HTTP, for tests that drive the `cairn` process.
///
/// `POST /mock/script` takes this JSON (every field optional) and answers 204; `DELETE /mock/script`
/// resets the script (``MockScript/reset()``). Keys of `steps`, `faults` and `latency` are upstream model
/// names (the request's `model`, or the Azure deployment); `"*"` means all models.
///
/// ```json
/// {
///   "requiredAPIKey": "sk-mock",
///   "steps": {
///     "gpt-4o": [
///       {"type": "reply", "text": "Hello"},
///       {"type": "toolCall", "name": "search", "arguments": {"query": "cairn"}},
///       {"type": "json", "text": "{\"answer\": "},
///       {"type": "fail", "status": 429, "retryAfter": 2},
///       {"type": "hang"},
///       {"type": "reset"},
///       {"type": "cutStream", "afterChunks": 3}
///     ]
///   },
///   "faults": {"gpt-4o-mini": {"type": "fail", "status": 503}, "*": null},
///   "latency": {"*": {"firstByteMs": 200, "perChunkMs": 20}}
/// }
/// ```
///
/// `requiredAPIKey` sets the key requests must carry, `null` accepts any, absent leaves it as it is.
/// `steps` are appended to the model's queue. A fault or latency replaces the model's; `null` clears it.
/// `toolCall` arguments are the object itself or a string holding its JSON text (which may be invalid).
public struct MockScriptUpdate: Codable, Sendable, Equatable {
    /// The key that stands for every model in `steps`, `faults` and `latency`.
    public static let allModels = "*"

    /// A change of ``MockScript/requiredAPIKey``.
    public enum KeyRequirement: Sendable, Equatable {
        /// Accept requests whatever credential they carry.
        case anyKey
        /// Require this key.
        case key(String)
    }

    /// The new required key; `nil` leaves it unchanged.
    public var requiredAPIKey: KeyRequirement?
    /// Steps to queue, by model.
    public var steps: [String: [MockStep]]
    /// Faults to set (or, as `nil`, clear), by model.
    public var faults: [String: MockStep?]
    /// Latencies to set (or, as `nil`, clear), by model.
    public var latency: [String: MockLatency?]

    /// An update that changes what is given and leaves the rest.
    public init(
        requiredAPIKey: KeyRequirement? = nil,
        steps: [String: [MockStep]] = [:],
        faults: [String: MockStep?] = [:],
        latency: [String: MockLatency?] = [:]
    ) {
        self.requiredAPIKey = requiredAPIKey
        self.steps = steps
        self.faults = faults
        self.latency = latency
    }

    private enum CodingKeys: String, CodingKey {
        case requiredAPIKey, steps, faults, latency
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Absent and null mean different things here, which synthesised decoding cannot tell apart.
        if !container.contains(.requiredAPIKey) {
            requiredAPIKey = nil
        } else if try container.decodeNil(forKey: .requiredAPIKey) {
            requiredAPIKey = .anyKey
        } else {
            requiredAPIKey = .key(try container.decode(String.self, forKey: .requiredAPIKey))
        }
        steps = try container.decodeIfPresent([String: [MockStep]].self, forKey: .steps) ?? [:]
        faults = try container.decodeIfPresent([String: MockStep?].self, forKey: .faults) ?? [:]
        latency = try container.decodeIfPresent([String: MockLatency?].self, forKey: .latency) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch requiredAPIKey {
        case nil: break
        case .anyKey?: try container.encodeNil(forKey: .requiredAPIKey)
        case .key(let key)?: try container.encode(key, forKey: .requiredAPIKey)
        }
        try container.encode(steps, forKey: .steps)
        try container.encode(faults, forKey: .faults)
        try container.encode(latency, forKey: .latency)
    }
}

/// What the mock has been asked, as `GET /mock/requests` answers it.
///
/// ```json
/// {
///   "counts": {"gpt-4o": 3},
///   "lastRequests": {
///     "gpt-4o": {"method": "POST", "uri": "/v1/chat/completions", "headers": {"authorization": "Bearer sk-mock"}, "body": {"model": "gpt-4o"}}
///   }
/// }
/// ```
///
/// Header names are lower-cased, repeated headers joined with `, `; a body that is not JSON is given as a string.
public struct MockRequestLog: Codable, Sendable, Equatable {
    /// How many model requests each model received.
    public var counts: [String: Int]
    /// The last request each model received.
    public var lastRequests: [String: Entry]

    /// One recorded request.
    public struct Entry: Codable, Sendable, Equatable {
        /// The HTTP method.
        public var method: String
        /// The path and query.
        public var uri: String
        /// Headers by lower-cased name.
        public var headers: [String: String]
        /// The body as JSON, or as a string when it is not JSON.
        public var body: JSONValue
    }

    init(counts: [String: Int], lastRequests: [String: MockRecordedRequest]) {
        self.counts = counts
        self.lastRequests = lastRequests.mapValues { request in
            var headers: [String: String] = [:]
            for (name, value) in request.headers {
                headers[name.lowercased()] = headers[name.lowercased()].map { "\($0), \(value)" } ?? value
            }
            let body = request.json ?? .string(String(decoding: request.body, as: UTF8.self))
            return Entry(method: request.method, uri: request.uri, headers: headers, body: body)
        }
    }
}
