import CairnAWS
import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// AWS Bedrock's Converse API: `POST /model/{modelId}/converse` and `POST /model/{modelId}/converse-stream`,
/// the model id percent-encoded in the path (`anthropic.claude-3-haiku-20240307-v1%3A0`) and keying the
/// script decoded.
///
/// Requests are signed with SigV4 for the service `bedrock`. When the script holds
/// ``MockScript/bedrockSigning``, the signature is recomputed from the request as received, and one that
/// does not verify gets 403 `InvalidSignatureException`. The system prompt comes as `system` text blocks,
/// tool results as `toolResult` blocks in user messages, tools as `toolConfig.tools[].toolSpec`; a stream
/// is an AWS event stream (`messageStart`, `contentBlockStart` for a tool use, `contentBlockDelta`s,
/// `contentBlockStop`, `messageStop`, `metadata`), and an error is `{"message": …}` named by its
/// `x-amzn-errortype` header.
///
/// The path, not the body, says whether to stream, so the dialect is listed once per operation.
struct BedrockDialect: MockDialect {
    /// Whether this is `converse-stream` rather than `converse`.
    let isStream: Bool

    /// The SigV4 signing name of Bedrock's runtime endpoints.
    static let signingService = "bedrock"

    // MARK: Requests

    func route(_ method: HTTPMethod, path: Substring, query: Substring?) throws(RequestRejection) -> DialectRoute? {
        // `/model/{modelId}/{operation}`: the `/` of an inference-profile ARN travels as `%2F`, so a
        // model id is always one segment.
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let operation = isStream ? "converse-stream" : "converse"
        guard segments.count == 4, segments[0].isEmpty, segments[1] == "model", segments[3] == operation else { return nil }
        guard method == .POST else { throw RequestRejection(.methodNotAllowed, "\(path) takes POST, not \(method.rawValue).") }
        guard let model = String(segments[2]).removingPercentEncoding, !model.isEmpty else {
            throw RequestRejection(.badRequest, "The model id in the path is empty or not percent-encoded UTF-8.")
        }
        return DialectRoute(operation: .chat, pathModel: model)
    }

    /// The access key id that the `Authorization` header's `Credential=` names.
    func credential(in headers: HTTPHeaders) -> String? {
        guard let authorization = headers.first(name: "authorization"),
            let start = authorization.range(of: "Credential=")?.upperBound
        else { return nil }
        let credential = authorization[start...]
        return credential.firstIndex(of: "/").map { String(credential[..<$0]) }
    }

    func authenticate(_ head: HTTPRequestHead, path: Substring, query: Substring?, body: ByteBuffer, script: MockScript) throws(RequestRejection) {
        guard let signing = script.bedrockSigning else { return }
        let verifier = SigV4Verifier(credentials: signing.credentials, region: signing.region, service: Self.signingService)
        do {
            try verifier.verify(
                method: head.method.rawValue,
                path: String(path),
                query: query.map(String.init) ?? "",
                headers: head.headers.map { (name: $0.name, value: $0.value) },
                body: body.readableBytesView,
                now: Date()
            )
        } catch {
            throw RequestRejection(.forbidden, "SigV4 verification failed (\(error.code)): \(error.message)")
        }
    }

    func parseChat(_ body: ByteBuffer, route: DialectRoute, headers: HTTPHeaders) throws(RequestRejection) -> MockChatRequest {
        guard let model = route.pathModel else { throw RequestRejection(.internalServerError, "The route names no model.") }
        let converse = try JSONText.decode(ConverseBody.self, from: body)
        guard let first = converse.messages.first, let last = converse.messages.last else {
            throw RequestRejection(.badRequest, "'messages' must not be empty.")
        }
        guard first.role == "user" else { throw RequestRejection(.badRequest, "A conversation must start with a user message.") }
        if let maxTokens = converse.inferenceConfig?.maxTokens, maxTokens < 1 {
            throw RequestRejection(.badRequest, "'inferenceConfig.maxTokens' must be at least 1.")
        }
        let system = (converse.system ?? []).compactMap(\.text).joined(separator: "\n")
        var promptWords = system.isEmpty ? 0 : Words.count(system) + 3
        var lastUserText = ""
        for (index, message) in converse.messages.enumerated() {
            guard message.role == "user" || message.role == "assistant" else {
                throw RequestRejection(.badRequest, "'messages.\(index).role' is '\(message.role)', not user or assistant.")
            }
            for (position, block) in message.content.enumerated() {
                if let text = block.text, text.allSatisfy(\.isWhitespace) {
                    let block = "messages.\(index).content.\(position)"
                    throw RequestRejection(.badRequest, "The text field in the ContentBlock object at \(block) is blank.")
                }
                // Converse refuses tool blocks in a conversation that declares no tools, which is why the
                // gateway keeps the tools when `tool_choice` is `none` but the history holds tool calls.
                if block.toolUse != nil || block.toolResult != nil, converse.toolConfig == nil {
                    throw RequestRejection(.badRequest, "The toolConfig field must be defined when using toolUse and toolResult content blocks.")
                }
            }
            promptWords += Words.count(message.allText) + 3
            if message.role == "user", !message.isOnlyToolResults { lastUserText = message.text }
        }
        let lastTurn: MockChatRequest.LastTurn =
            switch last.role {
            case "user": last.toolResults.map(MockChatRequest.LastTurn.toolResult) ?? .user
            default: .other
            }

        var request = MockChatRequest(
            model: model,
            stream: isStream,
            maxTokens: converse.inferenceConfig?.maxTokens,
            lastTurn: lastTurn,
            lastUserText: lastUserText,
            promptTokens: min(promptWords, body.readableBytes)
        )
        if let toolConfig = converse.toolConfig {
            // Entries without a `toolSpec` are cache points.
            request.tools = toolConfig.tools.compactMap(\.toolSpec).map { MockTool(name: $0.name, parameters: $0.inputSchema.json) }
            guard !request.tools.isEmpty else { throw RequestRejection(.badRequest, "'toolConfig.tools' must hold at least one toolSpec.") }
            request.toolChoice = try Self.toolChoice(toolConfig.toolChoice, among: request.tools)
        }
        return request
    }

    /// Converse's tool choice: an object with exactly one member, `auto`, `any` or `tool`.
    private static func toolChoice(
        _ choice: ConverseBody.ToolChoice?,
        among tools: [MockTool]
    ) throws(RequestRejection) -> MockChatRequest.ToolChoice {
        guard let choice else { return .auto }
        switch (choice.auto, choice.any, choice.tool) {
        case (_?, nil, nil):
            return .auto
        case (nil, _?, nil):
            return .required
        case (nil, nil, let named?):
            guard tools.contains(where: { $0.name == named.name }) else {
                throw RequestRejection(.badRequest, "'toolConfig.toolChoice.tool.name' is '\(named.name)', which is not among the tools.")
            }
            return .named(named.name)
        default:
            throw RequestRejection(.badRequest, "'toolConfig.toolChoice' must hold exactly one of auto, any and tool.")
        }
    }

    // MARK: Replies

    func encodeChat(_ reply: MockChatReply, for request: MockChatRequest) throws -> ByteBuffer {
        let block: ContentBlock
        switch reply.content {
        case .text(let text): block = .text(text)
        case .toolCall(let name, let arguments): block = .toolUse(id: Self.toolUseID(reply), name: name, input: MockChatReply.toolInput(arguments))
        }
        let response = ConverseResponse(
            output: .init(message: .init(content: [block])),
            stopReason: reply.finish.contentBlockStopReason,
            usage: Usage(reply)
        )
        return try JSONText.buffer(response)
    }

    func encodeChatStream(_ reply: MockChatReply, for request: MockChatRequest) throws -> MockStream {
        var opening = [try Self.event("messageStart", MessageStart())]
        let content: [ByteBuffer]
        switch reply.content {
        case .text(let text):
            content = try Words.pieces(text).map { try Self.event("contentBlockDelta", BlockDelta(delta: .text(String($0)))) }
        case .toolCall(let name, let arguments):
            let start = BlockStart(start: .init(toolUse: .init(toolUseId: Self.toolUseID(reply), name: name)))
            opening.append(try Self.event("contentBlockStart", start))
            content = try Words.fragments(arguments, length: Self.argumentFragmentLength).map {
                try Self.event("contentBlockDelta", BlockDelta(delta: .toolUseInput(String($0))))
            }
        }
        let closing = [
            try Self.event("contentBlockStop", BlockStop()),
            try Self.event("messageStop", MessageStop(stopReason: reply.finish.contentBlockStopReason)),
            try Self.event("metadata", Metadata(usage: Usage(reply))),
        ]
        return MockStream(contentType: "application/vnd.amazon.eventstream", opening: opening, content: content, closing: closing)
    }

    func encodeError(_ rejection: RequestRejection) -> ByteBuffer {
        // One string cannot fail to encode; the fallback only keeps the signature honest.
        (try? JSONText.buffer(["message": rejection.message])) ?? ByteBuffer(string: #"{"message":""}"#)
    }

    func errorHeaders(_ rejection: RequestRejection) -> HTTPHeaders {
        let type =
            switch rejection.status.code {
            case 401: "UnrecognizedClientException"
            // Bedrock also answers 403 AccessDeniedException; the mock's own 403s are all signature failures.
            case 403: "InvalidSignatureException"
            case 404: "ResourceNotFoundException"
            case 408: "ModelTimeoutException"
            case 429: "ThrottlingException"
            case 503: "ServiceUnavailableException"
            case 500...: "InternalServerException"
            default: "ValidationException"
            }
        return ["x-amzn-errortype": type]
    }

    /// How many characters of tool input each streamed `contentBlockDelta` carries.
    private static let argumentFragmentLength = 12

    private static func toolUseID(_ reply: MockChatReply) -> String { "tooluse_mock_\(reply.sequence)" }

    /// One event-stream message carrying `payload` as JSON, framed as Bedrock frames its events.
    private static func event(_ type: String, _ payload: some Encodable) throws -> ByteBuffer {
        let message = AWSEventStreamMessage(
            headers: [":message-type": .string("event"), ":event-type": .string(type), ":content-type": .string("application/json")],
            payload: Array(try JSONText.buffer(payload).readableBytesView)
        )
        return ByteBuffer(bytes: try AWSEventStreamEncoder.encode(message))
    }
}

// MARK: - Request bodies

private struct ConverseBody: Decodable {
    var messages: [Message]
    var system: [SystemBlock]?
    var inferenceConfig: InferenceConfiguration?
    var toolConfig: ToolConfiguration?

    struct Message: Decodable {
        var role: String
        var content: [Block]

        /// The text blocks' text.
        var text: String {
            content.compactMap(\.text).joined(separator: "\n")
        }

        /// The text blocks' and tool results' text, for counting tokens.
        var allText: String {
            content.map { $0.text ?? $0.toolResult?.text ?? "" }.joined(separator: "\n")
        }

        /// The tool results' text; `nil` when there are none.
        var toolResults: String? {
            let results = content.compactMap(\.toolResult)
            return results.isEmpty ? nil : results.map(\.text).joined(separator: "\n")
        }

        var isOnlyToolResults: Bool {
            !content.isEmpty && content.allSatisfy { $0.toolResult != nil }
        }
    }

    /// A content block: a union written as an object with one member named for its kind. Images,
    /// documents and the like decode with none of these set.
    struct Block: Decodable {
        var text: String?
        var toolUse: ToolUse?
        var toolResult: ToolResult?
    }

    struct ToolUse: Decodable {
        var toolUseId: String
        var name: String
    }

    struct ToolResult: Decodable {
        var toolUseId: String
        var content: [ResultContent]

        /// Only text content counts; `json`, images and documents carry none.
        struct ResultContent: Decodable {
            var text: String?
        }

        var text: String {
            content.compactMap(\.text).joined(separator: "\n")
        }
    }

    struct SystemBlock: Decodable {
        /// Absent for guard-content and cache-point blocks.
        var text: String?
    }

    struct InferenceConfiguration: Decodable {
        var maxTokens: Int?
    }

    struct ToolConfiguration: Decodable {
        var tools: [Tool]
        var toolChoice: ToolChoice?

        struct Tool: Decodable {
            var toolSpec: Specification?
        }

        struct Specification: Decodable {
            var name: String
            var inputSchema: InputSchema
        }

        struct InputSchema: Decodable {
            var json: JSONValue
        }
    }

    /// `{"auto": {}}`, `{"any": {}}` or `{"tool": {"name": …}}`.
    struct ToolChoice: Decodable {
        var auto: JSONValue?
        var any: JSONValue?
        var tool: Named?

        struct Named: Decodable {
            var name: String
        }
    }
}

// MARK: - Response bodies

private enum ContentBlock: Encodable {
    case text(String)
    case toolUse(id: String, name: String, input: JSONValue)

    private enum CodingKeys: String, CodingKey {
        case text, toolUse
    }

    private struct ToolUse: Encodable {
        var toolUseId: String
        var name: String
        var input: JSONValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text): try container.encode(text, forKey: .text)
        case .toolUse(let id, let name, let input): try container.encode(ToolUse(toolUseId: id, name: name, input: input), forKey: .toolUse)
        }
    }
}

private struct Usage: Encodable {
    var inputTokens: Int
    var outputTokens: Int
    var totalTokens: Int

    init(_ reply: MockChatReply) {
        inputTokens = reply.promptTokens
        outputTokens = reply.completionTokens
        totalTokens = reply.promptTokens + reply.completionTokens
    }
}

/// The mock answers at once, so every latency it reports is zero.
private struct Metrics: Encodable {
    let latencyMs = 0
}

private struct ConverseResponse: Encodable {
    var output: Output
    var stopReason: String
    var usage: Usage
    let metrics = Metrics()

    struct Output: Encodable {
        var message: Message
    }

    struct Message: Encodable {
        let role = "assistant"
        var content: [ContentBlock]
    }
}

private struct MessageStart: Encodable {
    let role = "assistant"
}

private struct BlockStart: Encodable {
    let contentBlockIndex = 0
    var start: Start

    struct Start: Encodable {
        var toolUse: ToolUse
    }

    struct ToolUse: Encodable {
        var toolUseId: String
        var name: String
    }
}

private struct BlockDelta: Encodable {
    let contentBlockIndex = 0
    var delta: Delta

    enum Delta: Encodable {
        case text(String)
        /// A piece of the tool input's JSON text.
        case toolUseInput(String)

        private enum CodingKeys: String, CodingKey {
            case text, toolUse
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .text(let text): try container.encode(text, forKey: .text)
            case .toolUseInput(let input): try container.encode(["input": input], forKey: .toolUse)
            }
        }
    }
}

private struct BlockStop: Encodable {
    let contentBlockIndex = 0
}

private struct MessageStop: Encodable {
    var stopReason: String
}

private struct Metadata: Encodable {
    var usage: Usage
    let metrics = Metrics()
}
