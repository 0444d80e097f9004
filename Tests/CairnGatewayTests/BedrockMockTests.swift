import AsyncHTTPClient
import CairnAWS
import CairnCore
import CairnGateway
import CairnMockLLM
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// The gateway's Bedrock provider against the mock's Bedrock dialect over loopback HTTP: every
/// request is signed by the gateway and its SigV4 signature recomputed and checked by the mock.
@Suite("Bedrock Converse through the mock", .timeLimit(.minutes(1)))
struct BedrockMockTests {
    static let model = "anthropic.claude-3-haiku-20240307-v1:0"
    static let region = "eu-west-1"
    /// The key pair of the provider secret `AKIDEXAMPLE:secret`, which the mock verifies signatures against.
    static let signing = MockBedrockSigning(credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret"), region: region)

    /// Runs `body` with the mock checking signatures and a gateway whose alias `chat` routes to the Bedrock
    /// deployment `haiku` on it, the provider's secret being `secret`.
    static func withGateway(
        secret: String = "AKIDEXAMPLE:secret",
        _ body: @Sendable (ModelGateway, MockScript) async throws -> Void
    ) async throws {
        try await withTestStore(.sqlite) { store in
            try await MockModelServer.withRunning(script: MockScript(bedrockSigning: signing)) { mock in
                let provider = ModelProviderConfiguration(
                    name: "bedrock",
                    kind: .bedrock,
                    baseURL: mock.baseURL,
                    credential: .environment("AWS_TEST"),
                    region: region
                )
                // Generous, so that a loaded machine cannot time a call out; no test here waits on a timeout.
                let timeouts = DeploymentTimeouts(connect: .seconds(5), firstToken: .seconds(20), total: .seconds(30))
                let catalog = GatewayCatalog(
                    providers: [provider],
                    deployments: [ModelDeployment(name: "haiku", provider: "bedrock", model: model, timeouts: timeouts)],
                    aliases: [ModelAlias(name: "chat", deployments: ["haiku"])]
                )
                let pool = DeploymentPool(breakers: .init(failureThreshold: 3, cooldown: .seconds(1)))
                let gateway = ModelGateway(
                    catalogs: FixedGatewayCatalog(catalog),
                    pool: pool,
                    credentials: ProviderCredentials(environment: ["AWS_TEST": secret]),
                    localEmbedder: nil,
                    bookkeeping: GatewayBookkeeping(books: store.gatewayBooks, logger: Logger(label: "cairn.test.gateway")),
                    configuration: .init(retry: RetryPolicy(attemptsPerDeployment: 2, base: .milliseconds(1), cap: .milliseconds(5))),
                    logger: Logger(label: "cairn.test.gateway")
                )
                do {
                    try await body(gateway, mock.script)
                    try await pool.shutdown()
                } catch {
                    try? await pool.shutdown()
                    throw error
                }
            }
        }
    }

    static func ask(_ text: String = "What is the KYC refresh period?") -> ChatRequest {
        ChatRequest(model: "chat", messages: [ChatMessage(role: .user, content: text)], maxTokens: 64)
    }

    static var principal: Principal { GatewayFailoverTests.principal }

    // MARK: Through the gateway

    @Test("A Converse call is signed, verified by the mock, and answered with its text and usage")
    func converse() async throws {
        try await Self.withGateway { gateway, script in
            let answer = try await gateway.complete(Self.ask(), for: Self.principal)
            #expect(answer.message?.content == "Mock reply to: What is the KYC refresh period?")
            #expect(answer.choices.first?.finishReason == .stop)
            // Prompt: 6 words plus 3 for the message; completion: 9 words.
            #expect(answer.usage == TokenUsage(promptTokens: 9, completionTokens: 9))
            #expect(answer.cairn?.attempts == 1)

            let sent = try #require(script.lastRequest(model: Self.model), "the script is keyed by the decoded model id")
            #expect(sent.uri == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
            let authorization = sent.header("authorization") ?? ""
            #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
            #expect(authorization.contains("/eu-west-1/bedrock/aws4_request"))
        }
    }

    @Test("A ConverseStream call is verified too, and its event stream assembles into the reply, word by word, with usage")
    func converseStream() async throws {
        try await Self.withGateway { gateway, script in
            var request = Self.ask()
            request.stream = true
            request.streamOptions = .init(includeUsage: true)
            let received = try await Received(try await gateway.stream(request, for: Self.principal))
            #expect(received.failure == nil)
            #expect(received.textPieces == ["Mock", " reply", " to:", " What", " is", " the", " KYC", " refresh", " period?"])
            #expect(received.finishReasons == [.stop])
            #expect(received.usage == TokenUsage(promptTokens: 9, completionTokens: 9))
            #expect(script.lastRequest(model: Self.model)?.uri == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
        }
    }

    @Test("A tool call round trip: the mock calls the offered tool, complete and streamed, then answers from its result")
    func toolRoundTrip() async throws {
        try await Self.withGateway { gateway, script in
            var request = Self.ask("Find the KYC policy")
            let parameters = try ProviderTestSupport.json(
                #"{"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}}, "required": ["query"]}"#
            )
            request.tools = [ToolDefinition(function: .init(name: "search_policies", description: "Search the policies.", parameters: parameters))]

            let call = try await gateway.complete(request, for: Self.principal)
            #expect(call.choices.first?.finishReason == .toolCalls)
            let toolCall = try #require(call.message?.toolCalls?.first)
            #expect(toolCall.id == "tooluse_mock_1")
            #expect(toolCall.function.name == "search_policies")
            #expect(toolCall.function.arguments == #"{"limit":1,"query":"mock"}"#, "arguments synthesised from the tool's schema")

            var streamed = request
            streamed.stream = true
            let received = try await Received(try await gateway.stream(streamed, for: Self.principal))
            #expect(received.failure == nil)
            let streamedCall = ToolCall(id: "tooluse_mock_2", function: .init(name: "search_policies", arguments: #"{"limit":1,"query":"mock"}"#))
            #expect(received.toolCalls == [streamedCall])
            #expect(received.finishReasons == [.toolCalls])

            request.messages += [
                try #require(call.message),
                ChatMessage(role: .tool, content: "Policy KYC-7: reviewed every 12 months.", toolCallID: toolCall.id),
            ]
            let answer = try await gateway.complete(request, for: Self.principal)
            #expect(answer.message?.content == "The tool returned: Policy KYC-7: reviewed every 12 months.")
            #expect(answer.choices.first?.finishReason == .stop)

            // The mock got the call back as a toolUse block and its result as a toolResult block, under the mock's id.
            guard case .object(let sent)? = script.lastRequest(model: Self.model)?.json else {
                Issue.record("the follow-up is not a JSON object")
                return
            }
            let expected = try ProviderTestSupport.json(
                #"""
                [{"role": "user", "content": [{"text": "Find the KYC policy"}]},
                 {"role": "assistant", "content": [
                   {"toolUse": {"toolUseId": "tooluse_mock_1", "name": "search_policies", "input": {"limit": 1, "query": "mock"}}}]},
                 {"role": "user", "content": [
                   {"toolResult": {"toolUseId": "tooluse_mock_1", "content": [{"text": "Policy KYC-7: reviewed every 12 months."}]}}]}]
                """#
            )
            #expect(sent["messages"] == expected)
        }
    }

    @Test("Structured output: the gateway's forced json_response tool is called with a document its schema accepts")
    func structuredOutput() async throws {
        try await Self.withGateway { gateway, script in
            var request = Self.ask("Rate the risk")
            let schema = try ProviderTestSupport.json(
                #"{"type": "object", "properties": {"risk": {"enum": ["low", "high"]}}, "required": ["risk"], "additionalProperties": false}"#
            )
            request.responseFormat = .jsonSchema(.init(name: "risk", schema: schema))
            let answer = try await gateway.complete(request, for: Self.principal)
            #expect(answer.message?.content == #"{"risk":"low"}"#)
            #expect(answer.message?.toolCalls == nil)
            guard case .object(let sent)? = script.lastRequest(model: Self.model)?.json, case .object(let toolConfig)? = sent["toolConfig"] else {
                Issue.record("the request has no toolConfig")
                return
            }
            #expect(toolConfig["toolChoice"] == (try ProviderTestSupport.json(#"{"tool": {"name": "json_response"}}"#)))
        }
    }

    @Test("A call signed with the wrong secret is refused by the mock with 403, reaches no model, and the gateway reports the failure")
    func wrongSecret() async throws {
        try await Self.withGateway(secret: "AKIDEXAMPLE:not-the-secret") { gateway, script in
            let error = try await #require(throws: CairnError.self) { try await gateway.complete(Self.ask(), for: Self.principal) }
            #expect(error.code == .upstreamFailed)
            #expect(error.message.contains("HTTP 403"))
            let failure = try #require(error.underlying as? UpstreamFailure)
            #expect(failure.kind == .status(403))
            #expect(failure.detail.contains("SigV4 verification failed (signatureMismatch)"), "the mock names the failure: \(failure.detail)")

            var request = Self.ask()
            request.stream = true
            let streamError = try await #require(throws: CairnError.self) { try await gateway.stream(request, for: Self.principal) }
            #expect((streamError.underlying as? UpstreamFailure)?.kind == .status(403))
            #expect(script.requestCounts.isEmpty, "a refused signature reaches no model")
        }
    }

    @Test("A stream cut after two deltas ends with a failure after the words it carried")
    func cutStream() async throws {
        try await Self.withGateway { gateway, script in
            script.enqueue(.cutStream(afterChunks: 2), model: Self.model)
            var request = Self.ask()
            request.stream = true
            let received = try await Received(try await gateway.stream(request, for: Self.principal))
            #expect(received.textPieces == ["Mock", " reply"])
            #expect(received.failure?.code == .upstreamFailed)
        }
    }

    // MARK: Against the mock directly

    @Test("The mock recomputes the signature: a body changed after signing, no signature, or another region's gets 403")
    func signatureChecks() async throws {
        try await MockModelServer.withRunning(script: MockScript(bedrockSigning: Self.signing)) { mock in
            let url = "\(mock.baseURL)/model/\(SigV4Signer.percentEncodedPathSegment(Self.model))/converse"
            let body = #"{"messages": [{"role": "user", "content": [{"text": "Transfer 10 EUR"}]}]}"#
            let signed = try Self.signedHeaders(url: url, body: body)

            let intact = try await post(url, body: body, headers: signed)
            #expect(intact.status == 200)
            let output = try ProviderTestSupport.json(#"{"message": {"role": "assistant", "content": [{"text": "Mock reply to: Transfer 10 EUR"}]}}"#)
            #expect(try intact.json()["output"] == output)

            let tampered = try await post(url, body: body.replacingOccurrences(of: "10 EUR", with: "10000 EUR"), headers: signed)
            #expect(tampered.status == 403)
            #expect(tampered.headers.first(name: "x-amzn-errortype") == "InvalidSignatureException")
            let mismatch = "SigV4 verification failed (signatureMismatch): The request signature does not match."
            #expect(try tampered.json() == .object(["message": .string(mismatch)]))

            let unsigned = try await post(url, body: body, headers: [(name: "Content-Type", value: "application/json")])
            #expect(unsigned.status == 403)
            #expect(try unsigned.json()["message"]?.string?.contains("missingAuthorization") == true)

            let otherRegion = try await post(url, body: body, headers: try Self.signedHeaders(url: url, body: body, region: "us-east-1"))
            #expect(otherRegion.status == 403)
            #expect(try otherRegion.json()["message"]?.string?.contains("wrongCredentialScope") == true)

            #expect(mock.script.requestCounts == [Self.model: 1], "only the intact request reached the model")
        }
    }

    @Test("The script's required key is, for Bedrock, the access key id the signature names")
    func requiredAccessKey() async throws {
        try await MockModelServer.withRunning(script: MockScript(requiredAPIKey: "AKIDEXAMPLE", bedrockSigning: Self.signing)) { mock in
            let url = "\(mock.baseURL)/model/\(SigV4Signer.percentEncodedPathSegment(Self.model))/converse"
            let body = #"{"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}"#
            #expect(try await post(url, body: body, headers: try Self.signedHeaders(url: url, body: body)).status == 200)

            mock.script.requiredAPIKey = "AKIDOTHER"
            let refused = try await post(url, body: body, headers: try Self.signedHeaders(url: url, body: body))
            #expect(refused.status == 401)
            #expect(refused.headers.first(name: "x-amzn-errortype") == "UnrecognizedClientException")
        }
    }

    @Test(
        "Scripted failures and invalid requests come in Bedrock's error shape, named by x-amzn-errortype",
        arguments: [
            (429, "ThrottlingException"), (500, "InternalServerException"), (503, "ServiceUnavailableException"), (400, "ValidationException"),
        ]
    )
    func errorShapes(status: Int, type: String) async throws {
        try await MockModelServer.withRunning(script: MockScript(bedrockSigning: Self.signing)) { mock in
            let url = "\(mock.baseURL)/model/\(SigV4Signer.percentEncodedPathSegment(Self.model))/converse"
            let body = #"{"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}"#
            mock.script.enqueue(.fail(status: status), model: Self.model)
            let failed = try await post(url, body: body, headers: try Self.signedHeaders(url: url, body: body))
            #expect(failed.status == status)
            #expect(failed.headers.first(name: "x-amzn-errortype") == type)
            #expect(try failed.json() == .object(["message": .string("Scripted failure: HTTP \(status).")]))

            let invalid = #"{"messages": [{"role": "assistant", "content": [{"text": "Hi"}]}]}"#
            let refused = try await post(url, body: invalid, headers: try Self.signedHeaders(url: url, body: invalid))
            #expect(refused.status == 400)
            #expect(refused.headers.first(name: "x-amzn-errortype") == "ValidationException")
            #expect(try refused.json()["message"] == .string("A conversation must start with a user message."))
        }
    }

    /// The headers that sign a POST of `body` to `url`, as the Bedrock provider signs it.
    static func signedHeaders(url: String, body: String, region: String = BedrockMockTests.region) throws -> [(name: String, value: String)] {
        let headers = [(name: "Content-Type", value: "application/json")]
        let signer = SigV4Signer(credentials: signing.credentials, region: region, service: "bedrock")
        let address = try #require(URL(string: url))
        return headers + signer.signedHeaders(method: "POST", url: address, headers: headers, body: Array(body.utf8), date: Date())
    }
}

// MARK: - Helpers

/// What a gateway stream delivered, read as an OpenAI client reads it.
private struct Received {
    var textPieces: [String] = []
    var toolCalls: [ToolCall] = []
    var finishReasons: [FinishReason] = []
    var failure: CairnError?
    var usage: TokenUsage?

    init(_ stream: GatewayChatStream) async throws {
        var pieces: [String] = []
        var calls: [ToolCall] = []
        var finishReasons: [FinishReason] = []
        var failure: CairnError?
        let outcome = try await stream.deliver { event in
            switch event {
            case .chunk(let chunk):
                for choice in chunk.choices {
                    if let text = choice.delta.content, !text.isEmpty { pieces.append(text) }
                    // The first delta of a call names it; the others append to its arguments.
                    for delta in choice.delta.toolCalls ?? [] {
                        if let id = delta.id, let name = delta.function?.name {
                            calls.append(ToolCall(id: id, function: .init(name: name, arguments: delta.function?.arguments ?? "")))
                        } else if !calls.isEmpty {
                            calls[calls.count - 1].function.arguments += delta.function?.arguments ?? ""
                        }
                    }
                    if let reason = choice.finishReason { finishReasons.append(reason) }
                }
            case .failure(let error):
                failure = error
            }
        }
        self.textPieces = pieces
        self.toolCalls = calls
        self.finishReasons = finishReasons
        self.failure = failure
        self.usage = outcome.usage
    }
}

private struct Response {
    var status: Int
    var headers: HTTPHeaders
    var body: String

    /// The body parsed as JSON.
    func json() throws -> JSONValue {
        try ProviderTestSupport.json(body)
    }
}

private func post(_ url: String, body: String, headers: [(name: String, value: String)]) async throws -> Response {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    for header in headers {
        request.headers.add(name: header.name, value: header.value)
    }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    return Response(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
}

extension JSONValue {
    /// An object's member; `nil` for a missing key or a value that is not an object.
    fileprivate subscript(_ key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }
}
