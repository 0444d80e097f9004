import CairnEmbed
import CairnMockLLM
import Foundation
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
        let models = home + "/models"
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/all-MiniLM-L6-v2", withDestinationPath: try #require(Self.modelDirectory))
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

    static var sdkScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../scripts/openai-sdk-check.py").standardized.path
    }
}
