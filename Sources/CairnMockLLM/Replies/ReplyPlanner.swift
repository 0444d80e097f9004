/// The mock's replies: scripted content, or a deterministic default that walks a client through its
/// paths (text, tool call, tool result, structured output), cut to `max_tokens` words.
enum ReplyPlanner {
    /// How much of the user's message or the tool's result a default reply quotes.
    static let quoteLength = 200

    /// The reply to `request`: `scripted`'s content when it is a content step, else the default.
    static func reply(to request: MockChatRequest, scripted: MockStep?, sequence: Int) throws -> MockChatReply {
        let content: MockChatReply.Content
        switch scripted {
        case .reply(let text)?, .json(let text)?:
            content = .text(text)
        case .toolCall(let name, let arguments)?:
            content = .toolCall(name: name, arguments: arguments)
        case .fail?, .hang?, .reset?, .cutStream?, nil:
            content = try defaultContent(for: request)
        }
        switch content {
        case .text(let text):
            if let limit = request.maxTokens, let cut = Words.prefix(text, words: limit) {
                return MockChatReply(
                    content: .text(cut),
                    finish: .length,
                    sequence: sequence,
                    promptTokens: request.promptTokens,
                    completionTokens: limit
                )
            }
            return MockChatReply(
                content: content,
                finish: .stop,
                sequence: sequence,
                promptTokens: request.promptTokens,
                completionTokens: Words.count(text)
            )
        case .toolCall(_, let arguments):
            return MockChatReply(
                content: content,
                finish: .toolCall,
                sequence: sequence,
                promptTokens: request.promptTokens,
                completionTokens: Words.count(arguments)
            )
        }
    }

    private static func defaultContent(for request: MockChatRequest) throws -> MockChatReply.Content {
        switch request.lastTurn {
        case .toolResult(let result):
            return .text("The tool returned: \(result.prefix(quoteLength))")
        case .user:
            if let tool = toolToCall(in: request) {
                return .toolCall(name: tool.name, arguments: try JSONText.string(SchemaInstance.value(for: tool.parameters)))
            }
        case .other:
            break
        }
        switch request.responseFormat {
        case .jsonSchema(let schema):
            return .text(try JSONText.string(SchemaInstance.value(for: schema)))
        case .jsonObject:
            return .text("{}")
        case .text:
            return .text("Mock reply to: \(request.lastUserText.prefix(quoteLength))")
        }
    }

    private static func toolToCall(in request: MockChatRequest) -> MockTool? {
        switch request.toolChoice {
        case .none: nil
        case .named(let name): request.tools.first { $0.name == name }
        case .auto, .required: request.tools.first
        }
    }
}
