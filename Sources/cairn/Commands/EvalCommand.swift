import ArgumentParser
import CairnCore
import CairnEmbed
import CairnSearch
import Foundation
import Logging

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure quality against public test collections.",
        subcommands: [Retrieval.self]
    )

    struct Retrieval: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rank a BEIR collection with Cairn's retrievers and score the rankings.",
            discussion: """
                DIR holds corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv. Passages are indexed exactly as documents' \
                chunks are (title and text; BM25 with k1 0.9, b 0.4; all-MiniLM-L6-v2 vectors; reciprocal-rank fusion). \
                Vectors are cached under CAIRN_HOME/cache, keyed by model and text hash, so a second run embeds nothing. \
                The last line reads: ndcg@10=… recall@100=… mrr@10=… queries=N
                """
        )

        @Option(help: "The BEIR folder.")
        var beir: String

        @Option(help: "train or test: which qrels file judges the queries.")
        var split: String = "test"

        @Option(help: "hybrid, lexical or vector.")
        var mode: String = "hybrid"

        func run(settings: Settings, logger: Logger) async throws {
            guard ["train", "test", "dev"].contains(split) else {
                throw CairnError(.invalidInput, "--split must be train, test or dev; '\(split.prefix(40))' is not.")
            }
            let mode: SearchMode = try parseChoice(mode, as: "a search mode")
            let dataset = try BEIRDataset(directory: URL(fileURLWithPath: beir), split: split)
            var embedder: CachedSentenceEmbedder?
            if mode != .lexical {
                let model = try LocalSentenceEmbedder(modelDirectory: settings.embeddingModelDirectory)
                embedder = try CachedSentenceEmbedder(model, directory: settings.cacheDirectory)
            }
            var corpusVectors: [[Float]]?
            var queryVectors: [[Float]]?
            if let embedder {
                corpusVectors = try await Self.embed(dataset.corpus.map(\.indexedText), with: embedder, what: "passages")
                queryVectors = try await Self.embed(dataset.queries.map(\.text), with: embedder, what: "queries")
            }

            var index = HybridIndex(dimension: embedder?.dimension)
            for (position, passage) in dataset.corpus.enumerated() {
                _ = index.insert(key: passage.id, text: passage.indexedText, vector: corpusVectors?[position])
            }
            var scores = RetrievalScores()
            for (position, query) in dataset.queries.enumerated() {
                let hits = index.search(text: query.text, vector: queryVectors?[position], mode: mode, k: 100, among: nil)
                scores.add(ranking: hits.map { index.key(of: $0.slot) }, judgements: dataset.judgements[query.id] ?? [:])
            }
            print("corpus=\(dataset.corpus.count) split=\(split) mode=\(mode.rawValue)")
            print(scores.summaryLine)
        }

        /// Embeds in batches, saying how far it got on standard error (a cold corpus takes minutes).
        private static func embed(_ texts: [String], with embedder: CachedSentenceEmbedder, what: String) async throws -> [[Float]] {
            var vectors: [[Float]] = []
            vectors.reserveCapacity(texts.count)
            for start in stride(from: 0, to: texts.count, by: 256) {
                vectors += try await embedder.embed(Array(texts[start..<min(start + 256, texts.count)]))
                FileHandle.standardError.write(Data("\rembedded \(vectors.count)/\(texts.count) \(what)".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            return vectors
        }
    }
}
