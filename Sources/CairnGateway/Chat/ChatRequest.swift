public import CairnCore
import Foundation

/// A chat completion request, in the OpenAI Chat Completions shape.
///
/// The OpenAI shape is the gateway's lingua franca: the front door accepts it as sent, and each
/// provider translates it to its own dialect (Anthropic Messages, Bedrock Converse) and back.
/// Only fields every provider can honour, or that the gateway itself enforces, are modelled;
/// a field that would change the answer but cannot be honoured (`n` above 1, `logprobs`,
/// audio) is refused rather than silently dropped.
public struct ChatRequest: Codable, Sendable, Equatable {
    /// The model alias the caller asked for; the router resolves it to deployments.
    public var model: String
    public var messages: [ChatMessage]
    public var tools: [ToolDefinition]?
    public var toolChoice: ToolChoice?
    public var responseFormat: ResponseFormat?
    /// Upper bound on generated tokens. The gateway always sends one upstream, because the
    /// budget reservation's worst case is computed from it.
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String]?
    public var seed: Int?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var parallelToolCalls: Bool?
    public var user: String?

    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
    }

    public struct StreamOptions: Codable, Sendable, Equatable {
        public var includeUsage: Bool?

        public init(includeUsage: Bool?) { self.includeUsage = includeUsage }

        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    /// Whether the caller asked for server-sent events.
    public var isStreaming: Bool { stream == true }

    enum CodingKeys: String, CodingKey {
        case model, messages, tools, temperature, stop, seed, stream, user, n, logprobs, modalities, audio
        case toolChoice = "tool_choice"
        case responseFormat = "response_format"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case topP = "top_p"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case streamOptions = "stream_options"
        case parallelToolCalls = "parallel_tool_calls"
        case topLogprobs = "top_logprobs"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        messages = try container.decode([ChatMessage].self, forKey: .messages)
        tools = try container.decodeIfPresent([ToolDefinition].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(ToolChoice.self, forKey: .toolChoice)
        responseFormat = try container.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        // `max_completion_tokens` replaced `max_tokens` in OpenAI's API; SDKs send either.
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxCompletionTokens) ?? container.decodeIfPresent(Int.self, forKey: .maxTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        if let single = try? container.decodeIfPresent(String.self, forKey: .stop) {
            stop = [single]
        } else {
            stop = try container.decodeIfPresent([String].self, forKey: .stop)
        }
        seed = try container.decodeIfPresent(Int.self, forKey: .seed)
        presencePenalty = try container.decodeIfPresent(Double.self, forKey: .presencePenalty)
        frequencyPenalty = try container.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        parallelToolCalls = try container.decodeIfPresent(Bool.self, forKey: .parallelToolCalls)
        user = try container.decodeIfPresent(String.self, forKey: .user)

        if let n = try container.decodeIfPresent(Int.self, forKey: .n), n != 1 {
            throw Self.unsupported(.n, "Only one choice per request is supported; leave n unset or 1.", in: container)
        }
        if try container.decodeIfPresent(Bool.self, forKey: .logprobs) == true || container.contains(.topLogprobs) {
            throw Self.unsupported(.logprobs, "Log probabilities are not supported through the gateway.", in: container)
        }
        if try container.contains(.audio) || (container.decodeIfPresent([String].self, forKey: .modalities) ?? []).contains(where: { $0 != "text" }) {
            throw Self.unsupported(.modalities, "Only text output is supported through the gateway.", in: container)
        }
    }

    private static func unsupported(_ key: CodingKeys, _ message: String, in container: KeyedDecodingContainer<CodingKeys>) -> DecodingError {
        DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: message)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(messages, forKey: .messages)
        try container.encodeIfPresent(tools, forKey: .tools)
        try container.encodeIfPresent(toolChoice, forKey: .toolChoice)
        try container.encodeIfPresent(responseFormat, forKey: .responseFormat)
        try container.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try container.encodeIfPresent(temperature, forKey: .temperature)
        try container.encodeIfPresent(topP, forKey: .topP)
        try container.encodeIfPresent(stop, forKey: .stop)
        try container.encodeIfPresent(seed, forKey: .seed)
        try container.encodeIfPresent(presencePenalty, forKey: .presencePenalty)
        try container.encodeIfPresent(frequencyPenalty, forKey: .frequencyPenalty)
        try container.encodeIfPresent(stream, forKey: .stream)
        try container.encodeIfPresent(streamOptions, forKey: .streamOptions)
        try container.encodeIfPresent(parallelToolCalls, forKey: .parallelToolCalls)
        try container.encodeIfPresent(user, forKey: .user)
    }
}

/// One message of a conversation.
public struct ChatMessage: Codable, Sendable, Equatable {
    public enum Role: String, Codable, Sendable {
        case system, developer, user, assistant, tool
    }

    public var role: Role
    /// Text; `nil` for an assistant message that only calls tools.
    public var content: String?
    public var name: String?
    /// Calls the assistant made, on an assistant message.
    public var toolCalls: [ToolCall]?
    /// The call a `tool` message answers.
    public var toolCallID: String?

    public init(role: Role, content: String?, toolCalls: [ToolCall]? = nil, toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    enum CodingKeys: String, CodingKey {
        case role, content, name
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    /// A part of an array-valued `content`. Only text parts are accepted: the providers behind
    /// the gateway are configured for text, and an image silently dropped would change the answer.
    private struct ContentPart: Decodable {
        let type: String
        let text: String?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(Role.self, forKey: .role)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        toolCalls = try container.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        toolCallID = try container.decodeIfPresent(String.self, forKey: .toolCallID)
        if let text = try? container.decodeIfPresent(String.self, forKey: .content) {
            content = text
        } else if let parts = try container.decodeIfPresent([ContentPart].self, forKey: .content) {
            guard parts.allSatisfy({ $0.type == "text" && $0.text != nil }) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .content,
                    in: container,
                    debugDescription: "Only text content parts are supported through the gateway."
                )
            }
            content = parts.compactMap(\.text).joined(separator: "\n")
        } else {
            content = nil
        }
        if role == .tool, toolCallID == nil {
            throw DecodingError.dataCorruptedError(
                forKey: .toolCallID,
                in: container,
                debugDescription: "A tool message needs the tool_call_id it answers."
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        // OpenAI requires `content` on every message, `null` on a tool-calling assistant turn.
        try container.encode(content, forKey: .content)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try container.encodeIfPresent(toolCallID, forKey: .toolCallID)
    }
}

/// A function the model may call, with its arguments described by a JSON Schema.
public struct ToolDefinition: Codable, Sendable, Equatable {
    public struct Function: Codable, Sendable, Equatable {
        public var name: String
        public var description: String?
        public var parameters: JSONValue?
        public var strict: Bool?

        public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
            self.name = name
            self.description = description
            self.parameters = parameters
        }
    }

    public var type: String = "function"
    public var function: Function

    public init(function: Function) { self.function = function }
}

/// A call the model made: the function's name and its arguments as JSON text.
public struct ToolCall: Codable, Sendable, Equatable {
    public struct Function: Codable, Sendable, Equatable {
        public var name: String
        /// JSON text, exactly as the model produced it (it may be invalid; callers validate).
        public var arguments: String

        public init(name: String, arguments: String) {
            self.name = name
            self.arguments = arguments
        }
    }

    public var id: String
    public var type: String = "function"
    public var function: Function

    public init(id: String, function: Function) {
        self.id = id
        self.function = function
    }
}

/// Whether and which tool the model must call.
public enum ToolChoice: Codable, Sendable, Equatable {
    case none
    case auto
    case required
    case function(String)

    private struct Named: Codable {
        struct Function: Codable { let name: String }
        var type = "function"
        let function: Function
    }

    public init(from decoder: any Decoder) throws {
        if let word = try? decoder.singleValueContainer().decode(String.self) {
            switch word {
            case "none": self = .none
            case "auto": self = .auto
            case "required": self = .required
            default:
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "tool_choice must be none, auto, required or a named function.")
                )
            }
        } else {
            self = .function(try Named(from: decoder).function.name)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .none: try container.encode("none")
        case .auto: try container.encode("auto")
        case .required: try container.encode("required")
        case .function(let name): try container.encode(Named(function: .init(name: name)))
        }
    }
}

/// The shape the reply must take.
public enum ResponseFormat: Codable, Sendable, Equatable {
    case text
    /// Any JSON object.
    case jsonObject
    /// JSON matching a schema, validated by the gateway whatever the provider promises.
    case jsonSchema(JSONSchemaFormat)

    public struct JSONSchemaFormat: Codable, Sendable, Equatable {
        public var name: String
        public var description: String?
        public var schema: JSONValue
        public var strict: Bool?

        public init(name: String, schema: JSONValue, strict: Bool? = nil) {
            self.name = name
            self.schema = schema
            self.strict = strict
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type
        case jsonSchema = "json_schema"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "text": self = .text
        case "json_object": self = .jsonObject
        case "json_schema": self = .jsonSchema(try container.decode(JSONSchemaFormat.self, forKey: .jsonSchema))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "response_format.type must be text, json_object or json_schema."
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text: try container.encode("text", forKey: .type)
        case .jsonObject: try container.encode("json_object", forKey: .type)
        case .jsonSchema(let format):
            try container.encode("json_schema", forKey: .type)
            try container.encode(format, forKey: .jsonSchema)
        }
    }
}
