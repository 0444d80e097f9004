import AsyncHTTPClient
import CairnCore
import CairnMockLLM
import CairnTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The `mock` provider over real HTTP on loopback, read the way a gateway reads a provider.
@Suite("Mock model server", .timeLimit(.minutes(1)))
struct MockModelServerTests {
    // MARK: OpenAI

    @Test("OpenAI chat: the default reply quotes the user, echoes the model, counts words as tokens")
    func openAIChat() async throws {
        try await MockModelServer.withRunning { server in
            let response = try await send(
                "\(server.baseURL)/v1/chat/completions",
                #"{"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hello mock world"}]}"#
            )
            #expect(response.status == 200)
            #expect(response.headers.first(name: "content-type") == "application/json")
            let json = try response.json()
            #expect(json[path: "id"] == .string("chatcmpl-mock-1"))
            #expect(json[path: "object"] == .string("chat.completion"))
            #expect(json[path: "model"] == .string("gpt-4o"))
            #expect(json[path: "choices", 0, "message", "role"] == .string("assistant"))
            #expect(json[path: "choices", 0, "message", "content"] == .string("Mock reply to: Hello mock world"))
            #expect(json[path: "choices", 0, "finish_reason"] == .string("stop"))
            // Prompt: 2 + 3 words, plus 3 per message; completion: 6 words.
            #expect(json[path: "usage", "prompt_tokens"] == .number(11))
            #expect(json[path: "usage", "completion_tokens"] == .number(6))
            #expect(json[path: "usage", "total_tokens"] == .number(17))
        }
    }

    @Test("OpenAI stream: a role chunk, a word per chunk, the finish reason, the usage chunk, then [DONE]")
    func openAIStream() async throws {
        try await MockModelServer.withRunning { server in
            let body = #"""
                {"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true},
                 "messages": [{"role": "user", "content": "Tell me a story"}]}
                """#
            let response = try await send("\(server.baseURL)/v1/chat/completions", body)
            #expect(response.status == 200)
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            let events = try #require(response.events())
            #expect(events.last?.data == "[DONE]")
            let chunks = try events.dropLast().map { try $0.json() }
            #expect(chunks.allSatisfy { $0[path: "object"] == .string("chat.completion.chunk") && $0[path: "model"] == .string("gpt-4o-mini") })
            #expect(chunks.first?[path: "choices", 0, "delta", "role"] == .string("assistant"))
            let words = chunks.compactMap { $0[path: "choices", 0, "delta", "content"]?.string }.filter { !$0.isEmpty }
            #expect(words == ["Mock", " reply", " to:", " Tell", " me", " a", " story"])
            #expect(chunks.dropLast().last?[path: "choices", 0, "finish_reason"] == .string("stop"))
            let usage = try #require(chunks.last)
            #expect(usage[path: "choices"] == .array([]))
            #expect(usage[path: "usage", "completion_tokens"] == .number(7))
            #expect(usage[path: "usage", "prompt_tokens"] == .number(7))

            // Without include_usage the stream ends on the finish chunk.
            let plain = try await send(
                "\(server.baseURL)/v1/chat/completions",
                #"{"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}"#
            )
            let plainChunks = try #require(plain.events()).dropLast().map { try $0.json() }
            #expect(plainChunks.last?[path: "choices", 0, "finish_reason"] == .string("stop"))
            #expect(plainChunks.allSatisfy { $0[path: "usage"] == nil })
        }
    }

    @Test("Tool calls: arguments synthesised from a schema with nested objects, arrays, enums and $defs")
    func toolCallSynthesis() async throws {
        try await MockModelServer.withRunning { server in
            let request = #"""
                {"model": "gpt-4o", "messages": [{"role": "user", "content": "Book it"}],
                 "tools": [
                   {"type": "function", "function": {"name": "search", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}},
                   {"type": "function", "function": {"name": "book_trip", "parameters": \#(Self.tripSchema)}}
                 ],
                 "tool_choice": {"type": "function", "function": {"name": "book_trip"}}}
                """#
            let response = try await send("\(server.baseURL)/v1/chat/completions", request)
            let json = try response.json()
            #expect(json[path: "choices", 0, "finish_reason"] == .string("tool_calls"))
            #expect(json[path: "choices", 0, "message", "content"] == .null)
            let call = try #require(json[path: "choices", 0, "message", "tool_calls", 0])
            #expect(call[path: "type"] == .string("function"))
            #expect(call[path: "function", "name"] == .string("book_trip"))
            let argumentsText = try #require(call[path: "function", "arguments"]?.string)
            let arguments = try #require(JSONValue.object(from: Data(argumentsText.utf8)))
            try Self.expectValidTrip(.object(arguments))

            // Streamed, the arguments arrive as several partial-JSON deltas that join into the same text.
            let streamed = try await send(
                "\(server.baseURL)/v1/chat/completions",
                request.replacingOccurrences(of: #"{"model": "gpt-4o","#, with: #"{"model": "gpt-4o", "stream": true,"#)
            )
            let chunks = try #require(streamed.events()).dropLast().map { try $0.json() }
            #expect(chunks.first?[path: "choices", 0, "delta", "tool_calls", 0, "function", "name"] == .string("book_trip"))
            let fragments = chunks.compactMap { $0[path: "choices", 0, "delta", "tool_calls", 0, "function", "arguments"]?.string }
                .filter { !$0.isEmpty }
            #expect(fragments.count > 3)
            #expect(JSONValue.object(from: Data(fragments.joined().utf8)) == arguments)
            #expect(chunks.last?[path: "choices", 0, "finish_reason"] == .string("tool_calls"))

            // tool_choice "none" answers in text.
            let none = try await send(
                "\(server.baseURL)/v1/chat/completions",
                request.replacingOccurrences(of: #"{"type": "function", "function": {"name": "book_trip"}}}"#, with: #""none"}"#)
            )
            #expect(try none.json()[path: "choices", 0, "message", "content"] == .string("Mock reply to: Book it"))
        }
    }

    @Test("A tool result gets a text answer quoting it")
    func toolResultAnswer() async throws {
        try await MockModelServer.withRunning { server in
            let response = try await send(
                "\(server.baseURL)/v1/chat/completions",
                #"""
                {"model": "gpt-4o", "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
                 "messages": [{"role": "user", "content": "Weather?"},
                              {"role": "assistant", "content": null,
                               "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
                              {"role": "tool", "tool_call_id": "c1", "content": "Sunny, 21 degrees"}]}
                """#
            )
            let json = try response.json()
            #expect(json[path: "choices", 0, "message", "content"] == .string("The tool returned: Sunny, 21 degrees"))
            #expect(json[path: "choices", 0, "finish_reason"] == .string("stop"))
        }
    }

    @Test("Structured output: json_schema gets a document the schema accepts; json_object gets an object")
    func structuredOutput() async throws {
        try await MockModelServer.withRunning { server in
            let response = try await send(
                "\(server.baseURL)/v1/chat/completions",
                #"""
                {"model": "gpt-4o", "messages": [{"role": "user", "content": "Plan a trip"}],
                 "response_format": {"type": "json_schema", "json_schema": {"name": "trip", "strict": true, "schema": \#(Self.tripSchema)}}}
                """#
            )
            let content = try #require(try response.json()[path: "choices", 0, "message", "content"]?.string)
            try Self.expectValidTrip(.object(try #require(JSONValue.object(from: Data(content.utf8)))))

            let object = try await send(
                "\(server.baseURL)/v1/chat/completions",
                #"{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}"#
            )
            let text = try #require(try object.json()[path: "choices", 0, "message", "content"]?.string)
            #expect(JSONValue.object(from: Data(text.utf8)) != nil)
        }
    }

    @Test("max_tokens and max_completion_tokens cut the reply to that many words, finishing with length")
    func maxTokensTruncation() async throws {
        try await MockModelServer.withRunning { server in
            for field in ["max_tokens", "max_completion_tokens"] {
                let response = try await send(
                    "\(server.baseURL)/v1/chat/completions",
                    #"{"model": "gpt-4o", "\#(field)": 3, "messages": [{"role": "user", "content": "one two three four"}]}"#
                )
                let json = try response.json()
                #expect(json[path: "choices", 0, "message", "content"] == .string("Mock reply to:"))
                #expect(json[path: "choices", 0, "finish_reason"] == .string("length"))
                #expect(json[path: "usage", "completion_tokens"] == .number(3))
            }
            let anthropic = try await send(
                "\(server.baseURL)/v1/messages",
                #"{"model": "claude", "max_tokens": 2, "messages": [{"role": "user", "content": "one two"}]}"#,
                headers: Self.anthropicHeaders
            )
            let json = try anthropic.json()
            #expect(json[path: "content", 0, "text"] == .string("Mock reply"))
            #expect(json[path: "stop_reason"] == .string("max_tokens"))
            #expect(json[path: "usage", "output_tokens"] == .number(2))
        }
    }

    // MARK: Anthropic

    @Test("Anthropic messages: text reply, top-level system counted, tool results as blocks")
    func anthropicMessages() async throws {
        try await MockModelServer.withRunning { server in
            let response = try await send(
                "\(server.baseURL)/v1/messages",
                #"""
                {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "You are terse",
                 "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello from Cairn"}]}]}
                """#,
                headers: Self.anthropicHeaders
            )
            #expect(response.status == 200)
            let json = try response.json()
            #expect(json[path: "id"] == .string("msg_mock_1"))
            #expect(json[path: "type"] == .string("message"))
            #expect(json[path: "role"] == .string("assistant"))
            #expect(json[path: "model"] == .string("claude-sonnet-4-5"))
            #expect(json[path: "content"] == .array([.object(["type": .string("text"), "text": .string("Mock reply to: Hello from Cairn")])]))
            #expect(json[path: "stop_reason"] == .string("end_turn"))
            // Prompt: (3 + 3) words of system and message, plus 3 for each.
            #expect(json[path: "usage", "input_tokens"] == .number(12))
            #expect(json[path: "usage", "output_tokens"] == .number(6))

            let toolResult = try await send(
                "\(server.baseURL)/v1/messages",
                #"""
                {"model": "claude-sonnet-4-5", "max_tokens": 1024,
                 "tools": [{"name": "weather", "input_schema": {"type": "object"}}],
                 "messages": [{"role": "user", "content": "Weather?"},
                              {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {}}]},
                              {"role": "user",
                               "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "Rain"}]}]}]}
                """#,
                headers: Self.anthropicHeaders
            )
            #expect(try toolResult.json()[path: "content", 0, "text"] == .string("The tool returned: Rain"))
        }
    }

    @Test("Anthropic tool use: input synthesised from input_schema, streamed as input_json_delta fragments")
    func anthropicToolUse() async throws {
        try await MockModelServer.withRunning { server in
            let request = #"""
                {"model": "claude-sonnet-4-5", "max_tokens": 1024, "tool_choice": {"type": "any"},
                 "tools": [{"name": "book_trip", "input_schema": \#(Self.tripSchema)}],
                 "messages": [{"role": "user", "content": "Book it"}]}
                """#
            let response = try await send("\(server.baseURL)/v1/messages", request, headers: Self.anthropicHeaders)
            let json = try response.json()
            #expect(json[path: "stop_reason"] == .string("tool_use"))
            #expect(json[path: "content", 0, "type"] == .string("tool_use"))
            #expect(json[path: "content", 0, "name"] == .string("book_trip"))
            #expect(json[path: "content", 0, "id"]?.string?.hasPrefix("toolu_") == true)
            let input = try #require(json[path: "content", 0, "input"])
            try Self.expectValidTrip(input)

            let streamed = try await send(
                "\(server.baseURL)/v1/messages",
                request.replacingOccurrences(of: #""max_tokens": 1024,"#, with: #""max_tokens": 1024, "stream": true,"#),
                headers: Self.anthropicHeaders
            )
            let events = try #require(streamed.events())
            #expect(events.first?.name == "message_start")
            #expect(try events[1].json()[path: "content_block", "type"] == .string("tool_use"))
            let fragments = try events.filter { $0.name == "content_block_delta" }.map { event in
                let delta = try event.json()[path: "delta"]
                #expect(delta?[path: "type"] == .string("input_json_delta"))
                return delta?[path: "partial_json"]?.string ?? ""
            }
            #expect(fragments.count > 3)
            #expect(JSONValue.object(from: Data(fragments.joined().utf8)).map { JSONValue.object($0) } == input)
            let messageDelta = try #require(events.first { $0.name == "message_delta" })
            #expect(try messageDelta.json()[path: "delta", "stop_reason"] == .string("tool_use"))
        }
    }

    @Test("Anthropic stream: message_start, block start, text_delta per word, block stop, message_delta, message_stop")
    func anthropicStream() async throws {
        try await MockModelServer.withRunning { server in
            let response = try await send(
                "\(server.baseURL)/v1/messages",
                #"{"model": "claude-haiku", "max_tokens": 100, "stream": true, "messages": [{"role": "user", "content": "Hi there"}]}"#,
                headers: Self.anthropicHeaders
            )
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            let events = try #require(response.events())
            let names = events.map(\.name)
            #expect(names.prefix(2) == ["message_start", "content_block_start"])
            #expect(names.suffix(3) == ["content_block_stop", "message_delta", "message_stop"])
            for event in events {
                #expect(try event.json()[path: "type"]?.string == event.name)
            }
            #expect(try events[0].json()[path: "message", "model"] == .string("claude-haiku"))
            #expect(try events[0].json()[path: "message", "usage", "input_tokens"] == .number(5))
            let deltas = try events.filter { $0.name == "content_block_delta" }.map { try $0.json()[path: "delta"] }
            #expect(deltas.allSatisfy { $0?[path: "type"] == .string("text_delta") })
            #expect(deltas.compactMap { $0?[path: "text"]?.string } == ["Mock", " reply", " to:", " Hi", " there"])
            let messageDelta = try #require(events.first { $0.name == "message_delta" }).json()
            #expect(messageDelta[path: "delta", "stop_reason"] == .string("end_turn"))
            #expect(messageDelta[path: "usage", "output_tokens"] == .number(5))
        }
    }

    @Test("Bad requests get 400 in the dialect's error shape")
    func badRequests() async throws {
        try await MockModelServer.withRunning { server in
            let openAI = try await send("\(server.baseURL)/v1/chat/completions", #"{"model": "gpt-4o"}"#)
            #expect(openAI.status == 400)
            #expect(try openAI.json()[path: "error", "type"] == .string("invalid_request_error"))
            #expect(try openAI.json()[path: "error", "message"] == .string("Missing required field 'messages'."))

            let notJSON = try await send("\(server.baseURL)/v1/chat/completions", #"{"model": "#)
            #expect(notJSON.status == 400)

            let noVersion = try await send(
                "\(server.baseURL)/v1/messages",
                #"{"model": "claude", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}"#
            )
            #expect(noVersion.status == 400)
            #expect(try noVersion.json()[path: "type"] == .string("error"))
            #expect(try noVersion.json()[path: "error", "type"] == .string("invalid_request_error"))

            // A system message among Anthropic messages is a translation bug in the caller.
            let systemRole = try await send(
                "\(server.baseURL)/v1/messages",
                #"{"model": "claude", "max_tokens": 10, "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "y"}]}"#,
                headers: Self.anthropicHeaders
            )
            #expect(systemRole.status == 400)
            #expect(server.script.requestCounts.isEmpty)

            let tooLarge = try await send("\(server.baseURL)/v1/chat/completions", String(repeating: " ", count: (8 << 20) + 1))
            #expect(tooLarge.status == 413)
            #expect(try tooLarge.json()[path: "error", "message"] != nil)

            let unknown = try await send("\(server.baseURL)/v2/whatever", "{}")
            #expect(unknown.status == 404)
        }
    }

    // MARK: Faults

    @Test("fail: the status, the dialect's error body, and Retry-After when scripted")
    func scriptedFailures() async throws {
        try await MockModelServer.withRunning { server in
            server.script.enqueue(.fail(status: 500), .fail(status: 429, retryAfter: 7), model: "gpt-4o")
            let first = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
            #expect(first.status == 500)
            #expect(try first.json()[path: "error", "type"] == .string("server_error"))
            #expect(try first.json()[path: "error", "message"]?.string != nil)
            #expect(first.headers.first(name: "retry-after") == nil)

            let second = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
            #expect(second.status == 429)
            #expect(second.headers.first(name: "retry-after") == "7")
            #expect(try second.json()[path: "error", "code"] == .string("rate_limit_exceeded"))

            let third = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
            #expect(third.status == 200)

            server.script.enqueue(.fail(status: 529), model: "claude")
            let anthropic = try await send("\(server.baseURL)/v1/messages", Self.anthropicChat(model: "claude"), headers: Self.anthropicHeaders)
            #expect(anthropic.status == 529)
            #expect(try anthropic.json()[path: "type"] == .string("error"))
            #expect(try anthropic.json()[path: "error", "type"] == .string("overloaded_error"))
        }
    }

    @Test("Scripted replies are consumed in order per model, then from the queue for all models")
    func scriptedReplies() async throws {
        try await MockModelServer.withRunning { server in
            server.script.enqueue(.reply("first"), .toolCall(name: "lookup", arguments: #"{"id": 7}"#), .json(#"{"broken": "#), model: "a")
            server.script.enqueue(.reply("for anyone"))
            func content(_ model: String) async throws -> JSONValue? {
                try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: model)).json()[path: "choices", 0, "message"]
            }
            #expect(try await content("b")?[path: "content"] == .string("for anyone"))
            #expect(try await content("a")?[path: "content"] == .string("first"))
            let call = try await content("a")
            #expect(call?[path: "tool_calls", 0, "function", "name"] == .string("lookup"))
            #expect(call?[path: "tool_calls", 0, "function", "arguments"] == .string(#"{"id": 7}"#))
            #expect(try await content("a")?[path: "content"] == .string(#"{"broken": "#))
            #expect(try await content("a")?[path: "content"] == .string("Mock reply to: Hello"))
        }
    }

    @Test("hang: the client's timeout fires, and the server goes on serving")
    func hang() async throws {
        try await MockModelServer.withRunning { server in
            server.script.enqueue(.hang, model: "gpt-4o")
            let started = ContinuousClock.now
            await #expect(throws: HTTPClientError.deadlineExceeded) {
                // Long enough for a loaded machine to deliver the request before the deadline.
                _ = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"), timeout: .seconds(3))
            }
            #expect(ContinuousClock.now - started >= .seconds(3))
            #expect(server.script.requestCount(model: "gpt-4o") == 1)
            let next = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
            #expect(next.status == 200)
        }
    }

    @Test("Stopping the server ends a hung request, so nothing outlives it")
    func stopEndsHang() async throws {
        let script = MockScript()
        script.setFault(.hang, model: "gpt-4o")
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await MockModelServer.withRunning(script: script) { server in
                group.addTask {
                    // The client would wait 30 s; the server's stop must end the request well before.
                    await #expect(throws: (any Error).self) {
                        _ = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"), timeout: .seconds(30))
                    }
                }
                try await eventually("the mock to count the request", timeout: .seconds(30)) { script.requestCount(model: "gpt-4o") == 1 }
            }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("reset: the client sees a connection error, not a response")
    func reset() async throws {
        try await MockModelServer.withRunning { server in
            server.script.enqueue(.reset, model: "gpt-4o")
            do {
                let response = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
                Issue.record("a reset connection answered \(response.status)")
            } catch let error as IOError {
                // RST rather than FIN: the client's read fails instead of ending.
                #expect(error.errnoCode == ECONNRESET)
            } catch {
                Issue.record("expected a connection reset, got \(String(reflecting: error))")
            }
            let next = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
            #expect(next.status == 200)
        }
    }

    @Test("cutStream: the stream stops after n content chunks, without [DONE] or message_stop")
    func cutStream() async throws {
        try await MockModelServer.withRunning { server in
            server.script.enqueue(.cutStream(afterChunks: 2), model: "gpt-4o")
            let openAI = try await sendExpectingCut(
                "\(server.baseURL)/v1/chat/completions",
                #"{"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "a b c d e"}]}"#
            )
            let chunks = try openAI.map { try $0.json() }
            #expect(!openAI.contains { $0.data == "[DONE]" })
            #expect(chunks.compactMap { $0[path: "choices", 0, "delta", "content"]?.string }.filter { !$0.isEmpty } == ["Mock", " reply"])

            server.script.enqueue(.cutStream(afterChunks: 1), model: "claude")
            let anthropic = try await sendExpectingCut(
                "\(server.baseURL)/v1/messages",
                #"{"model": "claude", "max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "a b c"}]}"#,
                headers: Self.anthropicHeaders
            )
            #expect(anthropic.filter { $0.name == "content_block_delta" }.count == 1)
            #expect(!anthropic.contains { $0.name == "message_stop" || $0.name == "message_delta" })

            // A complete response is cut mid-body.
            server.script.enqueue(.cutStream(afterChunks: 0), model: "gpt-4o")
            await #expect(throws: (any Error).self) {
                _ = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
            }
            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o")).status == 200)
        }
    }

    @Test("A persistent fault answers every request to its model until cleared; counters show who got traffic")
    func persistentFaultAndCounters() async throws {
        try await MockModelServer.withRunning { server in
            server.script.setFault(.fail(status: 503), model: "primary")
            for _ in 0..<3 {
                #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "primary")).status == 503)
            }
            let forwarded = #"""
                {"model": "backup", "messages": [{"role": "user", "content": "Hello"}],
                 "response_format": {"type": "json_object"}, "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"}
                """#
            #expect(
                try await send("\(server.baseURL)/v1/chat/completions", forwarded, headers: [("Authorization", "Bearer sk-backup")]).status == 200
            )
            #expect(server.script.requestCount(model: "primary") == 3)
            #expect(server.script.requestCount(model: "backup") == 1)
            #expect(server.script.requestCount(model: "unused") == 0)
            #expect(server.script.requestCounts == ["primary": 3, "backup": 1])

            let last = try #require(server.script.lastRequest(model: "backup"))
            #expect(last.method == "POST")
            #expect(last.uri == "/v1/chat/completions")
            #expect(last.header("authorization") == "Bearer sk-backup")
            #expect(last.json?[path: "response_format", "type"] == .string("json_object"))
            #expect(last.json?[path: "tools", 0, "function", "name"] == .string("f"))

            server.script.clearFault(model: "primary")
            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "primary")).status == 200)

            // A fault for all models wins over queued steps, and a model's own fault over it.
            server.script.setFault(.fail(status: 500))
            server.script.setFault(.fail(status: 502), model: "primary")
            server.script.enqueue(.reply("queued"), model: "backup")
            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "backup")).status == 500)
            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "primary")).status == 502)
            server.script.clearFault()
            let queued = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "backup"))
            #expect(try queued.json()[path: "choices", 0, "message", "content"] == .string("queued"))
        }
    }

    @Test("Latency: the first byte waits, and each streamed chunk waits")
    func latency() async throws {
        try await MockModelServer.withRunning { server in
            server.script.setLatency(MockLatency(firstByte: .milliseconds(300)), model: "slow")
            var started = ContinuousClock.now
            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "slow")).status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(300))

            server.script.setLatency(MockLatency(perChunk: .milliseconds(60)), model: "slow")
            started = ContinuousClock.now
            let stream = try await send(
                "\(server.baseURL)/v1/chat/completions",
                #"{"model": "slow", "stream": true, "messages": [{"role": "user", "content": "one two"}]}"#
            )
            // Five content chunks ("Mock reply to: one two").
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            #expect(try #require(stream.events()).last?.data == "[DONE]")
        }
    }

    // MARK: Script over HTTP, credentials, Azure

    @Test("The script over HTTP: POST /mock/script queues, faults and keys; GET /mock/requests counts; DELETE resets")
    func scriptOverHTTP() async throws {
        try await MockModelServer.withRunning { server in
            let update = #"""
                {"requiredAPIKey": "sk-mock",
                 "steps": {"gpt-4o": [{"type": "reply", "text": "Scripted"}, {"type": "toolCall", "name": "f", "arguments": {"x": 1}}],
                           "*": [{"type": "fail", "status": 429, "retryAfter": 3}]},
                 "faults": {"down": {"type": "fail", "status": 503}},
                 "latency": {"gpt-4o": {"firstByteMs": 0, "perChunkMs": 0}}}
                """#
            #expect(try await send("\(server.baseURL)/mock/script", update).status == 204)
            let key = [("Authorization", "Bearer sk-mock")]

            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o")).status == 401)
            let reply = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"), headers: key)
            #expect(try reply.json()[path: "choices", 0, "message", "content"] == .string("Scripted"))
            let call = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"), headers: key)
            #expect(try call.json()[path: "choices", 0, "message", "tool_calls", 0, "function", "arguments"] == .string(#"{"x":1}"#))
            let limited = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "other"), headers: key)
            #expect(limited.status == 429 && limited.headers.first(name: "retry-after") == "3")
            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "down"), headers: key).status == 503)

            let log = try JSONDecoder().decode(
                MockRequestLog.self,
                from: Data(try await send("\(server.baseURL)/mock/requests", method: .GET).body.utf8)
            )
            #expect(log.counts == ["gpt-4o": 3, "other": 1, "down": 1])
            #expect(log.lastRequests["gpt-4o"]?.headers["authorization"] == "Bearer sk-mock")
            #expect(log.lastRequests["gpt-4o"]?.body[path: "model"] == .string("gpt-4o"))

            // The JSON shape is the one MockScriptUpdate encodes.
            let typed = MockScriptUpdate(requiredAPIKey: .anyKey, steps: ["gpt-4o": [.cutStream(afterChunks: 1)]], faults: ["down": nil])
            #expect(try await send("\(server.baseURL)/mock/script", String(decoding: try JSONEncoder().encode(typed), as: UTF8.self)).status == 204)
            #expect(server.script.requiredAPIKey == nil)
            #expect(try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "down")).status == 200)

            #expect(try await send("\(server.baseURL)/mock/script", #"{"steps": {"x": [{"type": "explode"}]}}"#).status == 400)
            #expect(try await send("\(server.baseURL)/mock/script", #"{"faults": {"x": {"type": "fail", "status": 200}}}"#).status == 400)

            #expect(try await send("\(server.baseURL)/mock/script", method: .DELETE).status == 204)
            #expect(server.script.requestCounts.isEmpty)
            let fresh = try await send(
                "\(server.baseURL)/v1/chat/completions",
                #"{"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}"#
            )
            #expect(try #require(fresh.events()).last?.data == "[DONE]")
        }
    }

    @Test("With a required key, requests without it get 401 in their dialect's shape and consume no step")
    func authentication() async throws {
        try await MockModelServer.withRunning(script: MockScript(requiredAPIKey: "sk-right")) { server in
            server.script.enqueue(.reply("kept"), model: "gpt-4o")
            let missing = try await send("\(server.baseURL)/v1/chat/completions", Self.chat(model: "gpt-4o"))
            #expect(missing.status == 401)
            #expect(try missing.json()[path: "error", "code"] == .string("invalid_api_key"))
            let wrong = try await send(
                "\(server.baseURL)/v1/chat/completions",
                Self.chat(model: "gpt-4o"),
                headers: [("Authorization", "Bearer sk-wrong")]
            )
            #expect(wrong.status == 401)
            let right = try await send(
                "\(server.baseURL)/v1/chat/completions",
                Self.chat(model: "gpt-4o"),
                headers: [("Authorization", "Bearer sk-right")]
            )
            #expect(try right.json()[path: "choices", 0, "message", "content"] == .string("kept"))
            #expect(server.script.requestCount(model: "gpt-4o") == 3)

            // The key in another dialect's header does not count.
            let anthropicWrongHeader = try await send(
                "\(server.baseURL)/v1/messages",
                Self.anthropicChat(model: "claude"),
                headers: [("anthropic-version", "2023-06-01"), ("Authorization", "Bearer sk-right")]
            )
            #expect(anthropicWrongHeader.status == 401)
            #expect(try anthropicWrongHeader.json()[path: "error", "type"] == .string("authentication_error"))
            let anthropic = try await send(
                "\(server.baseURL)/v1/messages",
                Self.anthropicChat(model: "claude"),
                headers: [("anthropic-version", "2023-06-01"), ("x-api-key", "sk-right")]
            )
            #expect(anthropic.status == 200)

            let azure = "\(server.baseURL)/openai/deployments/prod-gpt/chat/completions?api-version=2024-10-21"
            #expect(try await send(azure, Self.chat(model: nil), headers: [("Authorization", "Bearer sk-right")]).status == 401)
            #expect(try await send(azure, Self.chat(model: nil), headers: [("api-key", "sk-right")]).status == 200)
            #expect(try await send("\(server.baseURL)/v1/models", method: .GET).status == 401)
        }
    }

    @Test("Azure: the deployment names the model, api-version is required")
    func azure() async throws {
        try await MockModelServer.withRunning { server in
            let base = "\(server.baseURL)/openai/deployments/eu-gpt-4o"
            let response = try await send("\(base)/chat/completions?api-version=2024-10-21", Self.chat(model: nil), headers: [("api-key", "k")])
            #expect(response.status == 200)
            #expect(try response.json()[path: "model"] == .string("eu-gpt-4o"))
            #expect(server.script.requestCount(model: "eu-gpt-4o") == 1)
            #expect(server.script.lastRequest(model: "eu-gpt-4o")?.header("api-key") == "k")

            let missing = try await send("\(base)/chat/completions", Self.chat(model: nil))
            #expect(missing.status == 400)
            #expect(try missing.json()[path: "error", "message"] == .string("Missing required query parameter 'api-version'."))
            #expect(server.script.requestCount(model: "eu-gpt-4o") == 1)

            let embeddings = try await send("\(base)/embeddings?api-version=2024-10-21", #"{"input": "hello", "dimensions": 8}"#)
            #expect(try embeddings.json()[path: "data", 0, "embedding"]?.arrayElements?.count == 8)

            server.script.setFault(.fail(status: 500), model: "eu-gpt-4o")
            #expect(try await send("\(base)/chat/completions?api-version=2024-10-21", Self.chat(model: nil)).status == 500)
        }
    }

    // MARK: Embeddings and models

    @Test("Embeddings: deterministic unit vectors, 384 dimensions unless asked, one per input in order")
    func embeddings() async throws {
        try await MockModelServer.withRunning { server in
            func vectors(_ body: String) async throws -> [[Double]] {
                let json = try await send("\(server.baseURL)/v1/embeddings", body).json()
                #expect(json[path: "object"] == .string("list"))
                let data = try #require(json[path: "data"]?.arrayElements)
                for (index, item) in data.enumerated() {
                    #expect(item[path: "index"] == .number(Double(index)))
                    #expect(item[path: "object"] == .string("embedding"))
                }
                return try data.map { item in
                    let vector = item[path: "embedding"]?.arrayElements?.compactMap { $0.number }
                    return try #require(vector)
                }
            }
            let single = try await vectors(#"{"model": "text-embedding-3-small", "input": "alpha"}"#)
            #expect(single.count == 1 && single[0].count == 384)
            let batch = try await vectors(#"{"model": "text-embedding-3-small", "input": ["beta", "alpha"]}"#)
            #expect(batch[1] == single[0])
            #expect(batch[0] != batch[1])
            for vector in batch {
                #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
            }
            let narrow = try await vectors(#"{"model": "text-embedding-3-small", "input": "alpha", "dimensions": 16}"#)
            #expect(narrow[0].count == 16)
            #expect(abs(narrow[0].reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)

            // base64, as OpenAI's SDKs ask by default: the same vector as little-endian float32s.
            let encoded = try await send(
                "\(server.baseURL)/v1/embeddings",
                #"{"model": "text-embedding-3-small", "input": "alpha", "dimensions": 16, "encoding_format": "base64"}"#
            )
            let base64 = try #require(try encoded.json()[path: "data", 0, "embedding"]?.string)
            let bytes = try #require(Data(base64Encoded: base64))
            let floats = stride(from: 0, to: bytes.count, by: 4).map { offset in
                Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            #expect(floats.map(Double.init) == narrow[0].map { Double(Float($0)) })

            #expect(try await send("\(server.baseURL)/v1/embeddings", #"{"model": "e", "input": [1, 2]}"#).status == 400)
            #expect(try await send("\(server.baseURL)/v1/embeddings", #"{"model": "e", "input": "x", "dimensions": 0}"#).status == 400)
        }
    }

    @Test("GET /v1/models lists the models the script knows")
    func models() async throws {
        try await MockModelServer.withRunning { server in
            server.script.enqueue(.reply("x"), model: "gpt-4o")
            let json = try await send("\(server.baseURL)/v1/models", method: .GET).json()
            #expect(json[path: "object"] == .string("list"))
            #expect(json[path: "data", 0, "id"] == .string("gpt-4o"))
            #expect(json[path: "data", 0, "object"] == .string("model"))
        }
    }

    // MARK: Fixtures

    static let anthropicHeaders = [("x-api-key", "sk-ant"), ("anthropic-version", "2023-06-01")]

    static func chat(model: String?) -> String {
        let model = model.map { #""model": "\#($0)", "# } ?? ""
        return #"{\#(model)"messages": [{"role": "user", "content": "Hello"}]}"#
    }

    static func anthropicChat(model: String) -> String {
        #"{"model": "\#(model)", "max_tokens": 100, "messages": [{"role": "user", "content": "Hello"}]}"#
    }

    /// Nested objects, arrays with minItems, enums, const, bounds, a `$ref` into `$defs`, and a
    /// required name with no schema.
    static let tripSchema = #"""
        {"type": "object",
         "properties": {
           "destination": {"type": "string", "minLength": 6},
           "class": {"type": "string", "enum": ["economy", "business"]},
           "nights": {"type": "integer", "minimum": 2, "maximum": 14},
           "budget": {"type": "number", "exclusiveMinimum": 100},
           "refundable": {"type": "boolean"},
           "currency": {"const": "EUR"},
           "travellers": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/traveller"}},
           "notes": {"type": ["string", "null"], "maxLength": 2}
         },
         "required": ["destination", "travellers", "reference"],
         "$defs": {
           "traveller": {"type": "object",
                         "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18},
                                        "seat": {"type": "object", "properties": {"row": {"type": "integer", "exclusiveMinimum": 0}}}},
                         "required": ["name", "age"]}
         }}
        """#

    static func expectValidTrip(_ trip: JSONValue) throws {
        #expect(try #require(trip[path: "destination"]?.string).count >= 6)
        #expect(trip[path: "class"] == .string("economy"))
        #expect(trip[path: "nights"] == .number(2))
        #expect(try #require(trip[path: "budget"]?.number) > 100)
        #expect(trip[path: "refundable"] == .bool(false))
        #expect(trip[path: "currency"] == .string("EUR"))
        #expect(try #require(trip[path: "notes"]?.string).count <= 2)
        #expect(trip[path: "reference"] != nil)
        let travellers = try #require(trip[path: "travellers"]?.arrayElements)
        #expect(travellers.count == 2)
        for traveller in travellers {
            #expect(traveller[path: "name"]?.string != nil)
            #expect(try #require(traveller[path: "age"]?.number) >= 18)
            #expect(try #require(traveller[path: "seat", "row"]?.number) >= 1)
        }
    }
}

// MARK: - HTTP helpers

private struct ReceivedResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: String

    func json() throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(body.utf8))
    }

    /// The body read as server-sent events; `nil` when it does not end with a complete event.
    func events() -> [ReceivedEvent]? {
        guard body.hasSuffix("\n\n") else { return nil }
        return ReceivedEvent.parse(body)
    }
}

private struct ReceivedEvent {
    var name: String?
    var data: String

    func json() throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))
    }

    /// Complete events (those followed by a blank line) in `text`.
    static func parse(_ text: String) -> [ReceivedEvent] {
        var events: [ReceivedEvent] = []
        var blocks = text.components(separatedBy: "\n\n")
        blocks.removeLast()  // what follows the last blank line is not a complete event
        for block in blocks where !block.isEmpty {
            var event = ReceivedEvent(name: nil, data: "")
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { event.data += line.dropFirst(6) }
            }
            events.append(event)
        }
        return events
    }
}

private func send(
    _ url: String,
    _ body: String? = nil,
    method: HTTPMethod = .POST,
    headers: [(String, String)] = [],
    timeout: TimeAmount = .seconds(60)
) async throws -> ReceivedResponse {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers.add(contentsOf: headers)
    if let body {
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: timeout)
    let bytes = try await response.body.collect(upTo: 16 << 20)
    return ReceivedResponse(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
}

/// Streams a response the server cuts, returning the complete events received before the cut, and
/// records an issue unless the body ends in an error.
private func sendExpectingCut(_ url: String, _ body: String, headers: [(String, String)] = []) async throws -> [ReceivedEvent] {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(contentsOf: headers)
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    #expect(response.status == .ok)
    var received = ""
    do {
        for try await chunk in response.body {
            received += String(buffer: chunk)
        }
        Issue.record("the cut stream ended cleanly")
    } catch {
        // The connection closed before the chunked body's end: what a gateway sees from a dying upstream.
    }
    return ReceivedEvent.parse(received)
}

extension JSONValue {
    /// One step into a JSON document: an object's key or an array's index.
    fileprivate enum PathStep: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case key(String)
        case index(Int)

        init(stringLiteral value: String) { self = .key(value) }
        init(integerLiteral value: Int) { self = .index(value) }
    }

    /// The value at `path`; `nil` where a step is missing.
    fileprivate subscript(path path: PathStep...) -> JSONValue? {
        var node: JSONValue? = self
        for step in path {
            switch (node, step) {
            case (.object(let object)?, .key(let key)): node = object[key]
            case (.array(let array)?, .index(let index)): node = array.indices.contains(index) ? array[index] : nil
            default: return nil
            }
        }
        return node
    }

    fileprivate var arrayElements: [JSONValue]? {
        if case .array(let values) = self { values } else { nil }
    }
}
