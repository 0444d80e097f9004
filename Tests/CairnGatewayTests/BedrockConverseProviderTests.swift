import CairnAWS
import CairnCore
import Foundation
import Testing

@testable import CairnGateway

@Suite("Bedrock Converse provider")
struct BedrockConverseProviderTests {
    static let model = "anthropic.claude-3-haiku-20240307-v1:0"
    static let deployment = ProviderTestSupport.deployment(model: model)

    @Test("A full conversation translates to the Converse request AWS documents")
    func requestTranslation() throws {
        let body = try BedrockConverseRequest(ProviderTestSupport.conversationWithTools(), for: Self.deployment)
        let expected = try ProviderTestSupport.json(
            #"""
            {
              "system": [{"text": "You are a compliance assistant.\n\nAnswer in English."}],
              "messages": [
                {"role": "user", "content": [{"text": "How often are high-risk clients reviewed?"}]},
                {"role": "assistant", "content": [
                  {"text": "Let me look that up."},
                  {"toolUse": {"toolUseId": "call_1", "name": "search_policies", "input": {"query": "KYC refresh", "limit": 3}}},
                  {"toolUse": {"toolUseId": "call_2", "name": "get_client_risk", "input": {}}}
                ]},
                {"role": "user", "content": [
                  {"toolResult": {"toolUseId": "call_1", "content": [{"text": "Policy KYC-7: high-risk clients are reviewed every 12 months."}]}},
                  {"toolResult": {"toolUseId": "call_2", "content": [{"text": "(no output)"}]}},
                  {"text": "Reply as JSON."}
                ]}
              ],
              "inferenceConfig": {"maxTokens": 512, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
              "toolConfig": {
                "tools": [
                  {"toolSpec": {"name": "search_policies", "description": "Search the policy library.", "inputSchema": {"json": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                    "required": ["query"]
                  }}}},
                  {"toolSpec": {"name": "get_client_risk", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
                  {"toolSpec": {"name": "json_response", "description": "The review period.", "inputSchema": {"json": {
                    "type": "object", "properties": {"months": {"type": "integer"}}, "required": ["months"]
                  }}}}
                ],
                "toolChoice": {"any": {}}
              }
            }
            """#
        )
        #expect(try ProviderTestSupport.encoded(body) == expected)
        #expect(body.structuredReply)
    }

    static func toolConfig(choice: ToolChoice, history: Bool) throws -> JSONValue? {
        var messages = [ChatMessage(role: .user, content: "Check the client.")]
        if history {
            messages.append(
                ChatMessage(role: .assistant, content: nil, toolCalls: [ToolCall(id: "call_1", function: .init(name: "risk", arguments: "{}"))])
            )
            messages.append(ChatMessage(role: .tool, content: "low", toolCallID: "call_1"))
        }
        var request = ChatRequest(model: "chat", messages: messages, maxTokens: 100)
        request.tools = [ToolDefinition(function: .init(name: "risk"))]
        request.toolChoice = choice
        guard case .object(let members) = try ProviderTestSupport.encoded(BedrockConverseRequest(request, for: Self.deployment)) else {
            Issue.record("the request is not a JSON object")
            return nil
        }
        return members["toolConfig"]
    }

    @Test(
        "Each OpenAI tool choice becomes Converse's",
        arguments: [
            (ToolChoice.auto, #"{"auto": {}}"#),
            (.required, #"{"any": {}}"#),
            (.function("risk"), #"{"tool": {"name": "risk"}}"#),
        ]
    )
    func toolChoice(choice: ToolChoice, expected: String) throws {
        guard case .object(let config)? = try Self.toolConfig(choice: choice, history: false) else {
            Issue.record("no tool configuration was sent")
            return
        }
        #expect(config["toolChoice"] == (try ProviderTestSupport.json(expected)))
    }

    @Test("tool_choice none leaves the tools out, unless the conversation holds tool calls Converse needs them for")
    func noneToolChoice() throws {
        #expect(try Self.toolConfig(choice: .none, history: false) == nil)
        guard case .object(let config)? = try Self.toolConfig(choice: .none, history: true) else {
            Issue.record("no tool configuration was sent with tool calls in the conversation")
            return
        }
        #expect(config["toolChoice"] == nil)
        #expect(config["tools"] != nil)
    }

    @Test("The secret holds two or three non-empty parts, the last being the session token")
    func credentialFormat() {
        let permanent = BedrockConverseProvider.credentials(ProviderSecret("AKIDEXAMPLE:secret/key+1"))
        #expect(permanent?.accessKeyID == "AKIDEXAMPLE")
        #expect(permanent?.secretAccessKey == "secret/key+1")
        #expect(permanent?.sessionToken == nil)
        #expect(BedrockConverseProvider.credentials(ProviderSecret("AKID:secret:token"))?.sessionToken == "token")
        for malformed in ["AKIDEXAMPLE", "AKID::token", ":secret", "a:b:c:d", ""] {
            #expect(BedrockConverseProvider.credentials(ProviderSecret(malformed)) == nil, "\(malformed)")
        }
        #expect(BedrockConverseProvider.credentials(nil) == nil)
    }

    @Test("A malformed secret or a missing region fails before anything is sent, without the secret in the failure")
    func misconfiguration() async throws {
        let request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "Hi")], maxTokens: 10)
        // Port 9 (discard) on loopback: nothing may be sent there, and nothing is.
        let badSecret = ProviderTestSupport.target(
            kind: .bedrock,
            baseURL: "http://127.0.0.1:9",
            model: Self.model,
            secret: "AKIDONLY-s3cr3t",
            region: "eu-west-1"
        )
        let noRegion = ProviderTestSupport.target(kind: .bedrock, baseURL: "http://127.0.0.1:9", model: Self.model, secret: "AKID:s3cr3t")
        for target in [badSecret, noRegion] {
            let failure = try await #require(throws: UpstreamFailure.self) { try await BedrockConverseProvider().complete(request, on: target) }
            #expect(failure.kind == .unavailable)
            #expect(!"\(failure) \(failure.detail)".contains("s3cr3t"))
        }
    }

    // MARK: - Responses

    static func response(content: String, stopReason: String) throws -> BedrockConverseResponse {
        let text = """
            {"output": {"message": {"role": "assistant", "content": \(content)}}, "stopReason": "\(stopReason)",
             "usage": {"inputTokens": 100, "outputTokens": 20, "totalTokens": 170, "cacheReadInputTokens": 50}, "metrics": {"latencyMs": 321}}
            """
        return try JSONDecoder().decode(BedrockConverseResponse.self, from: Data(text.utf8))
    }

    @Test("A reply with text and a tool use becomes content, tool calls and usage with cache reads in the prompt")
    func responseTranslation() throws {
        let answer = try Self.response(
            content: #"""
                [{"reasoningContent": {"reasoningText": {"text": "Policy first."}}},
                 {"text": "Checking "}, {"text": "the policy."},
                 {"toolUse": {"toolUseId": "tooluse_1", "name": "search_policies", "input": {"query": "KYC", "limit": 3}}}]
                """#,
            stopReason: "tool_use"
        )
        let completion = answer.completion(deployment: Self.deployment, structuredReply: false)
        #expect(completion.id.hasPrefix("chatcmpl-"))
        #expect(completion.model == Self.model)
        #expect(completion.message?.content == "Checking the policy.")
        #expect(
            completion.message?.toolCalls == [
                ToolCall(id: "tooluse_1", function: .init(name: "search_policies", arguments: #"{"limit":3,"query":"KYC"}"#))
            ]
        )
        #expect(completion.choices.first?.finishReason == .toolCalls)
        #expect(completion.usage == TokenUsage(promptTokens: 150, completionTokens: 20))
    }

    @Test(
        "Stop reasons map to OpenAI's finish reasons",
        arguments: [
            ("end_turn", FinishReason.stop), ("stop_sequence", .stop), ("max_tokens", .length),
            ("guardrail_intervened", .contentFilter), ("content_filtered", .contentFilter),
        ]
    )
    func stopReasons(stopReason: String, expected: FinishReason) throws {
        let answer = try Self.response(content: #"[{"text": "Twelve months."}]"#, stopReason: stopReason)
        #expect(answer.completion(deployment: Self.deployment, structuredReply: false).choices.first?.finishReason == expected)
    }

    @Test("The structured-reply tool's input comes back as the reply's text, with a plain stop")
    func structuredResponse() throws {
        let answer = try Self.response(
            content: #"[{"toolUse": {"toolUseId": "tooluse_2", "name": "json_response", "input": {"months": 12}}}]"#,
            stopReason: "tool_use"
        )
        let completion = answer.completion(deployment: Self.deployment, structuredReply: true)
        #expect(completion.message?.content == #"{"months":12}"#)
        #expect(completion.message?.toolCalls == nil)
        #expect(completion.choices.first?.finishReason == .stop)
    }

    // MARK: - Streams

    /// One event-stream message as Bedrock frames it.
    static func frame(
        _ type: String,
        _ payload: String,
        messageType: String = "event"
    ) throws -> [UInt8] {
        var headers: [String: AWSEventStreamHeaderValue] = [":message-type": .string(messageType), ":content-type": .string("application/json")]
        headers[messageType == "exception" ? ":exception-type" : ":event-type"] = .string(type)
        return try AWSEventStreamEncoder.encode(AWSEventStreamMessage(headers: headers, payload: Array(payload.utf8)))
    }

    /// A stream as Bedrock sends it: reasoning (ignored), text with a multi-byte character, two
    /// tool uses whose input arrives in pieces, padding (`p`) in the payloads.
    static func toolStream() throws -> [UInt8] {
        try [
            frame("messageStart", #"{"p":"abcdefgh","role":"assistant"}"#),
            frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Policy first."}},"p":"ab"}"#),
            frame("contentBlockStop", #"{"contentBlockIndex":0,"p":"abc"}"#),
            frame("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"Checking — "},"p":"abcd"}"#),
            frame("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"text":"one moment."},"p":"a"}"#),
            frame("contentBlockStop", #"{"contentBlockIndex":1,"p":"abcde"}"#),
            frame("contentBlockStart", #"{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"tooluse_1","name":"search_policies"}},"p":"ab"}"#),
            frame("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"query\": \"KY"}},"p":"abc"}"#),
            frame("contentBlockDelta", #"{"contentBlockIndex":2,"delta":{"toolUse":{"input":"C refresh\"}"}},"p":"abcdef"}"#),
            frame("contentBlockStop", #"{"contentBlockIndex":2,"p":"a"}"#),
            frame("contentBlockStart", #"{"contentBlockIndex":3,"start":{"toolUse":{"toolUseId":"tooluse_2","name":"get_client_risk"}},"p":"ab"}"#),
            frame("contentBlockDelta", #"{"contentBlockIndex":3,"delta":{"toolUse":{"input":"{\"client_id\": \"C-42\"}"}},"p":"abc"}"#),
            frame("contentBlockStop", #"{"contentBlockIndex":3,"p":"abcd"}"#),
            frame("messageStop", #"{"stopReason":"tool_use","p":"abcdefg"}"#),
            frame(
                "metadata",
                #"{"usage":{"inputTokens":25,"outputTokens":89,"totalTokens":124,"cacheReadInputTokens":10},"metrics":{"latencyMs":812},"p":"ab"}"#
            ),
        ].flatMap { $0 }
    }

    static func translator(structuredReply: Bool = false) -> BedrockConverseStreamTranslator {
        BedrockConverseStreamTranslator(model: model, deployment: "test-deployment", structuredReply: structuredReply)
    }

    @Test("A streamed reply with text and tool calls reads the same however its bytes are split", arguments: ProviderTestSupport.pieceSizes)
    func streamTranslation(pieceSize: Int) throws {
        let bytes = try Self.toolStream()
        let stream = try ProviderTestSupport.translate(bytes, pieceSize: pieceSize, with: Self.translator())
        #expect(stream.ended)
        #expect(stream.chunks.first?.choices.first?.delta.role == .assistant)
        #expect(Set(stream.chunks.map(\.id)).count == 1, "every chunk carries the stream's one id")
        #expect(stream.text == "Checking — one moment.")
        #expect(
            stream.toolCalls == [
                ToolCall(id: "tooluse_1", function: .init(name: "search_policies", arguments: #"{"query": "KYC refresh"}"#)),
                ToolCall(id: "tooluse_2", function: .init(name: "get_client_risk", arguments: #"{"client_id": "C-42"}"#)),
            ]
        )
        #expect(stream.toolCallIndices == [0, 1], "OpenAI numbers a turn's calls from 0, whatever the content blocks around them")
        #expect(stream.finishReasons == [.toolCalls])
        let last = try #require(stream.chunks.last)
        #expect(last.choices.isEmpty)
        #expect(last.usage == TokenUsage(promptTokens: 35, completionTokens: 89))

        let whole = try ProviderTestSupport.translate(bytes, pieceSize: .max, with: Self.translator())
        #expect(stream.normalized == whole.normalized)
    }

    @Test("A streamed structured reply arrives as text, ending in a plain stop")
    func structuredStream() throws {
        let bytes = try [
            Self.frame("messageStart", #"{"role":"assistant"}"#),
            Self.frame("contentBlockStart", #"{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"tooluse_9","name":"json_response"}}}"#),
            Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"months\""}}}"#),
            Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"toolUse":{"input":": 12}"}}}"#),
            Self.frame("contentBlockStop", #"{"contentBlockIndex":0}"#),
            Self.frame("messageStop", #"{"stopReason":"tool_use"}"#),
            Self.frame("metadata", #"{"usage":{"inputTokens":9,"outputTokens":12,"totalTokens":21}}"#),
        ].flatMap { $0 }
        let stream = try ProviderTestSupport.translate(bytes, pieceSize: 5, with: Self.translator(structuredReply: true))
        #expect(stream.ended)
        #expect(stream.text == #"{"months": 12}"#)
        #expect(stream.toolCalls.isEmpty)
        #expect(stream.finishReasons == [.stop])
        #expect(stream.chunks.last?.usage == TokenUsage(promptTokens: 9, completionTokens: 12))
    }

    @Test(
        "An exception fails the stream, classified by whether a retry can help",
        arguments: [
            ("throttlingException", UpstreamFailure.Kind.rateLimited(retryAfter: nil), true),
            ("modelStreamErrorException", .status(502), true),
            ("internalServerException", .status(500), true),
            ("serviceUnavailableException", .status(503), true),
            ("validationException", .status(400), false),
        ]
    )
    func exception(type: String, expected: UpstreamFailure.Kind, retryable: Bool) throws {
        let bytes = try [
            Self.frame("messageStart", #"{"role":"assistant"}"#),
            Self.frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Partial"}}"#),
            Self.frame(type, #"{"message":"Something went wrong"}"#, messageType: "exception"),
        ].flatMap { $0 }
        let failure = try #require(throws: UpstreamFailure.self) {
            try ProviderTestSupport.translate(bytes, pieceSize: 3, with: Self.translator())
        }
        #expect(failure.kind == expected)
        #expect(failure.isRetryable == retryable)
        #expect(failure.detail == "\(type): Something went wrong")
    }

    @Test("A corrupted frame fails the stream instead of being skipped")
    func corruptFrame() throws {
        var bytes = try Self.toolStream()
        bytes[bytes.count / 2] ^= 0xFF
        #expect(throws: AWSEventStreamError.self) {
            try ProviderTestSupport.translate(bytes, pieceSize: 64, with: Self.translator())
        }
    }

    // MARK: - End to end

    static let secret = "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY:FwoGZXIvYXdzEXAMPLETOKEN"

    /// Checks that `sent` carries a SigV4 signature for exactly what arrived: its path, its
    /// `Host` and other signed headers, its body. A client that re-encoded the path or rewrote
    /// a signed header after signing would fail here, as AWS would refuse it.
    static func expectValidSignature(_ sent: LoopbackHTTPServer.RecordedRequest, region: String) throws {
        let authorization = try #require(sent.header("authorization").first)
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
        #expect(authorization.contains("/\(region)/bedrock/aws4_request, SignedHeaders="))
        let stamp = try #require(sent.header("x-amz-date").first)
        #expect(stamp.count == 16 && stamp.hasSuffix("Z"))
        #expect(sent.header("x-amz-security-token") == ["FwoGZXIvYXdzEXAMPLETOKEN"])

        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let date = try #require(formatter.date(from: stamp))
        let signedNames = try #require(authorization.split(separator: "SignedHeaders=").last?.split(separator: ",").first).split(separator: ";")
        #expect(signedNames.contains("host"))
        let setBySigner: Set<Substring> = ["x-amz-date", "x-amz-security-token"]
        let signedHeaders = sent.headers.filter {
            signedNames.contains(Substring($0.name.lowercased())) && !setBySigner.contains(Substring($0.name.lowercased()))
        }
        let credentials = try #require(BedrockConverseProvider.credentials(ProviderSecret(Self.secret)))
        let expected = SigV4Signer(credentials: credentials, region: region, service: "bedrock")
            .signedHeaders(method: sent.method, path: sent.uri, query: "", headers: signedHeaders, body: sent.body, date: date)
        #expect(expected.first { $0.name == "Authorization" }?.value == authorization)
    }

    static let cannedResponse = Array(
        #"""
        {"output": {"message": {"role": "assistant", "content": [{"text": "Every 12 months."}]}},
         "stopReason": "end_turn", "usage": {"inputTokens": 31, "outputTokens": 6, "totalTokens": 37}, "metrics": {"latencyMs": 200}}
        """#.utf8
    )

    @Test("A completion goes over HTTP signed with SigV4, the model id encoded in the path, and comes back translated")
    func endToEnd() async throws {
        try await LoopbackHTTPServer.withRunning(answering: .init(contentType: "application/json", body: Self.cannedResponse)) { server in
            let target = ProviderTestSupport.target(
                kind: .bedrock,
                baseURL: server.baseURL,
                model: Self.model,
                secret: Self.secret,
                region: "eu-west-1"
            )
            let request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "How often?")], maxTokens: 64)
            let completion = try await BedrockConverseProvider().complete(request, on: target)
            #expect(completion.message?.content == "Every 12 months.")
            #expect(completion.choices.first?.finishReason == .stop)
            #expect(completion.usage == TokenUsage(promptTokens: 31, completionTokens: 6))

            let sent = try #require(server.requests.first)
            #expect(sent.method == "POST")
            #expect(sent.uri == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
            #expect(sent.header("content-type") == ["application/json"])
            try Self.expectValidSignature(sent, region: "eu-west-1")
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(sent.body))
            #expect(
                body
                    == (try ProviderTestSupport.json(
                        #"{"messages": [{"role": "user", "content": [{"text": "How often?"}]}], "inferenceConfig": {"maxTokens": 64}}"#
                    ))
            )
        }
    }

    @Test("A stream goes to converse-stream over HTTP, signed, and arrives as chunks up to the usage report")
    func streamEndToEnd() async throws {
        let events = try Self.toolStream()
        try await LoopbackHTTPServer.withRunning(answering: .init(contentType: "application/vnd.amazon.eventstream", body: events)) { server in
            let target = ProviderTestSupport.target(
                kind: .bedrock,
                baseURL: server.baseURL + "/",
                model: Self.model,
                secret: Self.secret,
                region: "us-east-1"
            )
            var request = ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: "How often?")], maxTokens: 64)
            request.stream = true
            var chunks: [ChatCompletionChunk] = []
            for try await chunk in try await BedrockConverseProvider().stream(request, on: target) {
                chunks.append(chunk)
            }
            #expect(chunks.flatMap(\.choices).compactMap(\.delta.content).joined() == "Checking — one moment.")
            #expect(chunks.last?.usage == TokenUsage(promptTokens: 35, completionTokens: 89))

            let sent = try #require(server.requests.first)
            #expect(sent.uri == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
            #expect(sent.header("accept") == ["application/vnd.amazon.eventstream"])
            try Self.expectValidSignature(sent, region: "us-east-1")
        }
    }
}
