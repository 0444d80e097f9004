import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// OpenAI's API (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`, `Authorization: Bearer`), or
/// Azure OpenAI's shape of it: `/openai/deployments/{deployment}/chat/completions` and `/embeddings`
/// with a required `api-version` query item and an `api-key` header, the deployment standing for the model.
struct OpenAIDialect: MockDialect {
    /// Whether this is the Azure shape.
    let isAzure: Bool

    // MARK: Requests

    func route(_ method: HTTPMethod, path: Substring, query: Substring?) throws(RequestRejection) -> DialectRoute? {
        let route: DialectRoute
        let allowed: HTTPMethod
        if isAzure {
            let segments = path.split(separator: "/")
            guard segments.count >= 4, segments[0] == "openai", segments[1] == "deployments" else { return nil }
            let operation: ModelOperation
            switch segments[3...].joined(separator: "/") {
            case "chat/completions": operation = .chat
            case "embeddings": operation = .embeddings
            default: return nil
            }
            let deployment = String(segments[2])
            route = DialectRoute(operation: operation, pathModel: deployment.removingPercentEncoding ?? deployment)
            allowed = .POST
        } else {
            switch path {
            case "/v1/chat/completions": (route, allowed) = (DialectRoute(operation: .chat), .POST)
            case "/v1/embeddings": (route, allowed) = (DialectRoute(operation: .embeddings), .POST)
            case "/v1/models": (route, allowed) = (DialectRoute(operation: .listModels), .GET)
            default: return nil
            }
        }
        guard method == allowed else {
            throw RequestRejection(.methodNotAllowed, "\(path) takes \(allowed.rawValue), not \(method.rawValue).")
        }
        if isAzure, !Self.hasAPIVersion(query) {
            throw RequestRejection(.badRequest, "Missing required query parameter 'api-version'.")
        }
        return route
    }

    func credential(in headers: HTTPHeaders) -> String? {
        if isAzure { return headers.first(name: "api-key") }
        guard let authorization = headers.first(name: "authorization"), authorization.lowercased().hasPrefix("bearer ") else {
            return nil
        }
        return String(authorization.dropFirst("bearer ".count))
    }

    func parseChat(_ body: ByteBuffer, route: DialectRoute, headers: HTTPHeaders) throws(RequestRejection) -> MockChatRequest {
        let chat = try JSONText.decode(ChatCompletionBody.self, from: body)
        guard let model = route.pathModel ?? chat.model else { throw RequestRejection(.badRequest, "Missing required field 'model'.") }
        guard let last = chat.messages.last else { throw RequestRejection(.badRequest, "'messages' must not be empty.") }
        var promptWords = 0
        var lastUserText = ""
        for (index, message) in chat.messages.enumerated() {
            guard Self.roles.contains(message.role) else {
                throw RequestRejection(
                    .badRequest,
                    "'messages.\(index).role' is '\(message.role)', not one of \(Self.roles.sorted().joined(separator: ", "))."
                )
            }
            let text = message.content?.text ?? ""
            promptWords += Words.count(text) + 3
            if message.role == "user" { lastUserText = text }
        }
        let maxTokens = chat.maxCompletionTokens ?? chat.maxTokens
        if let maxTokens, maxTokens < 1 { throw RequestRejection(.badRequest, "'max_completion_tokens' must be at least 1.") }
        let lastTurn: MockChatRequest.LastTurn =
            switch last.role {
            case "user": .user
            case "tool", "function": .toolResult(last.content?.text ?? "")
            default: .other
            }

        var request = MockChatRequest(
            model: model,
            stream: chat.stream ?? false,
            includeUsage: chat.streamOptions?.includeUsage ?? false,
            maxTokens: maxTokens,
            lastTurn: lastTurn,
            lastUserText: lastUserText,
            promptTokens: min(promptWords, body.readableBytes)
        )
        request.tools = (chat.tools ?? []).compactMap { tool in
            tool.function.map { MockTool(name: $0.name, parameters: $0.parameters ?? .object(["type": .string("object")])) }
        }
        switch chat.toolChoice {
        case nil, .mode("auto")?: request.toolChoice = .auto
        case .mode("none")?: request.toolChoice = .none
        case .mode("required")?: request.toolChoice = .required
        case .mode(let other)?: throw RequestRejection(.badRequest, "'tool_choice' is '\(other)', not none, auto or required.")
        case .function(let name)?:
            guard request.tools.contains(where: { $0.name == name }) else {
                throw RequestRejection(.badRequest, "'tool_choice' names '\(name)', which is not among 'tools'.")
            }
            request.toolChoice = .named(name)
        }
        switch chat.responseFormat?.type {
        case nil, "text": request.responseFormat = .text
        case "json_object": request.responseFormat = .jsonObject
        case "json_schema":
            guard let format = chat.responseFormat?.jsonSchema else {
                throw RequestRejection(.badRequest, "Missing required field 'response_format.json_schema'.")
            }
            request.responseFormat = .jsonSchema(format.schema ?? .object(["type": .string("object")]))
        case let other?:
            throw RequestRejection(.badRequest, "'response_format.type' is '\(other)', not text, json_object or json_schema.")
        }
        return request
    }

    func parseEmbeddings(_ body: ByteBuffer, route: DialectRoute) throws(RequestRejection) -> MockEmbeddingsRequest {
        let embeddings = try JSONText.decode(EmbeddingsBody.self, from: body)
        guard let model = route.pathModel ?? embeddings.model else { throw RequestRejection(.badRequest, "Missing required field 'model'.") }
        let inputs = embeddings.input.texts
        guard (1...2_048).contains(inputs.count) else { throw RequestRejection(.badRequest, "'input' must hold 1 to 2048 texts.") }
        let dimensions = embeddings.dimensions ?? MockEmbeddings.defaultDimensions
        guard (1...MockEmbeddings.maxDimensions).contains(dimensions) else {
            throw RequestRejection(.badRequest, "'dimensions' must be 1 to \(MockEmbeddings.maxDimensions).")
        }
        guard [nil, "float", "base64"].contains(embeddings.encodingFormat) else {
            throw RequestRejection(.badRequest, "'encoding_format' must be float or base64.")
        }
        return MockEmbeddingsRequest(
            model: model,
            inputs: inputs,
            dimensions: dimensions,
            base64: embeddings.encodingFormat == "base64",
            promptTokens: min(inputs.reduce(0) { $0 + Words.count($1) }, body.readableBytes)
        )
    }

    private static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]

    private static func hasAPIVersion(_ query: Substring?) -> Bool {
        query?.split(separator: "&").contains { $0.hasPrefix("api-version=") && $0.count > "api-version=".count } ?? false
    }

    // MARK: Replies

    func encodeChat(_ reply: MockChatReply, for request: MockChatRequest) throws -> ByteBuffer {
        let message: CompletionMessage
        switch reply.content {
        case .text(let text):
            message = CompletionMessage(content: text, toolCalls: nil)
        case .toolCall(let name, let arguments):
            message = CompletionMessage(content: nil, toolCalls: [ToolCall(id: Self.toolCallID(reply), name: name, arguments: arguments)])
        }
        return try JSONText.buffer(
            ChatCompletion(
                id: Self.completionID(reply),
                created: Self.now,
                model: request.model,
                message: message,
                finishReason: Self.finishReason(reply.finish),
                usage: Usage(reply)
            )
        )
    }

    func encodeChatStream(_ reply: MockChatReply, for request: MockChatRequest) throws -> MockStream {
        let id = Self.completionID(reply)
        let created = Self.now
        func event(_ delta: Delta, finishReason: String? = nil) throws -> ByteBuffer {
            let chunk = ChatCompletionChunk(
                id: id,
                created: created,
                model: request.model,
                choices: [.init(delta: delta, finishReason: finishReason)],
                usage: request.includeUsage ? .some(nil) : nil
            )
            return ByteBuffer(serverSentEvent: try JSONText.buffer(chunk))
        }
        let opening: ByteBuffer
        let content: [ByteBuffer]
        switch reply.content {
        case .text(let text):
            opening = try event(.opening(toolCall: nil))
            content = try Words.pieces(text).map { try event(.text($0)) }
        case .toolCall(let name, let arguments):
            opening = try event(.opening(toolCall: ToolCall(id: Self.toolCallID(reply), name: name, arguments: "")))
            content = try Words.fragments(arguments, length: Self.argumentFragmentLength).map { try event(.arguments($0)) }
        }
        var closing = [try event(.end, finishReason: Self.finishReason(reply.finish))]
        if request.includeUsage {
            let usage = ChatCompletionChunk(id: id, created: created, model: request.model, choices: [], usage: .some(Usage(reply)))
            closing.append(ByteBuffer(serverSentEvent: try JSONText.buffer(usage)))
        }
        closing.append(ByteBuffer(string: "data: [DONE]\n\n"))
        return MockStream(contentType: "text/event-stream", opening: [opening], content: content, closing: closing)
    }

    func encodeEmbeddings(_ vectors: [[Float]], for request: MockEmbeddingsRequest) throws -> ByteBuffer {
        let data = vectors.enumerated().map { index, vector in
            Embedding(index: index, embedding: request.base64 ? .base64(MockEmbeddings.base64(vector)) : .floats(vector))
        }
        let usage = EmbeddingsUsage(promptTokens: request.promptTokens, totalTokens: request.promptTokens)
        return try JSONText.buffer(EmbeddingList(data: data, model: request.model, usage: usage))
    }

    func encodeModelList(_ models: [String]) throws -> ByteBuffer {
        try JSONText.buffer(ModelList(data: models.map { ModelList.Model(id: $0) }))
    }

    func encodeError(_ rejection: RequestRejection) -> ByteBuffer {
        let (type, code): (String, String?) =
            switch rejection.status.code {
            case 401: ("invalid_request_error", "invalid_api_key")
            case 429: ("requests", "rate_limit_exceeded")
            case 500...: ("server_error", nil)
            default: ("invalid_request_error", nil)
            }
        let error = ErrorBody(error: .init(message: rejection.message, type: type, code: code))
        // Four strings cannot fail to encode; the fallback only keeps the signature honest.
        return (try? JSONText.buffer(error)) ?? ByteBuffer(string: #"{"error":{}}"#)
    }

    /// How many characters of tool arguments each streamed delta carries.
    private static let argumentFragmentLength = 12

    private static var now: Int { Int(Date().timeIntervalSince1970) }

    private static func completionID(_ reply: MockChatReply) -> String { "chatcmpl-mock-\(reply.sequence)" }

    private static func toolCallID(_ reply: MockChatReply) -> String { "call_mock_\(reply.sequence)" }

    private static func finishReason(_ finish: MockChatReply.Finish) -> String {
        switch finish {
        case .stop: "stop"
        case .length: "length"
        case .toolCall: "tool_calls"
        }
    }
}

// MARK: - Request bodies

private struct ChatCompletionBody: Decodable {
    var model: String?
    var messages: [Message]
    var stream: Bool?
    var streamOptions: StreamOptions?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var tools: [Tool]?
    var toolChoice: ToolChoice?
    var responseFormat: ResponseFormat?

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, tools
        case streamOptions = "stream_options"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case toolChoice = "tool_choice"
        case responseFormat = "response_format"
    }

    struct Message: Decodable {
        var role: String
        var content: Content?
    }

    /// A message's content: a string, or parts of which the text ones count.
    enum Content: Decodable {
        case text(String)
        case parts([Part])

        struct Part: Decodable {
            var type: String
            var text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .parts(try container.decode([Part].self))
            }
        }

        var text: String {
            switch self {
            case .text(let text): text
            case .parts(let parts): parts.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
            }
        }
    }

    struct StreamOptions: Decodable {
        var includeUsage: Bool?

        enum CodingKeys: String, CodingKey {
            case includeUsage = "include_usage"
        }
    }

    struct Tool: Decodable {
        var type: String
        /// Absent for tools other than functions, which the mock does not call.
        var function: Function?

        struct Function: Decodable {
            var name: String
            var parameters: JSONValue?
        }
    }

    /// `"none"`, `"auto"`, `"required"`, or `{"type": "function", "function": {"name": …}}`.
    enum ToolChoice: Decodable {
        case mode(String)
        case function(String)

        private struct Named: Decodable {
            var function: Function
            struct Function: Decodable { var name: String }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let mode = try? container.decode(String.self) {
                self = .mode(mode)
            } else {
                self = .function(try container.decode(Named.self).function.name)
            }
        }
    }

    struct ResponseFormat: Decodable {
        var type: String
        var jsonSchema: JSONSchema?

        enum CodingKeys: String, CodingKey {
            case type
            case jsonSchema = "json_schema"
        }

        struct JSONSchema: Decodable {
            var schema: JSONValue?
        }
    }
}

private struct EmbeddingsBody: Decodable {
    var model: String?
    var input: Input
    var dimensions: Int?
    var encodingFormat: String?

    enum CodingKeys: String, CodingKey {
        case model, input, dimensions
        case encodingFormat = "encoding_format"
    }

    /// A string or an array of strings; token arrays are refused.
    struct Input: Decodable {
        var texts: [String]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                texts = [text]
            } else if let texts = try? container.decode([String].self) {
                self.texts = texts
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a string or an array of strings")
            }
        }
    }
}

// MARK: - Response bodies

private struct Usage: Encodable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int

    init(_ reply: MockChatReply) {
        promptTokens = reply.promptTokens
        completionTokens = reply.completionTokens
        totalTokens = reply.promptTokens + reply.completionTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }
}

private struct ToolCall: Encodable {
    var id: String
    var name: String
    var arguments: String

    enum CodingKeys: String, CodingKey {
        case id, type, function
    }

    enum FunctionKeys: String, CodingKey {
        case name, arguments
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("function", forKey: .type)
        var function = container.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
        try function.encode(name, forKey: .name)
        try function.encode(arguments, forKey: .arguments)
    }
}

private struct CompletionMessage: Encodable {
    var content: String?
    var toolCalls: [ToolCall]?

    enum CodingKeys: String, CodingKey {
        case role, content, refusal
        case toolCalls = "tool_calls"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("assistant", forKey: .role)
        // OpenAI writes `content: null` beside tool calls rather than leaving it out.
        try container.encode(content, forKey: .content)
        try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try container.encodeNil(forKey: .refusal)
    }
}

private struct ChatCompletion: Encodable {
    var id: String
    var created: Int
    var model: String
    var message: CompletionMessage
    var finishReason: String
    var usage: Usage

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
    }

    enum ChoiceKeys: String, CodingKey {
        case index, message, logprobs
        case finishReason = "finish_reason"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("chat.completion", forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        var choices = container.nestedUnkeyedContainer(forKey: .choices)
        var choice = choices.nestedContainer(keyedBy: ChoiceKeys.self)
        try choice.encode(0, forKey: .index)
        try choice.encode(message, forKey: .message)
        try choice.encodeNil(forKey: .logprobs)
        try choice.encode(finishReason, forKey: .finishReason)
        try container.encode(usage, forKey: .usage)
    }
}

/// What one stream chunk adds to the message.
private enum Delta: Encodable {
    /// The first chunk: the role, and the tool call's id and name when the reply is one.
    case opening(toolCall: ToolCall?)
    case text(Substring)
    case arguments(Substring)
    /// The last chunk's empty delta, beside the finish reason.
    case end

    enum CodingKeys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
    }

    enum ToolCallKeys: String, CodingKey {
        case index, id, type, function
    }

    enum FunctionKeys: String, CodingKey {
        case arguments
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .opening(let toolCall?):
            try container.encode("assistant", forKey: .role)
            try container.encodeNil(forKey: .content)
            var calls = container.nestedUnkeyedContainer(forKey: .toolCalls)
            var call = calls.nestedContainer(keyedBy: ToolCallKeys.self)
            try call.encode(0, forKey: .index)
            try call.encode(toolCall.id, forKey: .id)
            try call.encode("function", forKey: .type)
            try call.encode(["name": toolCall.name, "arguments": ""], forKey: .function)
        case .opening(nil):
            try container.encode("assistant", forKey: .role)
            try container.encode("", forKey: .content)
        case .text(let text):
            try container.encode(String(text), forKey: .content)
        case .arguments(let fragment):
            var calls = container.nestedUnkeyedContainer(forKey: .toolCalls)
            var call = calls.nestedContainer(keyedBy: ToolCallKeys.self)
            try call.encode(0, forKey: .index)
            var function = call.nestedContainer(keyedBy: FunctionKeys.self, forKey: .function)
            try function.encode(String(fragment), forKey: .arguments)
        case .end:
            break
        }
    }
}

private struct ChatCompletionChunk: Encodable {
    var id: String
    var created: Int
    var model: String
    var choices: [Choice]
    /// Absent unless the client asked for usage; then `null` on every chunk but the last.
    var usage: Usage??

    struct Choice: Encodable {
        var delta: Delta
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(0, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("chat.completion.chunk", forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        try container.encode(choices, forKey: .choices)
        if let usage { try container.encode(usage, forKey: .usage) }
    }
}

private struct Embedding: Encodable {
    var index: Int
    var embedding: Vector

    enum Vector: Encodable {
        case floats([Float])
        case base64(String)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .floats(let floats): try container.encode(floats)
            case .base64(let text): try container.encode(text)
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case object, index, embedding
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("embedding", forKey: .object)
        try container.encode(index, forKey: .index)
        try container.encode(embedding, forKey: .embedding)
    }
}

private struct EmbeddingsUsage: Encodable {
    var promptTokens: Int
    var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case totalTokens = "total_tokens"
    }
}

private struct EmbeddingList: Encodable {
    let object = "list"
    var data: [Embedding]
    var model: String
    var usage: EmbeddingsUsage
}

private struct ModelList: Encodable {
    let object = "list"
    var data: [Model]

    struct Model: Encodable {
        var id: String
        let object = "model"
        let created = 0
        let ownedBy = "cairn-mock"

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }
}

private struct ErrorBody: Encodable {
    var error: Detail

    struct Detail: Encodable {
        var message: String
        var type: String
        var code: String?

        enum CodingKeys: String, CodingKey {
            case message, type, param, code
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encodeNil(forKey: .param)
            try container.encode(code, forKey: .code)
        }
    }
}
