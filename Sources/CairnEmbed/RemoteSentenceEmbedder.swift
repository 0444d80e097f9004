import AsyncHTTPClient
public import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// An OpenAI-compatible embeddings endpoint (`POST {base}/embeddings`): the scale-out path, a
/// GPU server running the same model (TEI, vLLM, Ollama) instead of the CPU in process.
///
/// Vectors are normalised here, whatever the server does, so that dot products stay cosines;
/// a server answering with another dimension than configured is refused rather than mixed into
/// an index built at this one.
public struct RemoteSentenceEmbedder: SentenceEmbedder {
    public let modelName: String
    public let dimension: Int
    private let endpoint: String
    private let apiKey: String?

    /// Texts per request: a few hundred keeps each request and its answer small.
    public static let batchSize = 128

    /// - Parameters:
    ///   - baseURL: the API base, e.g. `http://gpu-1:8080/v1`; `/embeddings` is appended.
    ///   - model: the model name to send, which is also the vector space's name Cairn records.
    public init(baseURL: String, model: String, dimension: Int, apiKey: String?) throws(CairnError) {
        guard let url = URL(string: baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CairnError(.misconfigured, "The embedding server's URL must be an http:// or https:// URL.")
        }
        guard (1...8192).contains(dimension) else { throw CairnError(.misconfigured, "The embedding dimension must be between 1 and 8192.") }
        endpoint = baseURL.hasSuffix("/") ? baseURL + "embeddings" : baseURL + "/embeddings"
        modelName = model
        self.dimension = dimension
        self.apiKey = apiKey
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for start in stride(from: 0, to: texts.count, by: Self.batchSize) {
            vectors += try await request(Array(texts[start..<min(start + Self.batchSize, texts.count)]))
        }
        return vectors
    }

    private struct Request: Encodable {
        let model: String
        let input: [String]
    }

    private struct Response: Decodable {
        struct Item: Decodable {
            let index: Int
            let embedding: [Float]
        }
        let data: [Item]
    }

    private func request(_ texts: [String]) async throws -> [[Float]] {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let apiKey { request.headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(Request(model: modelName, input: texts))))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        } catch {
            throw CairnError(.unavailable, "The embedding server cannot be reached.", underlying: error)
        }
        let body = try await response.body.collect(upTo: 256 << 20)
        guard response.status == .ok else {
            throw CairnError(.unavailable, "The embedding server answered HTTP \(response.status.code).")
        }
        let items: [Response.Item]
        do {
            items = try JSONDecoder().decode(Response.self, from: Data(body.readableBytesView)).data
        } catch {
            throw CairnError(.unavailable, "The embedding server's answer is not an OpenAI embeddings response.", underlying: error)
        }
        guard items.count == texts.count, Set(items.map(\.index)) == Set(texts.indices) else {
            throw CairnError(.unavailable, "The embedding server answered \(items.count) vectors for \(texts.count) texts.")
        }
        return try items.sorted { $0.index < $1.index }.map { item in
            guard item.embedding.count == dimension else {
                throw CairnError(
                    .misconfigured,
                    "The embedding server's vectors have \(item.embedding.count) dimensions, not the configured \(dimension)."
                )
            }
            let length = item.embedding.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            guard length.isFinite, length > 0 else { throw CairnError(.unavailable, "The embedding server answered a zero or non-finite vector.") }
            return item.embedding.map { $0 / length }
        }
    }
}
