import AsyncHTTPClient
import CairnCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import CairnGateway

/// What the provider adapters' tests share: order-insensitive JSON, a deployment to call, and
/// a stream translator's output fed in pieces of any size.
enum ProviderTestSupport {
    /// JSON text, parsed so that two documents compare equal whatever their key order.
    static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// What `value` encodes to, parsed as ``json(_:)`` parses.
    static func encoded(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    /// A conversation with everything the translation has to carry: system and developer
    /// messages, an assistant turn with text and two tool calls, their results, a follow-up,
    /// tools (one without parameters), a tool choice and a JSON Schema response format.
    static func conversationWithTools() -> ChatRequest {
        var request = ChatRequest(
            model: "chat",
            messages: [
                ChatMessage(role: .system, content: "You are a compliance assistant."),
                ChatMessage(role: .developer, content: "Answer in English."),
                ChatMessage(role: .user, content: "How often are high-risk clients reviewed?"),
                ChatMessage(
                    role: .assistant,
                    content: "Let me look that up.",
                    toolCalls: [
                        ToolCall(id: "call_1", function: .init(name: "search_policies", arguments: #"{"query":"KYC refresh","limit":3}"#)),
                        ToolCall(id: "call_2", function: .init(name: "get_client_risk", arguments: "")),
                    ]
                ),
                ChatMessage(role: .tool, content: "Policy KYC-7: high-risk clients are reviewed every 12 months.", toolCallID: "call_1"),
                ChatMessage(role: .tool, content: "", toolCallID: "call_2"),
                ChatMessage(role: .user, content: "Reply as JSON."),
            ]
        )
        let searchSchema: JSONValue = .object([
            "type": .string("object"),
            "properties": .object(["query": .object(["type": .string("string")]), "limit": .object(["type": .string("integer")])]),
            "required": .array([.string("query")]),
        ])
        request.tools = [
            ToolDefinition(function: .init(name: "search_policies", description: "Search the policy library.", parameters: searchSchema)),
            ToolDefinition(function: .init(name: "get_client_risk")),
        ]
        request.toolChoice = .auto
        request.parallelToolCalls = false
        var format = ResponseFormat.JSONSchemaFormat(
            name: "review_period",
            schema: .object([
                "type": .string("object"),
                "properties": .object(["months": .object(["type": .string("integer")])]),
                "required": .array([.string("months")]),
            ])
        )
        format.description = "The review period."
        request.responseFormat = .jsonSchema(format)
        request.temperature = 0.2
        request.topP = 0.9
        request.stop = ["END"]
        request.seed = 7
        return request
    }

    static func deployment(model: String) -> ModelDeployment {
        ModelDeployment(
            name: "test-deployment",
            provider: "test-provider",
            model: model,
            // Loopback, but a loaded machine's: generous, as no test here is about a timeout.
            timeouts: DeploymentTimeouts(connect: .seconds(5), firstToken: .seconds(20), total: .seconds(30)),
            defaultMaxOutputTokens: 512
        )
    }

    static func target(
        kind: ProviderKind,
        baseURL: String,
        model: String,
        secret: String?,
        region: String? = nil
    ) -> DeploymentTarget {
        DeploymentTarget(
            deployment: deployment(model: model),
            provider: ModelProviderConfiguration(name: "test-provider", kind: kind, baseURL: baseURL, region: region),
            secret: secret.map(ProviderSecret.init),
            client: HTTPClient.shared
        )
    }

    /// Feeds `bytes` to `translator` `pieceSize` bytes at a time, as the connection might
    /// deliver them, and collects what it makes of them up to its end marker.
    static func translate(
        _ bytes: [UInt8],
        pieceSize: Int,
        with translator: some UpstreamStreamTranslator
    ) throws -> TranslatedStream {
        var translator = translator
        var stream = TranslatedStream()
        var offset = 0
        while offset < bytes.count, !stream.ended {
            let end = min(offset + pieceSize, bytes.count)
            for step in try translator.consume(ByteBuffer(bytes: bytes[offset..<end])) where !stream.ended {
                switch step {
                case .chunk(let chunk): stream.chunks.append(chunk)
                case .done: stream.ended = true
                }
            }
            offset = end
        }
        return stream
    }

    /// Splits worth trying: every byte alone (which cuts every multi-byte character and every
    /// frame), odd sizes that straddle boundaries, and the whole stream at once.
    static let pieceSizes = [1, 2, 7, 61, 1 << 20]
}

/// A translated stream, read back as an OpenAI client reads one.
struct TranslatedStream: CustomTestStringConvertible {
    var chunks: [ChatCompletionChunk] = []
    /// Whether the translator reached the stream's end marker.
    var ended = false

    var text: String {
        chunks.flatMap(\.choices).compactMap(\.delta.content).joined()
    }

    /// The tool calls the deltas assemble: the first delta of an index names the call, the
    /// others append to its arguments.
    var toolCalls: [ToolCall] {
        var calls: [Int: ToolCall] = [:]
        for delta in chunks.flatMap(\.choices).flatMap({ $0.delta.toolCalls ?? [] }) {
            if let id = delta.id, let name = delta.function?.name {
                calls[delta.index] = ToolCall(id: id, function: .init(name: name, arguments: delta.function?.arguments ?? ""))
            } else {
                calls[delta.index]?.function.arguments += delta.function?.arguments ?? ""
            }
        }
        return calls.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The distinct `index` values of the tool-call deltas, in order of first appearance.
    var toolCallIndices: [Int] {
        var seen: [Int] = []
        for delta in chunks.flatMap(\.choices).flatMap({ $0.delta.toolCalls ?? [] }) where !seen.contains(delta.index) {
            seen.append(delta.index)
        }
        return seen
    }

    var finishReasons: [FinishReason] {
        chunks.flatMap(\.choices).compactMap(\.finishReason)
    }

    var testDescription: String { "\(chunks.count) chunks, \(ended ? "ended" : "not ended")" }

    /// The chunks with the creation time and id blanked: what must not depend on how the bytes were split.
    var normalized: [ChatCompletionChunk] {
        chunks.map { chunk in
            var chunk = chunk
            chunk.created = 0
            chunk.id = ""
            return chunk
        }
    }
}

/// An HTTP/1.1 server on 127.0.0.1 that answers every request with one canned response and
/// records what it was sent: the far end of a provider adapter's end-to-end test.
///
/// The body goes out in small writes, so a streamed reply reaches the client in pieces, and
/// every connection is closed after its response, so the client pools nothing that outlives
/// the server.
final class LoopbackHTTPServer: Sendable {
    struct RecordedRequest: Sendable {
        let method: String
        let uri: String
        let headers: [(name: String, value: String)]
        let body: [UInt8]

        /// The values of the header `name`, matched case-insensitively.
        func header(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
    }

    struct CannedResponse: Sendable {
        var status = 200
        var contentType: String
        var body: [UInt8]
    }

    let baseURL: String
    private let response: CannedResponse
    private let recorded = Mutex<[RecordedRequest]>([])

    private init(port: Int, response: CannedResponse) {
        self.baseURL = "http://127.0.0.1:\(port)"
        self.response = response
    }

    /// The requests received so far, in order.
    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    /// Runs `operation` with a server answering `response` on an ephemeral port.
    static func withRunning<Result: Sendable>(
        answering response: CannedResponse,
        _ operation: (LoopbackHTTPServer) async throws -> Result
    ) async throws -> Result {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let server = LoopbackHTTPServer(port: listener.channel.localAddress?.port ?? 0, response: response)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await listener.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { handlers in
                        for try await connection in connections {
                            handlers.addTask { try? await server.serve(connection) }
                        }
                    }
                }
            }
            // Closing the listener ends its loop; cancelling ends connections a failed test left open.
            defer { group.cancelAll() }
            do {
                let result = try await operation(server)
                try await listener.channel.close()
                return result
            } catch {
                try? await listener.channel.close()
                throw error
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                case .body(let bytes):
                    body += bytes.readableBytesView
                case .end:
                    guard let head else { return }
                    recorded.withLock {
                        $0.append(RecordedRequest(method: head.method.rawValue, uri: head.uri, headers: Array(head.headers), body: body))
                    }
                    let headers: HTTPHeaders = [
                        "Content-Type": response.contentType, "Content-Length": "\(response.body.count)", "Connection": "close",
                    ]
                    try await outbound.write(
                        .head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers))
                    )
                    var offset = 0
                    while offset < response.body.count {
                        let end = min(offset + 61, response.body.count)
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body[offset..<end]))))
                        offset = end
                    }
                    try await outbound.write(.end(nil))
                    return
                }
            }
        }
    }
}
