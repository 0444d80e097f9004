import AsyncHTTPClient
import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// The OpenAI dialect: OpenAI itself, Azure OpenAI, and the servers that copy the API (vLLM,
/// Ollama, llama.cpp server, TEI for embeddings), and Cairn's `mock` provider.
///
/// Requests go out nearly as they came in; the model becomes the deployment's, the output cap
/// is always set (the budget reservation assumed it), and streams always ask for usage (the
/// ledger needs it, whether or not the caller did).
public struct OpenAICompatibleProvider: ChatProvider, EmbeddingProvider {
    public init() {}

    public func complete(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatCompletion {
        var upstream = Self.upstreamRequest(request, for: target.deployment)
        upstream.stream = nil
        upstream.streamOptions = nil
        let http = try UpstreamHTTP.post(try url(target, path: "chat/completions"), json: upstream, headers: headers(target))
        var completion = try await UpstreamHTTP.sendJSON(http, on: target, as: ChatCompletion.self)
        completion.cairn = nil
        return completion
    }

    public func stream(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatChunkStream {
        var upstream = Self.upstreamRequest(request, for: target.deployment)
        upstream.stream = true
        upstream.streamOptions = .init(includeUsage: true)
        var http = try UpstreamHTTP.post(try url(target, path: "chat/completions"), json: upstream, headers: headers(target))
        http.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await UpstreamHTTP.send(http, on: target)
        return ChatChunkStream(body: response.body, deployment: target.deployment.name, translator: OpenAIStreamTranslator())
    }

    private struct EmbeddingsRequest: Encodable {
        let model: String
        let input: [String]
        let dimensions: Int?
    }

    private struct EmbeddingsResponse: Decodable {
        struct Item: Decodable {
            let index: Int
            let embedding: [Float]
        }
        struct Usage: Decodable {
            let promptTokens: Int?
            enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens" }
        }
        let data: [Item]
        let usage: Usage?
    }

    public func embed(_ texts: [String], dimensions: Int?, on target: DeploymentTarget) async throws(UpstreamFailure) -> EmbeddingResult {
        let body = EmbeddingsRequest(model: target.deployment.model, input: texts, dimensions: dimensions)
        let http = try UpstreamHTTP.post(try url(target, path: "embeddings"), json: body, headers: headers(target))
        let answer = try await UpstreamHTTP.sendJSON(http, on: target, as: EmbeddingsResponse.self)
        let ordered = answer.data.sorted { $0.index < $1.index }
        guard ordered.map(\.index) == Array(texts.indices) else {
            throw UpstreamFailure(
                .malformedResponse,
                deployment: target.deployment.name,
                detail: "\(answer.data.count) vectors for \(texts.count) inputs"
            )
        }
        // TEI and some servers omit usage; the byte count bounds the tokens from above.
        let tokens = answer.usage?.promptTokens ?? texts.reduce(0) { $0 + $1.utf8.count }
        return EmbeddingResult(vectors: ordered.map(\.embedding), promptTokens: tokens)
    }

    static func upstreamRequest(_ request: ChatRequest, for deployment: ModelDeployment) -> ChatRequest {
        var upstream = request
        upstream.model = deployment.model
        upstream.maxTokens = request.maxTokens ?? deployment.defaultMaxOutputTokens
        return upstream
    }

    private func url(_ target: DeploymentTarget, path: String) throws(UpstreamFailure) -> String {
        let base = target.provider.baseURL.hasSuffix("/") ? String(target.provider.baseURL.dropLast()) : target.provider.baseURL
        switch target.provider.kind {
        case .azureOpenAI:
            guard let version = target.provider.apiVersion,
                let deployment = target.deployment.model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])),
                let query = version.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)
            else {
                throw UpstreamFailure(.unavailable, deployment: target.deployment.name, detail: "an Azure OpenAI provider needs an api-version")
            }
            return "\(base)/openai/deployments/\(deployment)/\(path)?api-version=\(query)"
        default:
            return "\(base)/\(path)"
        }
    }

    private func headers(_ target: DeploymentTarget) -> [(String, String)] {
        guard let secret = target.secret else { return [] }
        return target.provider.kind == .azureOpenAI ? [("api-key", secret.value)] : [("Authorization", "Bearer \(secret.value)")]
    }
}

/// OpenAI's stream: `data: {chunk}` events, then `data: [DONE]`.
struct OpenAIStreamTranslator: UpstreamStreamTranslator {
    private var parser = ServerSentEventParser()
    private let decoder = JSONDecoder()

    mutating func consume(_ bytes: ByteBuffer) throws -> [UpstreamStreamStep] {
        try parser.parse(bytes.readableBytesView).map { event in
            if event.data == "[DONE]" { return .done }
            return .chunk(try decoder.decode(ChatCompletionChunk.self, from: Data(event.data.utf8)))
        }
    }
}
