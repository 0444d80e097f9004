import CairnCore
import Foundation
import Testing

@testable import CairnGateway

@Suite("Anthropic provider")
struct AnthropicProviderTests {
    static let deployment = ProviderTestSupport.deployment(model: "claude-sonnet-4-5")

    @Test("A full conversation translates to the Messages request Anthropic documents")
    func requestTranslation() throws {
        let body = try AnthropicMessagesRequest(ProviderTestSupport.conversationWithTools(), for: Self.deployment)
        let expected = try ProviderTestSupport.json(
            #"""
            {
              "model": "claude-sonnet-4-5",
              "max_tokens": 512,
              "system": "You are a compliance assistant.\n\nAnswer in English.",
              "messages": [
                {"role": "user", "content": [{"type": "text", "text": "How often are high-risk clients reviewed?"}]},
                {"role": "assistant", "content": [
                  {"type": "text", "text": "Let me look that up."},
                  {"type": "tool_use", "id": "call_1", "name": "search_policies", "input": {"query": "KYC refresh", "limit": 3}},
                  {"type": "tool_use", "id": "call_2", "name": "get_client_risk", "input": {}}
                ]},
                {"role": "user", "content": [
                  {"type": "tool_result", "tool_use_id": "call_1", "content": "Policy KYC-7: high-risk clients are reviewed every 12 months."},
                  {"type": "tool_result", "tool_use_id": "call_2"},
                  {"type": "text", "text": "Reply as JSON."}
                ]}
              ],
              "tools": [
                {"name": "search_policies", "description": "Search the policy library.", "input_schema": {
                  "type": "object",
                  "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                  "required": ["query"]
                }},
                {"name": "get_client_risk", "input_schema": {"type": "object", "properties": {}}},
                {"name": "json_response", "description": "The review period.", "input_schema": {
                  "type": "object", "properties": {"months": {"type": "integer"}}, "required": ["months"]
                }}
              ],
              "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
              "stop_sequences": ["END"],
              "temperature": 0.2,
              "top_p": 0.9
            }
            """#
        )
        #expect(try ProviderTestSupport.encoded(body) == expected)
        #expect(body.structuredReply)
    }

    @Test(
        "Each OpenAI tool choice becomes Anthropic's",
        arguments: [
            (ToolChoice.auto, #"{"type": "auto"}"#),
            (.none, #"{"type": "none"}"#),
            (.required, #"{"type": "any"}"#),
            (.function("get_client_risk"), #"{"type": "tool", "name": "get_client_risk"}"#),
        ]
    )
    func toolChoice(choice: ToolChoice, expected: String) throws {
        var request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "Hi")], maxTokens: 100)
        request.tools = [ToolDefinition(function: .init(name: "get_client_risk"))]
        request.toolChoice = choice
        let body = try ProviderTestSupport.encoded(AnthropicMessagesRequest(request, for: Self.deployment))
        guard case .object(let members) = body else {
            Issue.record("the request is not a JSON object")
            return
        }
        #expect(members["tool_choice"] == (try ProviderTestSupport.json(expected)))
        #expect(members["max_tokens"] == .number(100), "the request's own cap wins over the deployment's default")
    }

    @Test("A schema-shaped reply without tools of the caller's forces the structured-reply tool")
    func structuredReplyAlone() throws {
        var request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "Period?")])
        request.responseFormat = .jsonSchema(.init(name: "period", schema: .object(["type": .string("object")])))
        let body = try ProviderTestSupport.encoded(AnthropicMessagesRequest(request, for: Self.deployment))
        guard case .object(let members) = body else {
            Issue.record("the request is not a JSON object")
            return
        }
        #expect(members["tool_choice"] == (try ProviderTestSupport.json(#"{"type": "tool", "name": "json_response"}"#)))
    }

    @Test("json_object asks in the system prompt; a temperature above Anthropic's range is capped")
    func jsonObjectAndTemperature() throws {
        var request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "Period?")])
        request.responseFormat = .jsonObject
        request.temperature = 1.6
        let body = try AnthropicMessagesRequest(request, for: Self.deployment)
        #expect(body.system == BlockConversation.jsonObjectInstruction)
        #expect(body.temperature == 1)
        #expect(body.tools == nil)
    }

    @Test("A tool result sent after the user's text still goes first in the merged user turn")
    func toolResultsFirst() throws {
        let request = ChatRequest(
            model: "chat",
            messages: [
                ChatMessage(role: .user, content: "Check the client."),
                ChatMessage(role: .assistant, content: nil, toolCalls: [ToolCall(id: "call_9", function: .init(name: "risk", arguments: "{}"))]),
                ChatMessage(role: .user, content: "Quickly, please."),
                ChatMessage(role: .tool, content: "low", toolCallID: "call_9"),
            ]
        )
        let body = try AnthropicMessagesRequest(request, for: Self.deployment)
        #expect(body.messages.map(\.role) == ["user", "assistant", "user"])
        #expect(body.messages.last?.content.map(\.block) == [.toolResult(toolUseID: "call_9", text: "low"), .text("Quickly, please.")])
    }

    @Test("Arguments that are not a JSON object fail the attempt as a 400, which is not retried")
    func invalidArguments() throws {
        let request = ChatRequest(
            model: "chat",
            messages: [
                ChatMessage(role: .user, content: "Check."),
                ChatMessage(
                    role: .assistant,
                    content: nil,
                    toolCalls: [ToolCall(id: "call_1", function: .init(name: "risk", arguments: "{\"client"))]
                ),
                ChatMessage(role: .tool, content: "low", toolCallID: "call_1"),
            ]
        )
        let failure = try #require(throws: UpstreamFailure.self) { try AnthropicMessagesRequest(request, for: Self.deployment) }
        #expect(failure.kind == .status(400))
        #expect(!failure.isRetryable)
    }

    // MARK: - Responses

    static func message(content: String, stopReason: String) throws -> AnthropicMessage {
        let text = """
            {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
             "content": \(content), "stop_reason": "\(stopReason)", "stop_sequence": null,
             "usage": {"input_tokens": 120, "output_tokens": 45, "cache_creation_input_tokens": 10, "cache_read_input_tokens": 200}}
            """
        return try JSONDecoder().decode(AnthropicMessage.self, from: Data(text.utf8))
    }

    @Test("A reply with text and a tool use becomes content, tool calls and usage with the cache counted in the prompt")
    func responseTranslation() throws {
        let answer = try Self.message(
            content: #"""
                [{"type": "thinking", "thinking": "…", "signature": "x"},
                 {"type": "text", "text": "Checking "}, {"type": "text", "text": "the policy."},
                 {"type": "tool_use", "id": "toolu_01", "name": "search_policies", "input": {"query": "KYC", "filters": {"year": 2024}}}]
                """#,
            stopReason: "tool_use"
        )
        let completion = answer.completion(deployment: Self.deployment, structuredReply: false)
        #expect(completion.id == "msg_01")
        #expect(completion.message?.content == "Checking the policy.")
        #expect(
            completion.message?.toolCalls == [
                ToolCall(id: "toolu_01", function: .init(name: "search_policies", arguments: #"{"filters":{"year":2024},"query":"KYC"}"#))
            ]
        )
        #expect(completion.choices.first?.finishReason == .toolCalls)
        #expect(completion.usage == TokenUsage(promptTokens: 330, completionTokens: 45))
    }

    @Test(
        "Stop reasons map to OpenAI's finish reasons",
        arguments: [("end_turn", FinishReason.stop), ("stop_sequence", .stop), ("max_tokens", .length), ("refusal", .contentFilter)]
    )
    func stopReasons(stopReason: String, expected: FinishReason) throws {
        let answer = try Self.message(content: #"[{"type": "text", "text": "Twelve months."}]"#, stopReason: stopReason)
        let completion = answer.completion(deployment: Self.deployment, structuredReply: false)
        #expect(completion.choices.first?.finishReason == expected)
        #expect(completion.message?.toolCalls == nil)
    }

    @Test("The structured-reply tool's input comes back as the reply's text, with a plain stop")
    func structuredResponse() throws {
        let answer = try Self.message(
            content: #"[{"type": "tool_use", "id": "toolu_02", "name": "json_response", "input": {"months": 12}}]"#,
            stopReason: "tool_use"
        )
        let completion = answer.completion(deployment: Self.deployment, structuredReply: true)
        #expect(completion.message?.content == #"{"months":12}"#)
        #expect(completion.message?.toolCalls == nil)
        #expect(completion.choices.first?.finishReason == .stop)
    }

    // MARK: - Streams

    /// A stream as Anthropic sends it: a thinking block (ignored), text with a multi-byte
    /// character, two tool uses whose input arrives in pieces, pings, CRLF line ends in places.
    static let toolStream = events([
        (
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_02","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"#
                + #""usage":{"input_tokens":25,"cache_read_input_tokens":10,"output_tokens":1}}}"#
        ),
        ("ping", #"{"type":"ping"}"#),
        ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Policy first."}}"#),
        ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
        ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking — "}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"one moment."}}"#),
        ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
        (
            "content_block_start",
            #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01","name":"search_policies","input":{}}}"#
        ),
        ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"query\": \"KY"}}"#),
        ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"C refresh\"}"}}"#),
        ("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
        (
            "content_block_start",
            #"{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_client_risk","input":{}}}"#
        ),
        (
            "content_block_delta",
            #"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"client_id\": \"C-42\"}"}}"#
        ),
        ("content_block_stop", #"{"type":"content_block_stop","index":3}"#),
        ("ping", #"{"type":"ping"}"#),
        ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#),
        ("message_stop", #"{"type":"message_stop"}"#),
    ])

    /// Server-sent events, alternating LF and CRLF line ends.
    static func events(_ events: [(name: String, data: String)]) -> [UInt8] {
        var text = ""
        for (number, event) in events.enumerated() {
            let end = number.isMultiple(of: 2) ? "\n" : "\r\n"
            text += "event: \(event.name)\(end)data: \(event.data)\(end)\(end)"
        }
        return Array(text.utf8)
    }

    static func translator(structuredReply: Bool = false) -> AnthropicStreamTranslator {
        AnthropicStreamTranslator(model: "claude-sonnet-4-5", deployment: "test-deployment", structuredReply: structuredReply)
    }

    @Test("A streamed reply with text and tool calls reads the same however its bytes are split", arguments: ProviderTestSupport.pieceSizes)
    func streamTranslation(pieceSize: Int) throws {
        let stream = try ProviderTestSupport.translate(Self.toolStream, pieceSize: pieceSize, with: Self.translator())
        #expect(stream.ended)
        #expect(stream.chunks.first?.choices.first?.delta.role == .assistant)
        #expect(stream.chunks.allSatisfy { $0.id == "msg_02" && $0.model == "claude-sonnet-4-5-20250929" })
        #expect(stream.text == "Checking — one moment.")
        #expect(
            stream.toolCalls == [
                ToolCall(id: "toolu_01", function: .init(name: "search_policies", arguments: #"{"query": "KYC refresh"}"#)),
                ToolCall(id: "toolu_02", function: .init(name: "get_client_risk", arguments: #"{"client_id": "C-42"}"#)),
            ]
        )
        #expect(stream.toolCallIndices == [0, 1], "OpenAI numbers a turn's calls from 0, whatever the content blocks around them")
        #expect(stream.finishReasons == [.toolCalls])
        let last = try #require(stream.chunks.last)
        #expect(last.choices.isEmpty)
        #expect(last.usage == TokenUsage(promptTokens: 35, completionTokens: 89))

        let whole = try ProviderTestSupport.translate(Self.toolStream, pieceSize: .max, with: Self.translator())
        #expect(stream.normalized == whole.normalized)
    }

    @Test("A streamed structured reply arrives as text, ending in a plain stop")
    func structuredStream() throws {
        let bytes = Self.events([
            (
                "message_start",
                #"{"type":"message_start","message":{"id":"msg_03","model":"claude-sonnet-4-5","usage":{"input_tokens":9,"output_tokens":1}}}"#
            ),
            (
                "content_block_start",
                #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_9","name":"json_response","input":{}}}"#
            ),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"months\""}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":": 12}"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":12}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ])
        let stream = try ProviderTestSupport.translate(bytes, pieceSize: 5, with: Self.translator(structuredReply: true))
        #expect(stream.text == #"{"months": 12}"#)
        #expect(stream.toolCalls.isEmpty)
        #expect(stream.finishReasons == [.stop])
        #expect(stream.chunks.last?.usage == TokenUsage(promptTokens: 9, completionTokens: 12))
    }

    @Test(
        "An error event fails the stream: overloaded is a retryable 529, an unknown error is malformed",
        arguments: [
            ("overloaded_error", UpstreamFailure.Kind.status(529)),
            ("rate_limit_error", .rateLimited(retryAfter: nil)),
            ("invalid_request_error", .malformedResponse),
        ]
    )
    func errorEvent(type: String, expected: UpstreamFailure.Kind) throws {
        let bytes = Self.events([
            ("message_start", #"{"type":"message_start","message":{"id":"msg_04","model":"claude-sonnet-4-5","usage":{"input_tokens":9}}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Partial"}}"#),
            ("error", #"{"type":"error","error":{"type":"\#(type)","message":"Something went wrong"}}"#),
        ])
        let failure = try #require(throws: UpstreamFailure.self) {
            try ProviderTestSupport.translate(bytes, pieceSize: 3, with: Self.translator())
        }
        #expect(failure.kind == expected)
        #expect(failure.isRetryable)
        #expect(failure.detail.contains(type))
    }

    @Test("Tool input for a block that never started as a tool use is malformed, not dropped")
    func orphanToolInput() throws {
        let bytes = Self.events([
            ("message_start", #"{"type":"message_start","message":{"id":"msg_05","usage":{"input_tokens":1}}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":4,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#),
        ])
        let failure = try #require(throws: UpstreamFailure.self) {
            try ProviderTestSupport.translate(bytes, pieceSize: .max, with: Self.translator())
        }
        #expect(failure.kind == .malformedResponse)
    }

    // MARK: - End to end

    static let cannedMessage = Array(
        #"""
        {"id": "msg_07", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
         "content": [{"type": "text", "text": "Every 12 months."}],
         "stop_reason": "end_turn", "usage": {"input_tokens": 31, "output_tokens": 6}}
        """#.utf8
    )

    @Test("A completion goes over HTTP with the API key and version headers and comes back translated")
    func endToEnd() async throws {
        try await LoopbackHTTPServer.withRunning(answering: .init(contentType: "application/json", body: Self.cannedMessage)) { server in
            let target = ProviderTestSupport.target(
                kind: .anthropic,
                baseURL: server.baseURL + "/",
                model: "claude-sonnet-4-5",
                secret: "sk-ant-test-123"
            )
            let request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "How often?")], maxTokens: 64)
            let completion = try await AnthropicProvider().complete(request, on: target)
            #expect(completion.message?.content == "Every 12 months.")
            #expect(completion.choices.first?.finishReason == .stop)
            #expect(completion.usage == TokenUsage(promptTokens: 31, completionTokens: 6))

            let sent = try #require(server.requests.first)
            #expect(sent.method == "POST")
            #expect(sent.uri == "/v1/messages")
            #expect(sent.header("x-api-key") == ["sk-ant-test-123"])
            #expect(sent.header("anthropic-version") == ["2023-06-01"])
            #expect(sent.header("content-type") == ["application/json"])
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(sent.body))
            #expect(
                body
                    == (try ProviderTestSupport.json(
                        #"""
                        {"model": "claude-sonnet-4-5", "max_tokens": 64,
                         "messages": [{"role": "user", "content": [{"type": "text", "text": "How often?"}]}]}
                        """#
                    ))
            )
        }
    }

    @Test("A stream goes over HTTP asking for events and arrives as chunks up to the usage report")
    func streamEndToEnd() async throws {
        try await LoopbackHTTPServer.withRunning(answering: .init(contentType: "text/event-stream", body: Self.toolStream)) { server in
            let target = ProviderTestSupport.target(kind: .anthropic, baseURL: server.baseURL, model: "claude-sonnet-4-5", secret: "sk-ant-test-123")
            var request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "How often?")], maxTokens: 64)
            request.stream = true
            var chunks: [ChatCompletionChunk] = []
            for try await chunk in try await AnthropicProvider().stream(request, on: target) {
                chunks.append(chunk)
            }
            #expect(chunks.flatMap(\.choices).compactMap(\.delta.content).joined() == "Checking — one moment.")
            #expect(chunks.last?.usage == TokenUsage(promptTokens: 35, completionTokens: 89))

            let sent = try #require(server.requests.first)
            #expect(sent.header("accept") == ["text/event-stream"])
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(sent.body))
            guard case .object(let members) = body else {
                Issue.record("the request body is not a JSON object")
                return
            }
            #expect(members["stream"] == .bool(true))
        }
    }

    @Test("An upstream rejection is classified by its status, and the API key appears in no part of the failure")
    func rejection() async throws {
        let body = Array(#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}}"#.utf8)
        try await LoopbackHTTPServer.withRunning(answering: .init(status: 400, contentType: "application/json", body: body)) { server in
            let target = ProviderTestSupport.target(
                kind: .anthropic,
                baseURL: server.baseURL,
                model: "claude-sonnet-4-5",
                secret: "sk-ant-secret-456"
            )
            let request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "How often?")], maxTokens: 64)
            let failure = try await #require(throws: UpstreamFailure.self) { try await AnthropicProvider().complete(request, on: target) }
            #expect(failure.kind == .status(400))
            #expect(failure.detail.contains("invalid_request_error"))
            #expect(!"\(failure) \(failure.detail) \(String(reflecting: failure))".contains("sk-ant-secret-456"))
        }
    }
}
