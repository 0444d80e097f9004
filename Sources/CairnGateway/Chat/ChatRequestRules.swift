import CairnCore
import Foundation

/// What the gateway checks in a chat request before any model sees it. Decoding has already
/// checked the shape; these are the limits and combinations the types cannot express.
enum ChatRequestRules {
    static let maximumMessages = 2048
    static let maximumTools = 128
    static let maximumOutputTokens = 1_000_000

    static func check(_ request: ChatRequest) throws(CairnError) {
        guard !request.model.isEmpty, request.model.count <= 256 else {
            throw CairnError(.invalidInput, "model must name a model, in at most 256 characters.")
        }
        guard !request.messages.isEmpty, request.messages.count <= maximumMessages else {
            throw CairnError(.invalidInput, "messages must hold between 1 and \(maximumMessages) messages.")
        }
        if let maxTokens = request.maxTokens, !(1...maximumOutputTokens).contains(maxTokens) {
            throw CairnError(.invalidInput, "max_tokens must be between 1 and \(maximumOutputTokens).")
        }
        if let temperature = request.temperature, !(0...2).contains(temperature) {
            throw CairnError(.invalidInput, "temperature must be between 0 and 2.")
        }
        if let topP = request.topP, !(0...1).contains(topP) {
            throw CairnError(.invalidInput, "top_p must be between 0 and 1.")
        }
        if let stop = request.stop, stop.count > 4 {
            throw CairnError(.invalidInput, "stop takes at most 4 sequences.")
        }
        let tools = request.tools ?? []
        guard tools.count <= maximumTools else { throw CairnError(.invalidInput, "tools takes at most \(maximumTools) functions.") }
        for tool in tools {
            let name = tool.function.name
            guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                throw CairnError(.invalidInput, "A tool name must be 1–64 letters, digits, underscores or hyphens.")
            }
        }
        if case .function(let name)? = request.toolChoice, !tools.contains(where: { $0.function.name == name }) {
            throw CairnError(.invalidInput, "tool_choice names '\(name.prefix(64))', which is not among the tools.")
        }
        if request.toolChoice != nil, request.toolChoice != ToolChoice.none, tools.isEmpty {
            throw CairnError(.invalidInput, "tool_choice needs tools to choose from.")
        }
        if request.streamOptions != nil, !request.isStreaming {
            throw CairnError(.invalidInput, "stream_options is only allowed when stream is true.")
        }
    }
}

extension ChatRequest {
    /// An upper bound on the prompt's tokens, whatever the provider's tokenizer: every token
    /// covers at least one byte of text, so the bytes of everything the model reads bound it.
    /// Each message adds a generous allowance for the role markers providers wrap it in; tool
    /// definitions and a response schema count as their JSON. The budget's worst case rests on
    /// this bound, so it must never fall short; it is cheap because it runs on every call.
    var promptTokenBound: Int {
        var bytes = 0
        for message in messages {
            bytes += 32 + (message.content?.utf8.count ?? 0) + (message.name?.utf8.count ?? 0) + (message.toolCallID?.utf8.count ?? 0)
            for call in message.toolCalls ?? [] {
                bytes += 16 + call.id.utf8.count + call.function.name.utf8.count + call.function.arguments.utf8.count
            }
        }
        let encoder = JSONEncoder()
        if let tools, let encoded = try? encoder.encode(tools) { bytes += encoded.count }
        if case .jsonSchema(let format)? = responseFormat, let encoded = try? encoder.encode(format) { bytes += encoded.count }
        bytes += (stop ?? []).reduce(0) { $0 + $1.utf8.count }
        return bytes
    }
}
