import CairnCore
import Foundation

/// The body of `POST /model/{modelId}/converse` and `/converse-stream`.
struct BedrockConverseRequest: Encodable {
    struct Message: Encodable {
        let role: String
        let content: [Content]
    }

    /// One content block: a union written as an object with one member named for its case.
    struct Content: Encodable {
        let block: BlockConversation.Block

        /// Converse refuses empty text blocks and a tool result needs content, so an empty
        /// tool output is sent as this.
        static let emptyToolResult = "(no output)"

        private struct ToolUse: Encodable {
            let toolUseId: String
            let name: String
            let input: JSONValue
        }

        private struct ToolResult: Encodable {
            struct Text: Encodable { let text: String }
            let toolUseId: String
            let content: [Text]
        }

        private enum CodingKeys: String, CodingKey {
            case text, toolUse, toolResult
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch block {
            case .text(let text):
                try container.encode(text, forKey: .text)
            case .toolUse(let id, let name, let input):
                try container.encode(ToolUse(toolUseId: id, name: name, input: input), forKey: .toolUse)
            case .toolResult(let toolUseID, let text):
                let result = ToolResult(toolUseId: toolUseID, content: [.init(text: text.isEmpty ? Self.emptyToolResult : text)])
                try container.encode(result, forKey: .toolResult)
            }
        }
    }

    struct SystemText: Encodable {
        let text: String
    }

    struct InferenceConfiguration: Encodable {
        let maxTokens: Int
        let temperature: Double?
        let topP: Double?
        let stopSequences: [String]?
    }

    struct ToolConfiguration: Encodable {
        struct Tool: Encodable {
            struct Specification: Encodable {
                struct InputSchema: Encodable { let json: JSONValue }
                let name: String
                let description: String?
                let inputSchema: InputSchema
            }
            let toolSpec: Specification
        }

        /// `{"auto": {}}`, `{"any": {}}` or `{"tool": {"name": …}}`.
        enum ToolChoice: Encodable {
            case auto
            case any
            case tool(String)

            private enum CodingKeys: String, CodingKey {
                case auto, any, tool
            }

            private struct Named: Encodable { let name: String }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                switch self {
                case .auto: try container.encode([String: String](), forKey: .auto)
                case .any: try container.encode([String: String](), forKey: .any)
                case .tool(let name): try container.encode(Named(name: name), forKey: .tool)
                }
            }
        }

        let tools: [Tool]
        let toolChoice: ToolChoice?
    }

    let messages: [Message]
    let system: [SystemText]?
    let inferenceConfig: InferenceConfiguration
    let toolConfig: ToolConfiguration?
    /// Not sent: whether the reply comes as a call to the structured-reply tool, to be read back as text.
    let structuredReply: Bool

    enum CodingKeys: String, CodingKey {
        case messages, system, inferenceConfig, toolConfig
    }

    /// Translates `request` for `deployment`.
    ///
    /// `seed`, `presence_penalty`, `frequency_penalty`, `user` and `parallel_tool_calls` have no
    /// Converse counterpart and are not sent. Converse has no `none` tool choice: the tools are
    /// left out instead, unless the conversation already holds tool calls, which Converse refuses
    /// without a tool configuration; then they are sent with the model's default (auto) choice.
    ///
    /// - Throws: `.status(400)` for a request no retry could fix (see ``BlockConversation`` and ``ToolPlan``).
    init(_ request: ChatRequest, for deployment: ModelDeployment) throws(UpstreamFailure) {
        let conversation = try BlockConversation(request, deployment: deployment.name)
        let plan = try ToolPlan(request, deployment: deployment.name)
        messages = conversation.turns.map { turn in
            Message(role: turn.role == .user ? "user" : "assistant", content: turn.blocks.map(Content.init))
        }
        system = conversation.system.map { [SystemText(text: $0)] }
        inferenceConfig = InferenceConfiguration(
            maxTokens: request.maxTokens ?? deployment.defaultMaxOutputTokens,
            temperature: request.temperature,
            topP: request.topP,
            stopSequences: request.stop.flatMap { $0.isEmpty ? nil : $0 }
        )
        toolConfig = Self.toolConfiguration(plan, conversation: conversation)
        structuredReply = plan.structuredReply
    }

    private static func toolConfiguration(_ plan: ToolPlan, conversation: BlockConversation) -> ToolConfiguration? {
        guard !plan.tools.isEmpty else { return nil }
        let choice: ToolConfiguration.ToolChoice?
        switch plan.choice {
        case nil:
            choice = nil
        case .none?:
            let holdsToolBlocks = conversation.turns.contains { turn in
                turn.blocks.contains { if case .text = $0 { false } else { true } }
            }
            guard holdsToolBlocks else { return nil }
            choice = nil
        case .auto?: choice = .auto
        case .any?: choice = .any
        case .tool(let name)?: choice = .tool(name)
        }
        let tools = plan.tools.map { tool in
            ToolConfiguration.Tool(toolSpec: .init(name: tool.name, description: tool.description, inputSchema: .init(json: tool.inputSchema)))
        }
        return ToolConfiguration(tools: tools, toolChoice: choice)
    }
}

/// A content block of a reply.
enum BedrockContentBlock: Decodable {
    case text(String)
    case toolUse(id: String, name: String, input: JSONValue)
    /// Reasoning, images, citations: nothing the OpenAI shape carries.
    case other

    private struct ToolUse: Decodable {
        let toolUseId: String
        let name: String
        let input: JSONValue?
    }

    private enum CodingKeys: String, CodingKey {
        case text, toolUse
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try container.decodeIfPresent(String.self, forKey: .text) {
            self = .text(text)
        } else if let toolUse = try container.decodeIfPresent(ToolUse.self, forKey: .toolUse) {
            self = .toolUse(id: toolUse.toolUseId, name: toolUse.name, input: toolUse.input ?? .object([:]))
        } else {
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

/// Token counts as Converse reports them; cache reads and writes are prompt tokens too.
struct BedrockUsage: Decodable {
    let inputTokens: Int
    let outputTokens: Int
    let cacheReadInputTokens: Int?
    let cacheWriteInputTokens: Int?

    var tokenUsage: TokenUsage {
        TokenUsage(promptTokens: inputTokens + (cacheReadInputTokens ?? 0) + (cacheWriteInputTokens ?? 0), completionTokens: outputTokens)
    }
}

/// The answer to `converse`.
struct BedrockConverseResponse: Decodable {
    struct Output: Decodable {
        struct Message: Decodable { let content: [BedrockContentBlock] }
        let message: Message
    }

    let output: Output
    let stopReason: String?
    let usage: BedrockUsage?

    /// Converse gives a reply no id, so the completion gets one of its own.
    func completion(deployment: ModelDeployment, structuredReply: Bool) -> ChatCompletion {
        let (message, callsTools) = BlockReply.message(output.message.content.compactMap(\.block), structuredReply: structuredReply)
        return ChatCompletion(
            id: BedrockConverseResponse.newCompletionID(),
            created: Int(Date().timeIntervalSince1970),
            model: deployment.model,
            choices: [.init(message: message, finishReason: BlockReply.finishReason(stopReason, callsTools: callsTools))],
            usage: usage?.tokenUsage
        )
    }

    static func newCompletionID() -> String { "chatcmpl-\(UUID().uuidString.lowercased())" }
}

/// The payloads of ConverseStream's events, named by each message's `:event-type`.
enum BedrockStreamEvent {
    struct ContentBlockStart: Decodable {
        struct Start: Decodable {
            struct ToolUse: Decodable {
                let toolUseId: String
                let name: String
            }
            let toolUse: ToolUse?
        }
        let contentBlockIndex: Int
        let start: Start
    }

    struct ContentBlockDelta: Decodable {
        struct Delta: Decodable {
            struct ToolUse: Decodable { let input: String }
            let text: String?
            let toolUse: ToolUse?
        }
        let contentBlockIndex: Int
        let delta: Delta
    }

    struct MessageStop: Decodable {
        let stopReason: String?
    }

    struct Metadata: Decodable {
        let usage: BedrockUsage?
    }

    /// The payload of an `exception` message.
    struct Exception: Decodable {
        let message: String?
    }
}
