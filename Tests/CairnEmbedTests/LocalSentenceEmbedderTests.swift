import CairnCore
import CairnEmbed
import Foundation
import Testing

@Suite("Local sentence embedder", .enabled(if: TestModel.isEnabled, TestModel.disabledReason))
struct LocalSentenceEmbedderTests {
    private static func dot(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }

    @Test("The published cosine similarities of all-MiniLM-L6-v2 are reproduced")
    func publishedCosines() async throws {
        let embedder = try TestModel.embedder()
        let vectors = try await embedder.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
        #expect(abs(Self.dot(vectors[0], vectors[1]) - 0.6660) <= 0.002)
        #expect(abs(Self.dot(vectors[0], vectors[2]) - 0.1046) <= 0.002)
        #expect(abs(Self.dot(vectors[1], vectors[2]) - 0.1411) <= 0.002)
    }

    @Test("Embeddings match the reference implementation to 1e-4 per component")
    func referenceEmbeddings() async throws {
        let embedder = try TestModel.embedder()
        let cases = try Fixtures.embeddingCases()
        let vectors = try await embedder.embed(cases.map(\.text))
        #expect(embedder.modelName == "sentence-transformers/all-MiniLM-L6-v2")
        for (fixture, vector) in zip(cases, vectors) {
            #expect(vector.count == 384 && embedder.dimension == 384)
            #expect(abs(Self.dot(vector, vector) - 1) < 1e-5)
            let expected = fixture.embedding ?? fixture.first8
            let difference = zip(expected, vector).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference <= 1e-4, "\(fixture.text.prefix(40).debugDescription) differs by \(difference)")
        }
    }

    @Test("A batch of texts of different lengths gives what each text gives alone")
    func batchEqualsSingle() async throws {
        let embedder = try TestModel.embedder()
        let texts = [
            "A man is playing a guitar.", "", String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 40),
            "Café naïve résumé — 東京 🎉 ΟΔΟΣ", "short",
        ]
        let batched = try await embedder.embed(texts)
        for (text, vector) in zip(texts, batched) {
            let single = try await embedder.embed([text])[0]
            let difference = zip(single, vector).map { abs($0 - $1) }.max() ?? .infinity
            #expect(difference <= 1e-6, "\(text.prefix(20).debugDescription) differs by \(difference)")
        }
        #expect(try await embedder.embed([]).isEmpty)
    }

    @Test("Token ids the model cannot take are refused as invalid input")
    func invalidTokenIDs() throws {
        let encoder = try TestModel.embedder().encoder
        expectCairnError(.invalidInput) { _ = try encoder.embed([[101, 30522, 102]]) }
        expectCairnError(.invalidInput) { _ = try encoder.embed([[]]) }
        expectCairnError(.invalidInput) { _ = try encoder.embed([Array(repeating: 1000, count: 513)]) }
    }
}
