import AsyncHTTPClient
import CairnMockLLM
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The gateway's administration in the shipped binary: the master key's settings, and `cairn
/// serve` wired to the stored catalog and stored credentials.
@Suite("Gateway administration through the cairn process", .serialized)
struct GatewayAdminProcessTests {
    let home = CairnProcess.temporaryHome()

    static func randomKey() -> String { Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }

    @Test("The master key comes from CAIRN_MASTER_KEY or a file and shows redacted; a malformed one stops cairn with a sentence")
    func masterKeySettings() async throws {
        let key = Self.randomKey()
        let shown = try await CairnProcess.run(["config"], environment: ["CAIRN_HOME": home, "CAIRN_MASTER_KEY": key])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("CAIRN_MASTER_KEY=<redacted>"))
        #expect(!shown.stdout.contains(key) && !shown.stderr.contains(key))

        let file = home + "/master.key"
        try (key + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try await CairnProcess.run(["config"], environment: ["CAIRN_HOME": home, "CAIRN_MASTER_KEY_FILE": file])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout.contains("CAIRN_MASTER_KEY_FILE=\(file)  # environment"))

        let failures: [([String: String], String)] = [
            (
                ["CAIRN_MASTER_KEY": Data(count: 16).base64EncodedString()],
                "error: CAIRN_MASTER_KEY: The master key must be the base64 text of exactly 32"
            ),
            (["CAIRN_MASTER_KEY": key, "CAIRN_MASTER_KEY_FILE": file], "error: Set CAIRN_MASTER_KEY or CAIRN_MASTER_KEY_FILE, not both."),
            (
                ["CAIRN_MASTER_KEY_FILE": home + "/absent.key"],
                "error: The master key file \(home)/absent.key (CAIRN_MASTER_KEY_FILE) cannot be read."
            ),
        ]
        for (environment, message) in failures {
            let failed = try await CairnProcess.run(["config"], environment: environment.merging(["CAIRN_HOME": home]) { _, new in new })
            #expect(failed.status == 1)
            #expect(failed.stderr.contains(message), "\(failed.stderr)")
        }
    }

    @Test("A platform catalog whose provider uses a stored credential is refused with a sentence (config checks what serve checks first)")
    func platformStoredCredential() async throws {
        let catalog = home + "/catalog.json"
        try """
        {"providers": [{"name": "shared", "kind": "openai", "base_url": "https://api.openai.test/v1", "credential": "stored:shared"}],
         "deployments": [{"name": "d", "provider": "shared", "model": "m"}]}
        """.write(toFile: catalog, atomically: true, encoding: .utf8)
        let refused = try await CairnProcess.run(["config"], environment: ["CAIRN_HOME": home, "CAIRN_GATEWAY_CATALOG": catalog])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("stored credentials belong to a tenant"), "\(refused.stderr)")
    }

    @Test("cairn serve routes a tenant's alias override at once and sends its stored credential upstream, sealed under the master key file")
    func servedOverride() async throws {
        let script = MockScript()
        try await MockModelServer.withRunning(script: script) { mock in
            let catalog = home + "/catalog.json"
            try """
            {"providers": [{"name": "mock", "kind": "mock", "base_url": "\(mock.baseURL)/v1"}],
             "deployments": [{"name": "platform-chat", "provider": "mock", "model": "platform-model"}],
             "aliases": [{"name": "chat", "strategy": "ordered", "deployments": ["platform-chat"]}]}
            """.write(toFile: catalog, atomically: true, encoding: .utf8)
            let keyFile = home + "/master.key"
            try Self.randomKey().write(toFile: keyFile, atomically: true, encoding: .utf8)
            let token = try await bootstrapTenant(home: home)
            let server = try await CairnProcess(
                serveWith: ["CAIRN_HOME": home, "CAIRN_GATEWAY_CATALOG": catalog, "CAIRN_MASTER_KEY_FILE": keyFile]
            )
            defer { server.stop() }
            func send(_ method: HTTPMethod, _ path: String, _ body: String) async throws -> (status: UInt, headers: HTTPHeaders) {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.port)\(path)")
                request.method = method
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                _ = try await response.body.collect(upTo: 1 << 20)
                return (response.status.code, response.headers)
            }
            let ask = #"{"model":"chat","messages":[{"role":"user","content":"Which deployment answers?"}],"max_tokens":8}"#
            #expect(try await send(.POST, "/openai/v1/chat/completions", ask).headers["x-cairn-deployment"] == ["platform-chat"])

            #expect(try await send(.PUT, "/v1/gateway/credentials/upstream", #"{"secret":"sk-served-1"}"#).status == 204)
            let provider = #"{"kind":"mock","baseURL":"\#(mock.baseURL)/v1","credential":"stored:upstream"}"#
            #expect(try await send(.PUT, "/v1/gateway/providers/own", provider).status == 201)
            #expect(try await send(.PUT, "/v1/gateway/deployments/own-chat", #"{"provider":"own","model":"tenant-model"}"#).status == 201)
            #expect(try await send(.PUT, "/v1/gateway/aliases/chat", #"{"deployments":["own-chat"]}"#).status == 201)

            #expect(try await send(.POST, "/openai/v1/chat/completions", ask).headers["x-cairn-deployment"] == ["own-chat"])
            #expect(script.lastRequest(model: "tenant-model")?.header("authorization") == "Bearer sk-served-1")
            #expect(!server.stderr.contains("sk-served-1"), "the stored secret must never be logged")
        }
    }
}
