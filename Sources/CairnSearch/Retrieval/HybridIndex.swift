/// Which retrievers a search uses.
public enum SearchMode: String, Sendable, CaseIterable, Codable {
    /// BM25 and vector nearest neighbours, fused.
    case hybrid
    /// BM25 only.
    case lexical
    /// Vector nearest neighbours only.
    case vector
}

/// How the two rankings become one.
public enum Fusion: Sendable, Equatable {
    /// Reciprocal-rank fusion: Σ 1 / (k + rank) over the retrievers that found the chunk.
    /// Needs no score calibration between BM25 and cosine, which is why it is the default.
    case reciprocalRank(k: Double)
    /// Scores min-max normalised within each retriever's candidates, then
    /// `vectorWeight · vector + (1 − vectorWeight) · lexical`.
    case weighted(vectorWeight: Double)

    /// RRF with the constant 60 of Cormack et al. (2009).
    public static let standard = Fusion.reciprocalRank(k: 60)
}

/// A retriever that found a hit.
public enum Retriever: String, Sendable, Codable, Comparable {
    case lexical
    case vector

    public static func < (lhs: Retriever, rhs: Retriever) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One fused result: the slot, its fused score, and the rank each retriever gave it (1-based).
public struct FusedHit: Sendable, Equatable {
    public let slot: IndexSlot
    public let score: Double
    public let lexicalRank: Int?
    public let vectorRank: Int?

    public var retrievers: [Retriever] {
        [lexicalRank.map { _ in .lexical }, vectorRank.map { _ in .vector }].compactMap { $0 }
    }
}

/// BM25 and vector indexes over the same slots, with fusion.
///
/// Every slot carries a stable key (a chunk id); each ranking orders equal scores by it, so
/// the result depends on the indexed content alone — not on the order chunks arrived in, and so
/// not on which deployment built the index.
public struct HybridIndex: Sendable {
    public private(set) var lexical: LexicalIndex
    public private(set) var vectors: VectorIndex?
    private var keys: [String] = []
    private var live: [Bool] = []
    private var freeSlots: [IndexSlot] = []

    /// How many candidates each retriever contributes to fusion, at least.
    public static let minimumCandidates = 100

    /// - Parameter dimension: the embedding length, or `nil` for a lexical-only index.
    public init(dimension: Int?, lexical: LexicalIndex = LexicalIndex()) {
        self.lexical = lexical
        self.vectors = dimension.map { VectorIndex(dimension: $0) }
    }

    /// Slots ever handed out (live or free): the capacity a filter must cover.
    public var capacity: Int { keys.count }
    /// Live slots.
    public var count: Int { keys.count - freeSlots.count }

    /// The stable key of a slot.
    public func key(of slot: IndexSlot) -> String { keys[Int(slot)] }

    /// Adds a passage; returns its slot. A vector that is not a unit vector of the index's
    /// length (or any vector, for a lexical-only index) is left out: the passage is still found
    /// lexically, and one corrupt row cannot stop a node from serving its tenants.
    public mutating func insert(key: String, text: String, vector: [Float]?) -> IndexSlot {
        let slot: IndexSlot
        if let free = freeSlots.popLast() {
            slot = free
            keys[Int(slot)] = key
            live[Int(slot)] = true
        } else {
            slot = IndexSlot(keys.count)
            keys.append(key)
            live.append(true)
        }
        lexical.insert(slot, text: text)
        if let vector, vector.count == vectors?.dimension, Self.isUnitVector(vector) {
            vectors?.insert(slot, vector: vector)
        }
        return slot
    }

    /// Finite components and a length near 1 (the embedder normalises; float32 rounding is far
    /// inside the tolerance).
    private static func isUnitVector(_ vector: [Float]) -> Bool {
        var squaredLength = 0.0
        for component in vector {
            guard component.isFinite else { return false }
            squaredLength += Double(component) * Double(component)
        }
        return abs(squaredLength - 1) < 0.01
    }

    public mutating func remove(_ slot: IndexSlot) {
        guard Int(slot) < live.count, live[Int(slot)] else { return }
        lexical.remove(slot)
        vectors?.remove(slot)
        live[Int(slot)] = false
        freeSlots.append(slot)
    }

    /// The top `k` fused hits among `allowed` (nil: every slot), best first; equal scores in key order.
    public func search(text: String, vector: [Float]?, mode: SearchMode, k: Int, fusion: Fusion = .standard, among allowed: SlotSet?) -> [FusedHit] {
        guard k > 0 else { return [] }
        let depth = mode == .hybrid ? max(k, Self.minimumCandidates) : k
        let lexicalHits = mode == .vector ? [] : ranked(lexical.search(text, k: depth, among: allowed))
        var vectorHits: [ScoredSlot] = []
        if mode != .lexical, let vector, let vectors, vector.count == vectors.dimension {
            vectorHits = ranked(vectors.search(vector, k: depth, among: allowed))
        }
        switch mode {
        case .lexical:
            return lexicalHits.prefix(k).enumerated().map { FusedHit(slot: $1.slot, score: Double($1.score), lexicalRank: $0 + 1, vectorRank: nil) }
        case .vector:
            return vectorHits.prefix(k).enumerated().map { FusedHit(slot: $1.slot, score: Double($1.score), lexicalRank: nil, vectorRank: $0 + 1) }
        case .hybrid:
            return fuse(lexical: Array(lexicalHits.prefix(depth)), vector: Array(vectorHits.prefix(depth)), fusion: fusion, k: k)
        }
    }

    /// Orders a retriever's hits by score, then key: the rank every deployment agrees on.
    private func ranked(_ hits: [ScoredSlot]) -> [ScoredSlot] {
        hits.sorted { $0.score != $1.score ? $0.score > $1.score : keys[Int($0.slot)] < keys[Int($1.slot)] }
    }

    private func fuse(lexical: [ScoredSlot], vector: [ScoredSlot], fusion: Fusion, k: Int) -> [FusedHit] {
        var lexicalRanks: [IndexSlot: Int] = [:]
        var vectorRanks: [IndexSlot: Int] = [:]
        for (rank, hit) in lexical.enumerated() { lexicalRanks[hit.slot] = rank + 1 }
        for (rank, hit) in vector.enumerated() { vectorRanks[hit.slot] = rank + 1 }
        var scores: [IndexSlot: Double] = [:]
        switch fusion {
        case .reciprocalRank(let constant):
            // Summed in a fixed order (lexical, then vector) so the arithmetic is reproducible.
            for (slot, rank) in lexicalRanks { scores[slot, default: 0] += 1 / (constant + Double(rank)) }
            for (slot, rank) in vectorRanks { scores[slot, default: 0] += 1 / (constant + Double(rank)) }
        case .weighted(let weight):
            for (slot, value) in Self.normalised(lexical) { scores[slot, default: 0] += (1 - weight) * value }
            for (slot, value) in Self.normalised(vector) { scores[slot, default: 0] += weight * value }
        }
        return scores.map { FusedHit(slot: $0.key, score: $0.value, lexicalRank: lexicalRanks[$0.key], vectorRank: vectorRanks[$0.key]) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : keys[Int($0.slot)] < keys[Int($1.slot)] }
            .prefix(k).map { $0 }
    }

    /// Min-max normalised scores; a single candidate (or all equal) scores 1.
    private static func normalised(_ hits: [ScoredSlot]) -> [(IndexSlot, Double)] {
        guard let best = hits.first?.score, let worst = hits.last?.score else { return [] }
        let span = Double(best - worst)
        return hits.map { ($0.slot, span > 0 ? Double($0.score - worst) / span : 1) }
    }
}
