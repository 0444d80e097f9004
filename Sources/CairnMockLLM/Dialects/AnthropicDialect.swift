import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// Anthropic's Messages API: `POST /v1/messages` with `x-api-key` and `anthropic-version` headers,
/// `system` as a top-level field, tool results as `tool_result` blocks in user messages, and streams of
/// named events (`message_start` … `message_stop`).
struct AnthropicDialect: MockDialect {
    // MARK: Requests

    func route(_ method: HTTPMethod, path: Substring, query: Substring?) throws(RequestRejection) -> DialectRoute? {
        guard path == "/v1/messages" else { return nil }
        guard method == .POST else { throw RequestRejection(.methodNotAllowed, "\(path) takes POST, not \(method.rawValue).") }
        return DialectRoute(operation: .chat)
    }

    func credential(in headers: HTTPHeaders) -> String? {
        headers.first(name: "x-api-key")
    }

    func parseChat(_ body: ByteBuffer, route: DialectRoute, headers: HTTPHeaders) throws(RequestRejection) -> MockChatRequest {
        guard headers.contains(name: "anthropic-version") else {
            throw RequestRejection(.badRequest, "anthropic-version: header is required.")
        }
        let messages = try JSONText.decode(MessagesBody.self, from: body)
        guard let last = messages.messages.last else { throw RequestRejection(.badRequest, "'messages' must not be empty.") }
        guard messages.maxTokens >= 1 else { throw RequestRejection(.badRequest, "'max_tokens' must be at least 1.") }
        var promptWords = messages.system.map { Words.count($0.text) + 3 } ?? 0
        var lastUserText = ""
        for (index, message) in messages.messages.enumerated() {
            guard message.role == "user" || message.role == "assistant" else {
                throw RequestRejection(.badRequest, "'messages.\(index).role' is '\(message.role)', not user or assistant.")
            }
            promptWords += Words.count(message.content.allText) + 3
            if message.role == "user", !message.content.isOnlyToolResults { lastUserText = message.content.text }
        }
        let lastTurn: MockChatRequest.LastTurn =
            switch last.role {
            case "user": last.content.toolResults.map(MockChatRequest.LastTurn.toolResult) ?? .user
            default: .other
            }

        var request = MockChatRequest(
            model: messages.model,
            stream: messages.stream ?? false,
            maxTokens: messages.maxTokens,
            lastTurn: lastTurn,
            lastUserText: lastUserText,
            promptTokens: min(promptWords, body.readableBytes)
        )
        request.tools = (messages.tools ?? []).map {
            MockTool(name: $0.name, parameters: $0.inputSchema ?? .object(["type": .string("object")]))
        }
        switch (messages.toolChoice?.type, messages.toolChoice?.name) {
        case (nil, _), ("auto"?, _): request.toolChoice = .auto
        case ("any"?, _): request.toolChoice = .required
        case ("none"?, _): request.toolChoice = .none
        case ("tool"?, let name?):
            guard request.tools.contains(where: { $0.name == name }) else {
                throw RequestRejection(.badRequest, "'tool_choice.name' is '\(name)', which is not among 'tools'.")
            }
            request.toolChoice = .named(name)
        case (let type?, _):
            throw RequestRejection(.badRequest, "'tool_choice' of type '\(type)' is not auto, any, none, or tool with a name.")
        }
        return request
    }

    // MARK: Replies

    func encodeChat(_ reply: MockChatReply, for request: MockChatRequest) throws -> ByteBuffer {
        let block: ContentBlock
        switch reply.content {
        case .text(let text): block = .text(text)
        case .toolCall(let name, let arguments): block = .toolUse(id: Self.toolUseID(reply), name: name, input: MockChatReply.toolInput(arguments))
        }
        let message = Message(
            id: Self.messageID(reply),
            model: request.model,
            content: [block],
            stopReason: reply.finish.contentBlockStopReason,
            usage: Usage(inputTokens: reply.promptTokens, outputTokens: reply.completionTokens)
        )
        return try JSONText.buffer(message)
    }

    func encodeChatStream(_ reply: MockChatReply, for request: MockChatRequest) throws -> MockStream {
        func event(_ name: String, _ body: some Encodable) throws -> ByteBuffer {
            ByteBuffer(serverSentEvent: try JSONText.buffer(body), named: name)
        }
        // Usage so far, as Anthropic counts it at the start: the prompt and the first token.
        let start = Message(
            id: Self.messageID(reply),
            model: request.model,
            content: [],
            stopReason: nil,
            usage: Usage(inputTokens: reply.promptTokens, outputTokens: 1)
        )
        let block: ContentBlock
        let content: [ByteBuffer]
        switch reply.content {
        case .text(let text):
            block = .text("")
            content = try Words.pieces(text).map { try event("content_block_delta", BlockDelta(delta: .text($0))) }
        case .toolCall(let name, let arguments):
            block = .toolUse(id: Self.toolUseID(reply), name: name, input: .object([:]))
            content = try Words.fragments(arguments, length: Self.argumentFragmentLength).map {
                try event("content_block_delta", BlockDelta(delta: .partialJSON($0)))
            }
        }
        let opening = [
            try event("message_start", MessageStart(message: start)),
            try event("content_block_start", BlockStart(contentBlock: block)),
            try event("ping", Ping()),
        ]
        let closing = [
            try event("content_block_stop", BlockStop()),
            try event("message_delta", MessageDelta(stopReason: reply.finish.contentBlockStopReason, outputTokens: reply.completionTokens)),
            try event("message_stop", MessageStop()),
        ]
        return MockStream(contentType: "text/event-stream", opening: opening, content: content, closing: closing)
    }

    func encodeError(_ rejection: RequestRejection) -> ByteBuffer {
        let type =
            switch rejection.status.code {
            case 401: "authentication_error"
            case 403: "permission_error"
            case 404, 405: "not_found_error"
            case 413: "request_too_large"
            case 429: "rate_limit_error"
            case 503, 529: "overloaded_error"
            case 500...: "api_error"
            default: "invalid_request_error"
            }
        // Three strings cannot fail to encode; the fallback only keeps the signature honest.
        return (try? JSONText.buffer(ErrorBody(error: .init(type: type, message: rejection.message))))
            ?? ByteBuffer(string: #"{"type":"error"}"#)
    }

    /// How many characters of tool input each streamed `input_json_delta` carries.
    private static let argumentFragmentLength = 12

    private static func messageID(_ reply: MockChatReply) -> String { "msg_mock_\(reply.sequence)" }

    private static func toolUseID(_ reply: MockChatReply) -> String { "toolu_mock_\(reply.sequence)" }

}

// MARK: - Request bodies

private struct MessagesBody: Decodable {
    var model: String
    var maxTokens: Int
    var system: Content?
    var messages: [Message]
    var tools: [Tool]?
    var toolChoice: ToolChoice?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, system, messages, tools, stream
        case maxTokens = "max_tokens"
        case toolChoice = "tool_choice"
    }

    struct Message: Decodable {
        var role: String
        var content: Content
    }

    /// A string, or content blocks.
    enum Content: Decodable {
        case text(String)
        case blocks([Block])

        struct Block: Decodable {
            var type: String
            var text: String?
            /// A `tool_result`'s content.
            var content: Content?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .blocks(try container.decode([Block].self))
            }
        }

        /// The text blocks' text.
        var text: String {
            switch self {
            case .text(let text): text
            case .blocks(let blocks): blocks.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
            }
        }

        /// The text blocks' and tool results' text, for counting tokens.
        var allText: String {
            switch self {
            case .text(let text): text
            case .blocks(let blocks): blocks.map { $0.text ?? $0.content?.allText ?? "" }.joined(separator: "\n")
            }
        }

        /// The tool results' text; `nil` when there are none.
        var toolResults: String? {
            guard case .blocks(let blocks) = self else { return nil }
            let results = blocks.filter { $0.type == "tool_result" }
            return results.isEmpty ? nil : results.map { $0.content?.text ?? "" }.joined(separator: "\n")
        }

        var isOnlyToolResults: Bool {
            guard case .blocks(let blocks) = self else { return false }
            return !blocks.isEmpty && blocks.allSatisfy { $0.type == "tool_result" }
        }
    }

    struct Tool: Decodable {
        var name: String
        /// Absent for Anthropic's server tools (web search and the like).
        var inputSchema: JSONValue?

        enum CodingKeys: String, CodingKey {
            case name
            case inputSchema = "input_schema"
        }
    }

    struct ToolChoice: Decodable {
        var type: String
        var name: String?
    }
}

// MARK: - Response bodies

private enum ContentBlock: Encodable {
    case text(String)
    case toolUse(id: String, name: String, input: JSONValue)

    enum CodingKeys: String, CodingKey {
        case type, text, id, name, input
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode("text", forKey: .type)
            try container.encode(text, forKey: .text)
        case .toolUse(let id, let name, let input):
            try container.encode("tool_use", forKey: .type)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(input, forKey: .input)
        }
    }
}

private struct Usage: Encodable {
    var inputTokens: Int
    var outputTokens: Int

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
    }
}

private struct Message: Encodable {
    var id: String
    var model: String
    var content: [ContentBlock]
    var stopReason: String?
    var usage: Usage

    enum CodingKeys: String, CodingKey {
        case id, type, role, model, content, usage
        case stopReason = "stop_reason"
        case stopSequence = "stop_sequence"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("message", forKey: .type)
        try container.encode("assistant", forKey: .role)
        try container.encode(model, forKey: .model)
        try container.encode(content, forKey: .content)
        try container.encode(stopReason, forKey: .stopReason)
        try container.encodeNil(forKey: .stopSequence)
        try container.encode(usage, forKey: .usage)
    }
}

private struct MessageStart: Encodable {
    let type = "message_start"
    var message: Message
}

private struct BlockStart: Encodable {
    let type = "content_block_start"
    let index = 0
    var contentBlock: ContentBlock

    enum CodingKeys: String, CodingKey {
        case type, index
        case contentBlock = "content_block"
    }
}

private struct Ping: Encodable {
    let type = "ping"
}

private struct BlockDelta: Encodable {
    let type = "content_block_delta"
    let index = 0
    var delta: Delta

    enum Delta: Encodable {
        case text(Substring)
        case partialJSON(Substring)

        enum CodingKeys: String, CodingKey {
            case type, text
            case partialJSON = "partial_json"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .text(let text):
                try container.encode("text_delta", forKey: .type)
                try container.encode(String(text), forKey: .text)
            case .partialJSON(let fragment):
                try container.encode("input_json_delta", forKey: .type)
                try container.encode(String(fragment), forKey: .partialJSON)
            }
        }
    }
}

private struct BlockStop: Encodable {
    let type = "content_block_stop"
    let index = 0
}

private struct MessageDelta: Encodable {
    var stopReason: String
    var outputTokens: Int

    enum CodingKeys: String, CodingKey {
        case type, delta, usage
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("message_delta", forKey: .type)
        try container.encode(["stop_reason": stopReason], forKey: .delta)
        try container.encode(["output_tokens": outputTokens], forKey: .usage)
    }
}

private struct MessageStop: Encodable {
    let type = "message_stop"
}

private struct ErrorBody: Encodable {
    let type = "error"
    var error: Detail

    struct Detail: Encodable {
        var type: String
        var message: String
    }
}
