import CairnCore
import Foundation

/// Tokens a call consumed, as the provider reported them.
public struct TokenUsage: Codable, Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try container.decode(Int.self, forKey: .promptTokens)
        completionTokens = try container.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(promptTokens, forKey: .promptTokens)
        try container.encode(completionTokens, forKey: .completionTokens)
        try container.encode(totalTokens, forKey: .totalTokens)
    }
}

/// Why generation stopped, in OpenAI's words.
public enum FinishReason: String, Codable, Sendable {
    case stop
    case length
    case toolCalls = "tool_calls"
    case contentFilter = "content_filter"
}

/// How the gateway served a call: which deployment answered, after how many attempts, whether
/// the cache did, and which structured-output attempt passed validation. Sent as the `cairn`
/// member of responses (clients that do not know it ignore it) and as `x-cairn-*` headers.
public struct GatewayReceipt: Codable, Sendable, Equatable {
    /// The deployment that produced the reply (for a cache hit, the one that produced it first).
    public var deployment: String
    /// Upstream attempts made, across retries and fallbacks; 0 for a cache hit.
    public var attempts: Int
    public var cacheHit: Bool
    /// For structured output: the ask (1 = first) whose reply passed the schema.
    public var structuredOutputAttempt: Int?
    /// What the caller was charged for the reply, in nanodollars, across every ask; absent on a
    /// stream, whose cost is known only once it has ended.
    public var cost: USD?

    public init(deployment: String, attempts: Int, cacheHit: Bool, structuredOutputAttempt: Int? = nil, cost: USD? = nil) {
        self.deployment = deployment
        self.attempts = attempts
        self.cacheHit = cacheHit
        self.structuredOutputAttempt = structuredOutputAttempt
        self.cost = cost
    }

    enum CodingKeys: String, CodingKey {
        case deployment, attempts
        case cost = "cost_nanodollars"
        case cacheHit = "cache_hit"
        case structuredOutputAttempt = "structured_output_attempt"
    }
}

/// A finished chat completion, in the OpenAI shape.
public struct ChatCompletion: Codable, Sendable, Equatable {
    public struct Choice: Codable, Sendable, Equatable {
        public var index: Int
        public var message: ChatMessage
        public var finishReason: FinishReason?

        public init(index: Int = 0, message: ChatMessage, finishReason: FinishReason?) {
            self.index = index
            self.message = message
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }

    public var id: String
    public var object: String = "chat.completion"
    /// Seconds since 1970, as OpenAI sends it.
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: TokenUsage?
    public var cairn: GatewayReceipt?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: TokenUsage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    /// The first choice's message: the gateway asks for one choice only.
    public var message: ChatMessage? { choices.first?.message }
}

/// One server-sent event of a streamed completion, in the OpenAI shape.
public struct ChatCompletionChunk: Codable, Sendable, Equatable {
    public struct Delta: Codable, Sendable, Equatable {
        public var role: ChatMessage.Role?
        public var content: String?
        public var toolCalls: [ToolCallDelta]?

        public init(role: ChatMessage.Role? = nil, content: String? = nil, toolCalls: [ToolCallDelta]? = nil) {
            self.role = role
            self.content = content
            self.toolCalls = toolCalls
        }

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
        }

        /// Whether the delta carries anything a client shows: text or part of a tool call.
        public var carriesOutput: Bool { !(content ?? "").isEmpty || !(toolCalls ?? []).isEmpty }
    }

    /// A piece of a tool call: the first piece of each call has its id and name, later pieces
    /// append to its arguments. `index` says which call of the turn the piece belongs to.
    public struct ToolCallDelta: Codable, Sendable, Equatable {
        public struct Function: Codable, Sendable, Equatable {
            public var name: String?
            public var arguments: String?

            public init(name: String? = nil, arguments: String? = nil) {
                self.name = name
                self.arguments = arguments
            }
        }

        public var index: Int
        public var id: String?
        public var type: String?
        public var function: Function?

        public init(index: Int, id: String? = nil, name: String? = nil, arguments: String? = nil) {
            self.index = index
            self.id = id
            self.type = id == nil ? nil : "function"
            self.function = Function(name: name, arguments: arguments)
        }
    }

    public struct Choice: Codable, Sendable, Equatable {
        public var index: Int
        public var delta: Delta
        public var finishReason: FinishReason?

        public init(index: Int = 0, delta: Delta, finishReason: FinishReason? = nil) {
            self.index = index
            self.delta = delta
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }
    }

    public var id: String
    public var object: String = "chat.completion.chunk"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: TokenUsage?
    public var cairn: GatewayReceipt?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: TokenUsage? = nil) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}
