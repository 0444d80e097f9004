import ArgumentParser
import CairnBench
import CairnCore
import CairnEmbed
import CairnRuntime
import CairnSearch
import Foundation
import Logging

/// `cairn bench search`: hybrid search latency over a large synthetic partition built from a
/// BEIR collection's real passages, queries and embeddings (see `SearchBenchmark`), and the
/// vector index's recall@10 against exact search. Embeddings come from the on-disk cache that
/// `cairn eval retrieval` fills, so a second run embeds nothing.
struct BenchSearch: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search latency over many chunks, and ANN recall against exact search."
    )

    @OptionGroup var logging: LoggingOptions

    @Option(help: "The BEIR folder whose passages and queries seed the corpus.")
    var beir: String

    @Option(help: "Chunks in the partition.")
    var chunks = 1_000_000

    @Option(help: "Queries timed per case (after 20 warm-up queries).")
    var queries = 300

    func run(settings: Settings, logger: Logger) async throws {
        guard (1_000...5_000_000).contains(chunks) else { throw CairnError(.invalidInput, "--chunks must be between 1,000 and 5,000,000.") }
        guard (10...5_000).contains(queries) else { throw CairnError(.invalidInput, "--queries must be between 10 and 5,000.") }
        let dataset = try BEIRDataset(directory: URL(fileURLWithPath: beir), split: "train")
        let model = try LocalSentenceEmbedder(modelDirectory: settings.embeddingModelDirectory)
        let embedder = try CachedSentenceEmbedder(model, directory: settings.cacheDirectory)
        let passages = dataset.corpus.map(\.indexedText)
        let queryTexts = dataset.queries.map(\.text)
        let passageVectors = try await embedder.embed(passages)
        let queryVectors = try await embedder.embed(queryTexts)

        // What a query costs the model, uncached: part of a search's latency, measured apart.
        var embedding: [Double] = []
        for query in queryTexts.prefix(50) {
            let began = ContinuousClock.now
            _ = try await model.embed([query])
            embedding.append((ContinuousClock.now - began).inSeconds * 1000)
        }
        embedding.sort()

        let benchmark = SearchBenchmark(passages: passages, passageVectors: passageVectors, queries: queryTexts, queryVectors: queryVectors)
        let result = benchmark.run(chunks: chunks, queryCount: min(queries, max(queryTexts.count - 20, 10))) { line in
            FileHandle.standardError.write(Data("\(line)\n".utf8))
        }
        print(
            String(
                format: "search build chunks=%d seconds=%.1f approximate=%@",
                result.chunks,
                result.buildSeconds,
                result.isApproximate ? "yes" : "no"
            )
        )
        print(
            String(
                format: "search hybrid filter=none p50_ms=%.2f p99_ms=%.2f target_p50_ms=20 target_p99_ms=100",
                result.unfiltered.p50,
                result.unfiltered.p99
            )
        )
        print(String(format: "search hybrid filter=30%% p50_ms=%.2f p99_ms=%.2f", result.filtered.p50, result.filtered.p99))
        print(String(format: "search query_embedding p50_ms=%.2f", embedding[embedding.count / 2]))
        print(String(format: "search ann recall@10=%.4f anchor=exact target=0.95", result.recallAt10))
    }
}
