import CairnCore
import CairnEmbed
import CairnSearch
import Foundation

/// Search latency over a large synthetic partition, and the vector index's recall against exact
/// search: what `cairn bench search` prints.
///
/// No public corpus of a million policy chunks exists, so one is synthesised from real
/// material: each chunk's text is a window of a real passage with a few words of another, and
/// its vector is the two passages' real embeddings mixed (0.8 / 0.2) plus Gaussian noise, then
/// normalised. The result has the vocabulary, term statistics and cluster structure of real
/// text rather than uniform noise (on which IVF would look far worse, and BM25 far better).
/// Queries are real queries with their real embeddings.
public struct SearchBenchmark: Sendable {
    public let passages: [String]
    public let passageVectors: [[Float]]
    public let queries: [String]
    public let queryVectors: [[Float]]

    public init(passages: [String], passageVectors: [[Float]], queries: [String], queryVectors: [[Float]]) {
        self.passages = passages
        self.passageVectors = passageVectors
        self.queries = queries
        self.queryVectors = queryVectors
    }

    public struct Result: Sendable {
        public let chunks: Int
        public let buildSeconds: Double
        public let isApproximate: Bool
        /// Milliseconds per query, hybrid, the access filter built per query (everything visible).
        public let unfiltered: (p50: Double, p99: Double)
        /// The same with a principal who may see 30 % of the documents.
        public let filtered: (p50: Double, p99: Double)
        /// Mean over queries of |ANN top 10 ∩ exact top 10| / 10.
        public let recallAt10: Double
    }

    /// Builds a partition of `chunks` chunks in 1,000-chunk documents and times `queryCount`
    /// hybrid searches (after 20 warm-up queries) with k = 10.
    public func run(chunks: Int, queryCount: Int, progress: (String) -> Void) -> Result {
        var generator = SeededGenerator(seed: 0x5EED)
        let dimension = passageVectors[0].count
        var index = HybridIndex(dimension: dimension)
        let chunksPerDocument = 1000
        let start = ContinuousClock.now
        let words = passages.map { $0.split(separator: " ") }
        for number in 0..<chunks {
            let a = generator.next(below: passages.count)
            let b = generator.next(below: passages.count)
            let own = words[a]
            let length = min(own.count, 90 + generator.next(below: 60))
            let offset = own.count > length ? generator.next(below: own.count - length) : 0
            let borrowed = words[b].prefix(12)
            let text = (own[offset..<offset + length] + borrowed).joined(separator: " ")
            var vector = [Float](repeating: 0, count: dimension)
            var norm: Float = 0
            for d in 0..<dimension {
                let value = 0.8 * passageVectors[a][d] + 0.2 * passageVectors[b][d] + 0.03 * generator.gaussian()
                vector[d] = value
                norm += value * value
            }
            norm = norm.squareRoot()
            for d in 0..<dimension { vector[d] /= norm }
            _ = index.insert(key: String(format: "c%08d", number), text: text, vector: vector)
            if number % 100_000 == 99_999 { progress("indexed \(number + 1) chunks") }
        }
        let buildSeconds = (ContinuousClock.now - start).inSeconds

        // The access check as a partition runs it per query: one pass over the slots' documents.
        let documents = (chunks + chunksPerDocument - 1) / chunksPerDocument
        let visibleToAll = [Bool](repeating: true, count: documents)
        let visibleToSome = (0..<documents).map { _ in generator.next(below: 10) < 3 }
        func allowed(_ admitted: [Bool]) -> SlotSet {
            var set = SlotSet(capacity: index.capacity)
            for slot in 0..<index.capacity where admitted[slot / chunksPerDocument] { set.insert(IndexSlot(slot)) }
            return set
        }
        func time(_ admitted: [Bool]) -> (p50: Double, p99: Double) {
            var milliseconds: [Double] = []
            for (position, query) in queries.prefix(queryCount + 20).enumerated() {
                let began = ContinuousClock.now
                _ = index.search(text: query, vector: queryVectors[position], mode: .hybrid, k: 10, among: allowed(admitted))
                if position >= 20 { milliseconds.append((ContinuousClock.now - began).inSeconds * 1000) }
            }
            milliseconds.sort()
            return (milliseconds[milliseconds.count / 2], milliseconds[min(milliseconds.count - 1, Int(Double(milliseconds.count) * 0.99))])
        }
        progress("timing unfiltered queries")
        let unfiltered = time(visibleToAll)
        progress("timing filtered queries")
        let filtered = time(visibleToSome)
        progress("measuring recall against exact search")
        var recall = 0.0
        let vectors = index.vectors!
        let measured = queries.prefix(queryCount).indices
        for position in measured {
            let approximate = Set(vectors.search(queryVectors[position], k: 10).prefix(10).map(\.slot))
            let exact = vectors.exactSearch(queryVectors[position], k: 10).prefix(10).map(\.slot)
            recall += Double(exact.filter(approximate.contains).count) / Double(max(exact.count, 1))
        }
        return Result(
            chunks: chunks,
            buildSeconds: buildSeconds,
            isApproximate: vectors.isApproximate,
            unfiltered: unfiltered,
            filtered: filtered,
            recallAt10: recall / Double(measured.count)
        )
    }
}
