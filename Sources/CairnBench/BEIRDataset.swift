public import CairnCore
import CairnSearch
public import Foundation

/// A retrieval test collection in BEIR's layout: `corpus.jsonl` (`_id`, `title`, `text`),
/// `queries.jsonl` (`_id`, `text`) and `qrels/SPLIT.tsv` (`query-id`, `corpus-id`, `score`,
/// after a header line).
public struct BEIRDataset: Sendable {
    public struct Passage: Sendable, Decodable {
        public let id: String
        public let title: String
        public let text: String

        enum CodingKeys: String, CodingKey {
            case id = "_id"
            case title, text
        }

        /// What is indexed and embedded: the title, then the text (as BEIR's evaluations do).
        public var indexedText: String { title.isEmpty ? text : "\(title) \(text)" }
    }

    public struct Query: Sendable, Decodable {
        public let id: String
        public let text: String

        enum CodingKeys: String, CodingKey {
            case id = "_id"
            case text
        }
    }

    public let corpus: [Passage]
    /// The queries that have judgements in the split, in file order.
    public let queries: [Query]
    /// Relevance grades by query id, then passage id.
    public let judgements: [String: [String: Int]]

    public init(directory: URL, split: String) throws(CairnError) {
        let corpusFile = directory.appendingPathComponent("corpus.jsonl")
        let queriesFile = directory.appendingPathComponent("queries.jsonl")
        let qrelsFile = directory.appendingPathComponent("qrels/\(split).tsv")
        corpus = try Self.lines(corpusFile, as: Passage.self)
        var judgements: [String: [String: Int]] = [:]
        for (number, line) in try Self.text(qrelsFile).split(separator: "\n").enumerated() where number > 0 {
            let fields = line.split(separator: "\t")
            guard fields.count >= 3, let grade = Int(fields[2].trimmingCharacters(in: .whitespaces)) else {
                throw CairnError(
                    .invalidInput,
                    "Line \(number + 1) of \(qrelsFile.lastPathComponent) is not query-id, corpus-id and score separated by tabs."
                )
            }
            judgements[String(fields[0]), default: [:]][String(fields[1])] = grade
        }
        self.judgements = judgements
        queries = try Self.lines(queriesFile, as: Query.self).filter { judgements[$0.id] != nil }
        guard !queries.isEmpty else { throw CairnError(.invalidInput, "No query in queries.jsonl has judgements in qrels/\(split).tsv.") }
    }

    private static func text(_ file: URL) throws(CairnError) -> String {
        do {
            return try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw CairnError(.notFound, "\(file.path) cannot be read as UTF-8 text.", underlying: error)
        }
    }

    private static func lines<Item: Decodable>(_ file: URL, as type: Item.Type) throws(CairnError) -> [Item] {
        let decoder = JSONDecoder()
        var items: [Item] = []
        for (number, line) in try text(file).split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
            do {
                items.append(try decoder.decode(Item.self, from: Data(line.utf8)))
            } catch {
                throw CairnError(.invalidInput, "Line \(number + 1) of \(file.lastPathComponent) is not a BEIR record.", underlying: error)
            }
        }
        return items
    }
}

/// nDCG@10, recall@100 and MRR@10 over a set of queries, as BEIR (pytrec_eval) computes them.
public struct RetrievalScores: Sendable, Equatable {
    public private(set) var ndcgAt10 = 0.0
    public private(set) var recallAt100 = 0.0
    public private(set) var mrrAt10 = 0.0
    public private(set) var queries = 0

    public init() {}

    /// Adds one query's ranking (best first) judged against its relevance grades.
    public mutating func add(ranking: [String], judgements: [String: Int]) {
        let relevant = judgements.filter { $0.value > 0 }
        var dcg = 0.0
        for (position, id) in ranking.prefix(10).enumerated() {
            let grade = Double(judgements[id] ?? 0)
            if grade > 0 { dcg += (pow(2, grade) - 1) / log2(Double(position) + 2) }
        }
        let ideal = relevant.values.sorted(by: >).prefix(10).enumerated().reduce(0.0) { sum, item in
            sum + (pow(2, Double(item.element)) - 1) / log2(Double(item.offset) + 2)
        }
        let found = ranking.prefix(100).filter { relevant[$0] != nil }.count
        let firstHit = ranking.prefix(10).firstIndex { relevant[$0] != nil }
        let n = Double(queries)
        ndcgAt10 = (ndcgAt10 * n + (ideal > 0 ? dcg / ideal : 0)) / (n + 1)
        recallAt100 = (recallAt100 * n + (relevant.isEmpty ? 0 : Double(found) / Double(relevant.count))) / (n + 1)
        mrrAt10 = (mrrAt10 * n + (firstHit.map { 1 / Double($0 + 1) } ?? 0)) / (n + 1)
        queries += 1
    }

    /// The line scripts read: `ndcg@10=0.xxxx recall@100=0.xxxx mrr@10=0.xxxx queries=N`.
    public var summaryLine: String {
        String(format: "ndcg@10=%.4f recall@100=%.4f mrr@10=%.4f queries=%d", ndcgAt10, recallAt100, mrrAt10, queries)
    }
}
