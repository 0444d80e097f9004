import CairnBench
import CairnEmbed
import Testing

@Suite("Embedding benchmark")
struct EmbeddingBenchmarkTests {
    @Test("Forward-pass FLOPs follow the model's matrix shapes: 22.41 MFLOP per token at length 128, 23.59 at 256")
    func forwardFLOPs() {
        #expect(EmbeddingBenchmark.forwardFLOPs(sequenceLength: 128) == 2_868_903_936)
        #expect(EmbeddingBenchmark.forwardFLOPs(sequenceLength: 256) == 6_039_797_760)
    }

    @Test(
        "A run counts the texts' tokens and FLOPs and relates its rate to the sgemm ceiling",
        .enabled(if: TestModel.isEnabled, TestModel.disabledReason)
    )
    func run() async throws {
        let embedder = try TestModel.embedder()
        let texts = ["The weather is lovely today.", String(repeating: "A longer passage about rivers and stones. ", count: 12), ""]
        let result = try await EmbeddingBenchmark(embedder: embedder).run(texts: texts, passes: 1, ceilingWindow: .milliseconds(20))
        let lengths = texts.map { embedder.tokenizer.encode($0).count }
        #expect(result.texts == 3 && result.tokens == lengths.reduce(0, +))
        #expect(result.modelFLOPs == lengths.map { EmbeddingBenchmark.forwardFLOPs(sequenceLength: $0) }.reduce(0, +))
        #expect(result.ceilingGFLOPS > 0 && result.seconds > 0)
        #expect(abs(result.tokensPerSecond * result.seconds - Double(result.tokens)) < 1e-6)
        #expect(abs(result.ratioToCeiling - result.modelGFLOPS / result.ceilingGFLOPS) < 1e-12)
    }
}
