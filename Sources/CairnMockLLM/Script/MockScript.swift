public import CairnAWS
public import CairnCore
public import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// What a ``MockModelServer`` answers, set by tests, and what it has been asked.
///
/// Settings apply per upstream model name (the request's `model`, or the Azure deployment), or to all
/// models when `model` is `nil`; a model's own setting wins over the one for all models. Queued steps
/// are taken from the model's queue first, then from the queue for all models.
///
/// Tests in the same process call the methods directly; tests that run the `cairn` process send a
/// ``MockScriptUpdate`` to `POST /mock/script` and read ``MockRequestLog`` from `GET /mock/requests`.
/// Every method takes a lock for a few dictionary operations, never across a suspension.
public final class MockScript: Sendable {
    private let state: Mutex<State>
    private let initialAPIKey: String?
    private let initialBedrockSigning: MockBedrockSigning?

    /// A script with nothing queued that requires `requiredAPIKey` when given, and Bedrock requests
    /// signed as `bedrockSigning` says when given.
    public init(requiredAPIKey: String? = nil, bedrockSigning: MockBedrockSigning? = nil) {
        self.initialAPIKey = requiredAPIKey
        self.initialBedrockSigning = bedrockSigning
        self.state = Mutex(State(requiredAPIKey: requiredAPIKey, bedrockSigning: bedrockSigning))
    }

    /// The credential every model request must carry (`Authorization: Bearer`, `api-key` or `x-api-key`,
    /// as its dialect has it; for Bedrock, the access key id its signature names); `nil` accepts any.
    /// A request without it gets 401.
    public var requiredAPIKey: String? {
        get { state.withLock { $0.requiredAPIKey } }
        set { state.withLock { $0.requiredAPIKey = newValue } }
    }

    /// The key and region every Bedrock request must be signed with; `nil` leaves signatures unchecked.
    /// A request whose SigV4 signature does not verify gets 403 `InvalidSignatureException`.
    public var bedrockSigning: MockBedrockSigning? {
        get { state.withLock { $0.bedrockSigning } }
        set { state.withLock { $0.bedrockSigning = newValue } }
    }

    /// Queues `steps` for the next requests to `model` (`nil`: to any model), in order.
    public func enqueue(_ steps: [MockStep], model: String? = nil) {
        state.withLock { $0.queues[model, default: []].append(contentsOf: steps) }
    }

    /// Queues `steps` for the next requests to `model` (`nil`: to any model), in order.
    public func enqueue(_ steps: MockStep..., model: String? = nil) {
        enqueue(steps, model: model)
    }

    /// Applies `step` to every request to `model` (`nil`: to any model) until cleared, ahead of queued
    /// steps: an outage, for circuit-breaker tests.
    public func setFault(_ step: MockStep, model: String? = nil) {
        state.withLock { $0.faults[model] = step }
    }

    /// Clears the fault set for `model` (`nil`: the one for all models).
    public func clearFault(model: String? = nil) {
        state.withLock { $0.faults[model] = nil }
    }

    /// Delays answers for `model` (`nil`: for all models) by `latency`.
    public func setLatency(_ latency: MockLatency, model: String? = nil) {
        state.withLock { $0.latencies[model] = latency == .zero ? nil : latency }
    }

    /// How many chat and embeddings requests `model` has received, including those refused for their
    /// credential.
    public func requestCount(model: String) -> Int {
        state.withLock { $0.counts[model] ?? 0 }
    }

    /// How many chat and embeddings requests each model has received.
    public var requestCounts: [String: Int] {
        state.withLock { $0.counts }
    }

    /// How many streamed replies from `model` the client stopped reading before their end: the
    /// connection was closed under a stream still being written (a cancelled upstream call).
    public func abandonedStreamCount(model: String) -> Int {
        state.withLock { $0.abandonedStreams[model] ?? 0 }
    }

    func recordAbandonedStream(model: String) {
        state.withLock { $0.abandonedStreams[model, default: 0] += 1 }
    }

    /// The last request `model` received, as it arrived.
    public func lastRequest(model: String) -> MockRecordedRequest? {
        state.withLock { $0.lastRequests[model] }
    }

    /// Applies an update received over HTTP: the key first, then faults, latencies and queued steps.
    public func apply(_ update: MockScriptUpdate) {
        state.withLock { state in
            switch update.requiredAPIKey {
            case nil: break
            case .anyKey?: state.requiredAPIKey = nil
            case .key(let key)?: state.requiredAPIKey = key
            }
            for (model, fault) in update.faults {
                state.faults[Self.scope(model)] = fault
            }
            for (model, latency) in update.latency {
                state.latencies[Self.scope(model)] = latency == .zero ? nil : latency
            }
            // Dictionary order is arbitrary, but each model's steps keep theirs.
            for (model, steps) in update.steps {
                state.queues[Self.scope(model), default: []].append(contentsOf: steps)
            }
        }
    }

    /// Forgets queued steps, faults, latencies, counters and recorded requests, and restores the
    /// key and Bedrock signing the script was created with.
    public func reset() {
        state.withLock { $0 = State(requiredAPIKey: initialAPIKey, bedrockSigning: initialBedrockSigning) }
    }

    /// Counters and last requests, as `GET /mock/requests` answers them.
    public var requestLog: MockRequestLog {
        state.withLock { MockRequestLog(counts: $0.counts, lastRequests: $0.lastRequests) }
    }

    private static func scope(_ model: String) -> String? {
        model == MockScriptUpdate.allModels ? nil : model
    }

    // MARK: Serving

    /// What the server should do with one model request, decided under one lock.
    struct Admission {
        /// Whether the request carried the required credential.
        var isAuthorized: Bool
        /// The fault or queued step that applies, if any; `nil` when unauthorized.
        var step: MockStep?
        var latency: MockLatency
        /// Numbers the reply's ids (`chatcmpl-mock-7`).
        var sequence: Int
    }

    /// Records `request` to `model` and takes the step that applies to it. A refused credential
    /// consumes no step, so a script survives a misconfigured client.
    func admit(_ request: MockRecordedRequest, model: String, credential: String?) -> Admission {
        state.withLock { state in
            state.counts[model, default: 0] += 1
            state.lastRequests[model] = request
            state.sequence += 1
            let latency = state.latencies[model] ?? state.latencies[nil] ?? .zero
            if let required = state.requiredAPIKey, credential != required {
                return Admission(isAuthorized: false, step: nil, latency: latency, sequence: state.sequence)
            }
            let step = state.faults[model] ?? state.faults[nil] ?? state.takeQueuedStep(for: model)
            return Admission(isAuthorized: true, step: step, latency: latency, sequence: state.sequence)
        }
    }

    /// The model names the script knows of, for `GET /v1/models`.
    var knownModels: Set<String> {
        state.withLock { state in
            var models = Set(state.counts.keys)
            for case let model? in Array(state.queues.keys) + Array(state.faults.keys) + Array(state.latencies.keys) {
                models.insert(model)
            }
            return models
        }
    }

    private struct State {
        var requiredAPIKey: String?
        var bedrockSigning: MockBedrockSigning?
        // Keyed by model name; `nil` holds the setting for all models.
        var queues: [String?: [MockStep]] = [:]
        var faults: [String?: MockStep] = [:]
        var latencies: [String?: MockLatency] = [:]
        var counts: [String: Int] = [:]
        var abandonedStreams: [String: Int] = [:]
        var lastRequests: [String: MockRecordedRequest] = [:]
        var sequence = 0

        mutating func takeQueuedStep(for model: String) -> MockStep? {
            for scope in [model, nil] {
                // Queues are a handful of steps long, so removing from the front costs nothing worth a deque.
                if var queue = queues[scope], !queue.isEmpty {
                    let step = queue.removeFirst()
                    queues[scope] = queue.isEmpty ? nil : queue
                    return step
                }
            }
            return nil
        }
    }
}

/// The AWS key and region a Bedrock request to the mock must be signed with (SigV4, service `bedrock`),
/// as ``MockScript/bedrockSigning`` holds them.
public struct MockBedrockSigning: Sendable {
    /// The key pair, and the session token the request must carry when it has one.
    public var credentials: AWSCredentials
    /// The region of the credential scope, e.g. `eu-west-1`.
    public var region: String

    /// Signing with `credentials` in `region`.
    public init(credentials: AWSCredentials, region: String) {
        self.credentials = credentials
        self.region = region
    }
}

/// A model request as the mock received it, for tests that assert what a gateway forwarded.
public struct MockRecordedRequest: Sendable {
    /// The HTTP method, e.g. `POST`.
    public let method: String
    /// The path and query, as sent.
    public let uri: String
    private let headerFields: HTTPHeaders
    private let bodyBytes: ByteBuffer

    init(head: HTTPRequestHead, body: ByteBuffer) {
        self.method = head.method.rawValue
        self.uri = head.uri
        self.headerFields = head.headers
        self.bodyBytes = body
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headerFields.first(name: name)
    }

    /// Every header, in the order sent.
    public var headers: [(name: String, value: String)] {
        headerFields.map { ($0.name, $0.value) }
    }

    /// The body's bytes.
    public var body: Data {
        Data(bodyBytes.readableBytesView)
    }

    /// The body parsed as JSON; `nil` when it is not JSON.
    public var json: JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: body)
    }
}
