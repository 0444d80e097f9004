import CairnCore
import Foundation

/// A reply in content blocks (Anthropic Messages, Bedrock Converse), read back into the OpenAI
/// shape.
enum BlockReply {
    /// The assistant message the blocks make, and whether it calls any of the caller's tools.
    ///
    /// Text blocks are concatenated; tool calls keep their order. In a structured reply (see
    /// ``ToolPlan``) the structured-reply tool's input becomes the message's text, and any prose
    /// beside it is dropped, since the caller asked for JSON alone. (Forced to call a tool, the
    /// models write no prose anyway; a stream passes on whatever text comes, unable to take it back.)
    static func message(_ blocks: [BlockConversation.Block], structuredReply: Bool) -> (message: ChatMessage, callsTools: Bool) {
        var text = ""
        var structuredText: String?
        var calls: [ToolCall] = []
        for block in blocks {
            switch block {
            case .text(let part):
                text += part
            case .toolUse(let id, let name, let input):
                if structuredReply, name == ToolPlan.structuredReplyTool {
                    structuredText = argumentsText(input)
                } else {
                    calls.append(ToolCall(id: id, function: .init(name: name, arguments: argumentsText(input))))
                }
            case .toolResult:
                continue  // Only a caller sends tool results.
            }
        }
        let content = structuredText ?? text
        // OpenAI's shape: `content` is null on a turn that only calls tools.
        let message = ChatMessage(
            role: .assistant,
            content: content.isEmpty && !calls.isEmpty ? nil : content,
            toolCalls: calls.isEmpty ? nil : calls
        )
        return (message, !calls.isEmpty)
    }

    /// The dialects' stop reasons in OpenAI's words; both use Anthropic's names for the common
    /// ones. `nil` for a reason neither documents.
    ///
    /// `tool_use` that only delivered a structured reply is a normal stop to the caller, who
    /// never sees the tool.
    static func finishReason(_ stopReason: String?, callsTools: Bool) -> FinishReason? {
        switch stopReason {
        case "end_turn", "stop_sequence", "pause_turn": .stop
        case "max_tokens", "model_context_window_exceeded": .length
        case "tool_use": callsTools ? .toolCalls : .stop
        case "refusal", "guardrail_intervened", "content_filtered": .contentFilter
        default: nil
        }
    }

    /// A tool input as OpenAI's `arguments` text. Keys are sorted so the same input always reads
    /// the same (the response cache and tests compare text).
    static func argumentsText(_ input: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A JSONValue always encodes; the fallback is the empty object it would be if it did not.
        return (try? encoder.encode(input)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// What the Anthropic and Converse stream translators share: the reply's identity, the chunks
/// they emit, and which of the upstream's content blocks is which tool call.
///
/// OpenAI numbers a turn's tool calls from 0; the block dialects number all content blocks,
/// text included. A tool call's `index` is therefore its ordinal among the tool blocks.
struct BlockReplyStream: Sendable {
    private enum ToolBlock {
        case call(index: Int)
        case structuredReply
    }

    var id: String
    var model: String
    let created: Int
    let deployment: String
    let structuredReply: Bool
    private var toolBlocks: [Int: ToolBlock] = [:]
    private var toolCalls = 0

    init(id: String, model: String, deployment: String, structuredReply: Bool) {
        self.id = id
        self.model = model
        self.created = Int(Date().timeIntervalSince1970)
        self.deployment = deployment
        self.structuredReply = structuredReply
    }

    /// The first chunk, which names the role as OpenAI's first chunk does.
    func opening() -> ChatCompletionChunk {
        chunk(.init(role: .assistant, content: ""))
    }

    /// A piece of text; `nil` when empty.
    func text(_ text: String) -> ChatCompletionChunk? {
        guard !text.isEmpty else { return nil }
        return chunk(.init(content: text))
    }

    /// The start of a tool-use block: the call's id and name, with empty arguments so far.
    mutating func toolUseStarted(block: Int, id: String, name: String) -> ChatCompletionChunk? {
        if structuredReply, name == ToolPlan.structuredReplyTool {
            toolBlocks[block] = .structuredReply
            return nil
        }
        let index = toolCalls
        toolCalls += 1
        toolBlocks[block] = .call(index: index)
        return chunk(.init(toolCalls: [.init(index: index, id: id, name: name, arguments: "")]))
    }

    /// A fragment of a tool call's input JSON, for the block it belongs to.
    ///
    /// - Throws: `.malformedResponse` when the block never started as a tool use: the fragment
    ///   cannot be placed, and dropping it would corrupt the call's arguments.
    func toolInput(block: Int, _ fragment: String) throws(UpstreamFailure) -> ChatCompletionChunk? {
        guard let kind = toolBlocks[block] else {
            throw UpstreamFailure(.malformedResponse, deployment: deployment, detail: "tool input for content block \(block), which is no tool use")
        }
        guard !fragment.isEmpty else { return nil }
        switch kind {
        case .call(let index): return chunk(.init(toolCalls: [.init(index: index, arguments: fragment)]))
        case .structuredReply: return chunk(.init(content: fragment))
        }
    }

    /// The chunk that ends the choice, with the finish reason.
    func finish(stopReason: String?) -> ChatCompletionChunk {
        chunk(.init(), finishReason: BlockReply.finishReason(stopReason, callsTools: toolCalls > 0))
    }

    /// The usage report: no choices, as OpenAI sends it with `include_usage`.
    func usage(_ usage: TokenUsage) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [], usage: usage)
    }

    private func chunk(_ delta: ChatCompletionChunk.Delta, finishReason: FinishReason? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: delta, finishReason: finishReason)])
    }
}
