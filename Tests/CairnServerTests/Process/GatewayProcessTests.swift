import AsyncHTTPClient
import CairnEmbed
import CairnMockLLM
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The gateway's front door as outside applications use it: the official `openai` Python SDK
/// against a real `cairn serve`, whose chat deployments are the `mock` provider over loopback.
@Suite("The gateway through the cairn process", .serialized)
struct GatewayProcessTests {
    let home = CairnProcess.temporaryHome()

    static var modelDirectory: String? { ProcessInfo.processInfo.environment["CAIRN_TEST_MODEL_DIR"] }

    /// A catalog whose alias `chat` routes to the mock at `baseURL`.
    static func catalog(mockURL: String) -> String {
        """
        {"providers": [{"name": "mock", "kind": "mock", "base_url": "\(mockURL)/v1", "credential": "env:CAIRN_TEST_MOCK_KEY"}],
         "deployments": [{"name": "mock-chat", "provider": "mock", "model": "mock-model",
                          "input_usd_per_million": 0.5, "output_usd_per_million": 1.5}],
         "aliases": [{"name": "chat", "strategy": "ordered", "deployments": ["mock-chat"]}]}
        """
    }

    @Test(
        "The official OpenAI Python SDK chats (plain and streamed), round-trips a tool call, gets schema-valid JSON, embeds with the local model and lists models",
        .enabled(if: modelDirectory != nil, "needs CAIRN_TEST_MODEL_DIR")
    )
    func openAIPythonSDK() async throws {
        try CairnProcess.linkModel(try #require(Self.modelDirectory), into: home)
        let script = MockScript(requiredAPIKey: "mock-upstream-key")
        try await MockModelServer.withRunning(script: script) { mock in
            let catalogPath = home + "/catalog.json"
            try Self.catalog(mockURL: mock.baseURL).write(toFile: catalogPath, atomically: true, encoding: .utf8)
            let env = ["CAIRN_HOME": home]
            #expect(try await CairnProcess.run(["tenant", "create", "northbank"], environment: env).status == 0)
            let created = try await CairnProcess.run(["key", "create", "--tenant", "northbank", "--role", "analyst"], environment: env)
            #expect(created.status == 0, "\(created.stderr)")
            let key = created.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let server = try await CairnProcess(
                serveWith: env.merging(["CAIRN_GATEWAY_CATALOG": catalogPath, "CAIRN_TEST_MOCK_KEY": "mock-upstream-key"]) { _, new in new }
            )
            defer { server.stop() }

            let (status, output) = try runTool(
                toolPath("python"),
                [Self.sdkScript, "chat", "local"],
                environment: ["OPENAI_BASE_URL": "http://127.0.0.1:\(server.port)/openai/v1", "OPENAI_API_KEY": key]
            )
            #expect(status == 0, "\(output)")
            struct Report: Decodable {
                let chat: String
                let stream: String
                let embeddings: [[Float]]
                let models: [String]
            }
            let report = try JSONDecoder().decode(Report.self, from: Data((output.split(separator: "\n").last ?? "").utf8))
            #expect(report.chat.hasPrefix("Mock reply to:"))
            #expect(report.stream == "Mock reply to: Stream the KYC refresh period please")
            #expect(report.models.contains("chat") && report.models.contains("local"))

            // The vectors are the native embedder's, to float precision.
            let native = try LocalSentenceEmbedder(modelDirectory: URL(fileURLWithPath: try #require(Self.modelDirectory)))
            let expected = try await native.embed(["The weather is lovely today.", "He drove to the stadium."])
            #expect(report.embeddings.count == 2)
            for (served, local) in zip(report.embeddings, expected) {
                #expect(served.count == 384)
                #expect(zip(served, local).allSatisfy { abs($0 - $1) < 1e-6 })
            }
            // Every chat call reached the mock with the configured upstream key.
            #expect(script.requestCount(model: "mock-model") >= 6)
            #expect(script.lastRequest(model: "mock-model")?.header("authorization") == "Bearer mock-upstream-key")
        }
    }

    @Test(
        "A provider secret appears in no log line, error, metrics page or API response, whatever is sent",
        .enabled(if: modelDirectory != nil, "needs CAIRN_TEST_MODEL_DIR")
    )
    func secretsNeverLeak() async throws {
        let canary = "sk-canary-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        try CairnProcess.linkModel(try #require(Self.modelDirectory), into: home)
        let script = MockScript(requiredAPIKey: canary)
        try await MockModelServer.withRunning(script: script) { mock in
            let catalogPath = home + "/catalog.json"
            try Self.catalog(mockURL: mock.baseURL).write(toFile: catalogPath, atomically: true, encoding: .utf8)
            let env = ["CAIRN_HOME": home, "CAIRN_LOG_LEVEL": "trace"]
            #expect(try await CairnProcess.run(["tenant", "create", "northbank"], environment: env).status == 0)
            let key =
                try await CairnProcess.run(["key", "create", "--tenant", "northbank", "--role", "analyst"], environment: env)
                .stdout.split(separator: "\n").last.map(String.init) ?? ""
            let server = try await CairnProcess(
                serveWith: env.merging(["CAIRN_GATEWAY_CATALOG": catalogPath, "CAIRN_TEST_MOCK_KEY": canary]) { _, new in new }
            )
            defer { server.stop() }
            let base = "http://127.0.0.1:\(server.port)"
            let chat = #"{"model":"chat","messages":[{"role":"user","content":"hello"}]}"#
            let tools =
                #"{"model":"chat","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#
            let schema =
                #"{"model":"chat","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"}}}}"#
            var responses: [String] = []
            func send(_ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:]) async throws {
                responses.append(
                    try await rawRequest(
                        method,
                        base + path,
                        body: body,
                        headers: ["Authorization": "Bearer \(key)"].merging(headers) { _, new in new }
                    )
                )
            }
            try await send("POST", "/openai/v1/chat/completions", chat)
            try await send("POST", "/openai/v1/chat/completions", chat.replacingOccurrences(of: "}]}", with: #"}],"stream":true}"#))
            try await send("POST", "/openai/v1/chat/completions", tools)
            try await send("POST", "/openai/v1/chat/completions", schema)
            try await send("POST", "/openai/v1/chat/completions", chat, headers: ["Cairn-Cache-TTL": "60"])
            try await send("POST", "/openai/v1/embeddings", #"{"model":"local","input":"hello"}"#)
            try await send("GET", "/openai/v1/models")
            try await send("POST", "/openai/v1/chat/completions", #"{"model":"nope","messages":[]}"#)
            try await send("POST", "/openai/v1/chat/completions", "{not json")
            // The upstream failing in every way it can: each failure is logged and answered.
            for fault in [MockStep.fail(status: 401), .fail(status: 500), .fail(status: 429, retryAfter: 1), .reset, .cutStream(afterChunks: 1)] {
                script.setFault(fault)
                try await send("POST", "/openai/v1/chat/completions", chat)
                try await send("POST", "/openai/v1/chat/completions", chat.replacingOccurrences(of: "}]}", with: #"}],"stream":true}"#))
            }
            script.clearFault()
            let metrics = try await rawRequest("GET", base + "/metrics", body: nil, headers: [:])
            #expect(metrics.contains("cairn_gateway_calls_total") && metrics.contains("cairn_gateway_cost_nanodollars_total"))
            responses.append(metrics)
            responses.append(try await rawRequest("GET", base + "/readyz", body: nil, headers: [:]))
            let config = try await CairnProcess.run(
                ["config"],
                environment: env.merging(["CAIRN_GATEWAY_CATALOG": catalogPath, "CAIRN_TEST_MOCK_KEY": canary]) { _, new in new }
            )

            #expect(script.requestCount(model: "mock-model") >= 10, "the calls reached the upstream with the secret")
            for (index, response) in responses.enumerated() {
                #expect(!response.contains(canary), "response \(index) carries the secret: \(response.prefix(300))")
            }
            #expect(!config.stdout.contains(canary) && !config.stderr.contains(canary))
            server.stop()
            #expect(server.stderr.contains("Model call attempt failed"), "the failure paths ran and were logged")
            #expect(!server.stderr.contains(canary), "the server's log carries the secret")
        }
    }

    static var sdkScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../scripts/openai-sdk-check.py").standardized.path
    }
}

/// One request over a fresh connection; the whole response — status line, headers and body —
/// as text.
private func rawRequest(_ method: String, _ url: String, body: String?, headers: [String: String]) async throws -> String {
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let collected = (try? await response.body.collect(upTo: 16 << 20)).map { String(buffer: $0) } ?? "<body broke off>"
    return "\(response.status.code)\n\(response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"))\n\n\(collected)"
}
