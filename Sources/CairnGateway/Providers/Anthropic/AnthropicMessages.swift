import CairnCore
import Foundation

/// The body of `POST /v1/messages`.
struct AnthropicMessagesRequest: Encodable {
    struct Message: Encodable {
        let role: String
        let content: [Content]
    }

    /// One content block of a message.
    struct Content: Encodable {
        let block: BlockConversation.Block

        private enum CodingKeys: String, CodingKey {
            case type, text, id, name, input, content
            case toolUseID = "tool_use_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch block {
            case .text(let text):
                try container.encode("text", forKey: .type)
                try container.encode(text, forKey: .text)
            case .toolUse(let id, let name, let input):
                try container.encode("tool_use", forKey: .type)
                try container.encode(id, forKey: .id)
                try container.encode(name, forKey: .name)
                try container.encode(input, forKey: .input)
            case .toolResult(let toolUseID, let text):
                try container.encode("tool_result", forKey: .type)
                try container.encode(toolUseID, forKey: .toolUseID)
                // `content` is optional, and an empty text is refused: an empty result goes without.
                if !text.isEmpty { try container.encode(text, forKey: .content) }
            }
        }
    }

    struct Tool: Encodable {
        let name: String
        let description: String?
        let inputSchema: JSONValue

        enum CodingKeys: String, CodingKey {
            case name, description
            case inputSchema = "input_schema"
        }
    }

    struct ToolChoice: Encodable {
        let type: String
        let name: String?
        let disableParallelToolUse: Bool?

        enum CodingKeys: String, CodingKey {
            case type, name
            case disableParallelToolUse = "disable_parallel_tool_use"
        }
    }

    let model: String
    let maxTokens: Int
    let system: String?
    let messages: [Message]
    let tools: [Tool]?
    let toolChoice: ToolChoice?
    let stopSequences: [String]?
    let temperature: Double?
    let topP: Double?
    var stream: Bool?
    /// Not sent: whether the reply comes as a call to the structured-reply tool, to be read back as text.
    let structuredReply: Bool

    enum CodingKeys: String, CodingKey {
        case model, system, messages, tools, temperature, stream
        case maxTokens = "max_tokens"
        case toolChoice = "tool_choice"
        case stopSequences = "stop_sequences"
        case topP = "top_p"
    }

    /// Anthropic's temperature runs from 0 to 1, OpenAI's to 2.
    static let maximumTemperature = 1.0

    /// Translates `request` for `deployment`.
    ///
    /// `seed`, `presence_penalty`, `frequency_penalty` and `user` have no Messages counterpart
    /// and are not sent (OpenAI itself treats the seed and the penalties as best-effort hints).
    /// A temperature above 1 is sent as 1, the closest Anthropic accepts.
    ///
    /// - Throws: `.status(400)` for a request no retry could fix (see ``BlockConversation`` and ``ToolPlan``).
    init(_ request: ChatRequest, for deployment: ModelDeployment) throws(UpstreamFailure) {
        let conversation = try BlockConversation(request, deployment: deployment.name)
        let plan = try ToolPlan(request, deployment: deployment.name)
        model = deployment.model
        maxTokens = request.maxTokens ?? deployment.defaultMaxOutputTokens
        system = conversation.system
        messages = conversation.turns.map { turn in
            Message(role: turn.role == .user ? "user" : "assistant", content: turn.blocks.map(Content.init))
        }
        tools = plan.tools.isEmpty ? nil : plan.tools.map { Tool(name: $0.name, description: $0.description, inputSchema: $0.inputSchema) }
        toolChoice = tools == nil ? nil : Self.toolChoice(plan)
        stopSequences = request.stop.flatMap { $0.isEmpty ? nil : $0 }
        temperature = request.temperature.map { min($0, Self.maximumTemperature) }
        topP = request.topP
        structuredReply = plan.structuredReply
    }

    private static func toolChoice(_ plan: ToolPlan) -> ToolChoice? {
        // `none` takes no options; the others may forbid parallel calls.
        let disableParallel: Bool? = plan.oneCallAtMost ? true : nil
        switch plan.choice {
        case nil: return disableParallel == nil ? nil : ToolChoice(type: "auto", name: nil, disableParallelToolUse: disableParallel)
        case .none?: return ToolChoice(type: "none", name: nil, disableParallelToolUse: nil)
        case .auto?: return ToolChoice(type: "auto", name: nil, disableParallelToolUse: disableParallel)
        case .any?: return ToolChoice(type: "any", name: nil, disableParallelToolUse: disableParallel)
        case .tool(let name)?: return ToolChoice(type: "tool", name: name, disableParallelToolUse: disableParallel)
        }
    }
}

/// A content block of a reply, whole or as a stream's `content_block_start`.
enum AnthropicContentBlock: Decodable {
    case text(String)
    case toolUse(id: String, name: String, input: JSONValue)
    /// Thinking, redacted thinking and server-tool blocks: nothing the OpenAI shape carries.
    case other

    private enum CodingKeys: String, CodingKey {
        case type, text, id, name, input
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "text":
            self = .text(try container.decode(String.self, forKey: .text))
        case "tool_use":
            self = .toolUse(
                id: try container.decode(String.self, forKey: .id),
                name: try container.decode(String.self, forKey: .name),
                input: try container.decodeIfPresent(JSONValue.self, forKey: .input) ?? .object([:])
            )
        default:
            self = .other
        }
    }

    /// The block in the dialect-neutral form, `nil` for one the OpenAI shape cannot carry.
    var block: BlockConversation.Block? {
        switch self {
        case .text(let text): .text(text)
        case .toolUse(let id, let name, let input): .toolUse(id: id, name: name, input: input)
        case .other: nil
        }
    }
}

/// Token counts as Anthropic reports them. Cache reads and writes are counted apart from
/// `input_tokens` but are prompt tokens all the same.
struct AnthropicUsage: Decodable {
    var inputTokens: Int?
    var outputTokens: Int?
    var cacheCreationInputTokens: Int?
    var cacheReadInputTokens: Int?

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheCreationInputTokens = "cache_creation_input_tokens"
        case cacheReadInputTokens = "cache_read_input_tokens"
    }

    /// Takes the counts `later` reports; a stream's later counts are running totals.
    mutating func update(with later: AnthropicUsage?) {
        guard let later else { return }
        inputTokens = later.inputTokens ?? inputTokens
        outputTokens = later.outputTokens ?? outputTokens
        cacheCreationInputTokens = later.cacheCreationInputTokens ?? cacheCreationInputTokens
        cacheReadInputTokens = later.cacheReadInputTokens ?? cacheReadInputTokens
    }

    var tokenUsage: TokenUsage {
        TokenUsage(
            promptTokens: (inputTokens ?? 0) + (cacheCreationInputTokens ?? 0) + (cacheReadInputTokens ?? 0),
            completionTokens: outputTokens ?? 0
        )
    }
}

/// The answer to a non-streamed `POST /v1/messages`.
struct AnthropicMessage: Decodable {
    let id: String
    let model: String?
    let content: [AnthropicContentBlock]
    let stopReason: String?
    let usage: AnthropicUsage?

    enum CodingKeys: String, CodingKey {
        case id, model, content, usage
        case stopReason = "stop_reason"
    }

    func completion(deployment: ModelDeployment, structuredReply: Bool) -> ChatCompletion {
        let (message, callsTools) = BlockReply.message(content.compactMap(\.block), structuredReply: structuredReply)
        return ChatCompletion(
            id: id,
            created: Int(Date().timeIntervalSince1970),
            model: model ?? deployment.model,
            choices: [.init(message: message, finishReason: BlockReply.finishReason(stopReason, callsTools: callsTools))],
            usage: usage?.tokenUsage
        )
    }
}

/// One server-sent event of a streamed reply; which members are set depends on `type`.
struct AnthropicStreamEvent: Decodable {
    struct MessageStart: Decodable {
        let id: String
        let model: String?
        let usage: AnthropicUsage?
    }

    /// A `content_block_delta`'s or a `message_delta`'s change.
    struct Delta: Decodable {
        let type: String?
        let text: String?
        let partialJSON: String?
        let stopReason: String?

        enum CodingKeys: String, CodingKey {
            case type, text
            case partialJSON = "partial_json"
            case stopReason = "stop_reason"
        }
    }

    struct ErrorBody: Decodable {
        let type: String
        let message: String?
    }

    let type: String
    let message: MessageStart?
    let index: Int?
    let contentBlock: AnthropicContentBlock?
    let delta: Delta?
    let usage: AnthropicUsage?
    let error: ErrorBody?

    enum CodingKeys: String, CodingKey {
        case type, message, index, delta, usage, error
        case contentBlock = "content_block"
    }
}
