import CairnCore
import Foundation

/// A chat in the shape Anthropic's Messages API and Bedrock's Converse API share: the system
/// prompt apart, then turns that alternate between user and assistant, each a list of content
/// blocks, with tool calls and tool results as blocks of their own.
///
/// Both dialects refuse two turns of one role in a row, so consecutive messages of a role are
/// merged into one turn; OpenAI's separate `tool` messages become `toolResult` blocks of one user
/// turn, ahead of any text in it, as Anthropic requires.
struct BlockConversation {
    enum Role {
        case user
        case assistant
    }

    enum Block: Equatable {
        case text(String)
        case toolUse(id: String, name: String, input: JSONValue)
        /// `text` may be empty: the tool returned nothing.
        case toolResult(toolUseID: String, text: String)

        var isToolResult: Bool {
            if case .toolResult = self { true } else { false }
        }
    }

    struct Turn {
        var role: Role
        var blocks: [Block]
    }

    /// System and developer messages joined in order, with the JSON-mode instruction when the
    /// request asks for `json_object`; `nil` when there is nothing to say.
    var system: String?
    var turns: [Turn]

    /// What the system prompt gains for `response_format: json_object`: neither dialect has a
    /// JSON mode, and a JSON object is all the gateway's check asks for.
    static let jsonObjectInstruction = "Reply with one JSON object and nothing else: no prose before or after it, no Markdown code fence."

    /// - Throws: `.status(400)` when an assistant tool call's arguments are not a JSON object.
    ///   Both dialects need the arguments as an object; text that does not parse would be
    ///   refused by every retry and every deployment alike, so the attempt fails at once instead
    ///   of sending a guess such as `{}` that would misreport what the model called.
    init(_ request: ChatRequest, deployment: String) throws(UpstreamFailure) {
        var systemParts: [String] = []
        var turns: [Turn] = []
        for message in request.messages {
            let role: Role
            var blocks: [Block] = []
            switch message.role {
            case .system, .developer:
                if let content = message.content, !content.isEmpty { systemParts.append(content) }
                continue
            case .user:
                role = .user
                blocks = Self.textBlocks(message.content)
            case .tool:
                role = .user
                // Decoding guarantees a tool message names the call it answers.
                blocks = [.toolResult(toolUseID: message.toolCallID ?? "", text: message.content ?? "")]
            case .assistant:
                role = .assistant
                blocks = Self.textBlocks(message.content)
                for call in message.toolCalls ?? [] {
                    blocks.append(.toolUse(id: call.id, name: call.function.name, input: try Self.input(of: call, deployment: deployment)))
                }
            }
            // Both dialects refuse empty turns and empty text blocks; a message with nothing in
            // it carries nothing to lose.
            guard !blocks.isEmpty else { continue }
            if let last = turns.indices.last, turns[last].role == role {
                turns[last].blocks = Self.merged(turns[last].blocks, blocks)
            } else {
                turns.append(Turn(role: role, blocks: blocks))
            }
        }
        if request.responseFormat == .jsonObject { systemParts.append(Self.jsonObjectInstruction) }
        self.system = systemParts.isEmpty ? nil : systemParts.joined(separator: "\n\n")
        self.turns = turns
    }

    private static func textBlocks(_ content: String?) -> [Block] {
        guard let content, !content.isEmpty else { return [] }
        return [.text(content)]
    }

    /// `existing` followed by `added`, except that tool results go ahead of every other block:
    /// a tool result answers the assistant turn just before, and Anthropic wants the results
    /// first in the user turn.
    private static func merged(_ existing: [Block], _ added: [Block]) -> [Block] {
        let all = existing + added
        return all.filter(\.isToolResult) + all.filter { !$0.isToolResult }
    }

    /// The call's arguments as the JSON object both dialects want; empty arguments (some clients
    /// send `""` for a function without parameters) count as `{}`.
    private static func input(of call: ToolCall, deployment: String) throws(UpstreamFailure) -> JSONValue {
        let arguments = call.function.arguments
        if arguments.allSatisfy(\.isWhitespace) { return .object([:]) }
        guard let object = JSONValue.object(from: Data(arguments.utf8)) else {
            throw UpstreamFailure(
                .status(400),
                deployment: deployment,
                detail: "the arguments of tool call \(call.id) to \(call.function.name) are not a JSON object"
            )
        }
        return .object(object)
    }
}

/// The tools a request offers and how the model must use them, in terms both block dialects
/// can express, with structured output folded in.
///
/// Neither dialect has a JSON-Schema response format, so `json_schema` becomes a tool whose input
/// schema is the response schema (``structuredReplyTool``), and the model is made to call it;
/// the call's input is then handed back as the reply's text, where the gateway validates it.
struct ToolPlan {
    struct Tool {
        var name: String
        var description: String?
        var inputSchema: JSONValue
    }

    enum Choice {
        case auto
        case none
        /// Some tool, the model's pick.
        case any
        case tool(String)
    }

    /// The name of the tool that carries a structured reply.
    static let structuredReplyTool = "json_response"

    var tools: [Tool]
    /// `nil` leaves the dialect's default (auto, when there are tools).
    var choice: Choice?
    /// Whether the reply comes as a call to ``structuredReplyTool``.
    var structuredReply: Bool
    /// The request's `parallel_tool_calls: false`.
    var oneCallAtMost: Bool

    /// - Throws: `.status(400)` when the request has a tool of its own named ``structuredReplyTool``
    ///   and asks for a schema-shaped reply: the two could not be told apart.
    init(_ request: ChatRequest, deployment: String) throws(UpstreamFailure) {
        tools = (request.tools ?? []).map { tool in
            Tool(name: tool.function.name, description: tool.function.description, inputSchema: tool.function.parameters ?? Self.emptySchema)
        }
        oneCallAtMost = request.parallelToolCalls == false
        guard case .jsonSchema(let format)? = request.responseFormat else {
            structuredReply = false
            choice = request.toolChoice.map(Self.choice)
            return
        }
        guard !tools.contains(where: { $0.name == Self.structuredReplyTool }) else {
            throw UpstreamFailure(
                .status(400),
                deployment: deployment,
                detail: "a tool is named \(Self.structuredReplyTool), which this provider's structured output needs for itself"
            )
        }
        structuredReply = true
        let callerTools = tools
        tools.append(
            Tool(
                name: Self.structuredReplyTool,
                description: format.description ?? "Give your final answer by calling this tool; its input is the answer, as JSON.",
                inputSchema: format.schema
            )
        )
        switch request.toolChoice {
        case .function(let name):
            // The caller forces one of its own tools: the reply is that call, not the JSON.
            choice = .tool(name)
        case .none?:
            choice = .tool(Self.structuredReplyTool)
        case nil, .auto?, .required?:
            // With tools of its own the model may still call them; otherwise its answer must be
            // the structured reply.
            choice = callerTools.isEmpty ? .tool(Self.structuredReplyTool) : .any
        }
    }

    private static func choice(_ choice: ToolChoice) -> Choice {
        switch choice {
        case .none: .none
        case .auto: .auto
        case .required: .any
        case .function(let name): .tool(name)
        }
    }

    /// Both dialects want an object schema; a function declared without parameters takes none.
    private static let emptySchema = JSONValue.object(["type": .string("object"), "properties": .object([:])])
}
