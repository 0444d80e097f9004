import CairnCore
import CairnEmbed
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The OpenAI-compatible embedder against an embeddings endpoint served on loopback.
@Suite("Remote embedder")
struct RemoteEmbedderTests {
    private struct Request: Decodable {
        let model: String
        let input: [String]
    }

    @Test("Vectors come back in input order, normalised; a wrong dimension, a 500 and a short answer are clear errors")
    func openAICompatibleEndpoint() async throws {
        let seen = Mutex<[String]>([])
        let router = Router()
        router.post("/v1/embeddings") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let decoded = try JSONDecoder().decode(Request.self, from: Data(body.readableBytesView))
            seen.withLock { $0.append("\(decoded.model) \(request.headers[.authorization] ?? "-") \(decoded.input.count)") }
            if decoded.input.contains("fail") { return Response(status: .internalServerError) }
            // Answered in reverse and unnormalised ([3, 4, i, 0]), as servers may.
            var items = decoded.input.indices.reversed().map { #"{"index":\#($0),"embedding":[3,4,\#($0),0]}"# }
            if decoded.input.contains("short") { items.removeLast() }
            let json = #"{"object":"list","data":[\#(items.joined(separator: ","))]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let base = "http://127.0.0.1:\(try #require(client.port))/v1"
            let embedder = try RemoteSentenceEmbedder(baseURL: base, model: "minilm-gpu", dimension: 4, apiKey: "secret")
            let texts = (0..<(RemoteSentenceEmbedder.batchSize + 2)).map { "text \($0)" }
            let vectors = try await embedder.embed(texts)
            #expect(vectors.count == texts.count)
            for (index, vector) in vectors.enumerated() {
                let position = Float(index % RemoteSentenceEmbedder.batchSize)
                let length = (25 + position * position).squareRoot()
                #expect(vector == [3 / length, 4 / length, position / length, 0])
            }
            #expect(seen.withLock { $0 } == ["minilm-gpu Bearer secret \(RemoteSentenceEmbedder.batchSize)", "minilm-gpu Bearer secret 2"])

            let narrow = try RemoteSentenceEmbedder(baseURL: base, model: "minilm-gpu", dimension: 3, apiKey: nil)
            await #expect(throws: CairnError.self) { _ = try await narrow.embed(["a"]) }
            do {
                _ = try await embedder.embed(["fail"])
                Issue.record("a 500 was taken as vectors")
            } catch let error as CairnError {
                #expect(error.code == .unavailable && error.message == "The embedding server answered HTTP 500.")
            }
            await #expect(throws: CairnError.self) { _ = try await embedder.embed(["short", "b"]) }
        }
        #expect(throws: CairnError.self) { _ = try RemoteSentenceEmbedder(baseURL: "ftp://x", model: "m", dimension: 4, apiKey: nil) }
    }
}
