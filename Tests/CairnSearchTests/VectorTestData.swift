import Foundation

@testable import CairnSearch

/// Vectors, filters and reference answers for the vector index's tests, in one namespace so
/// their short names stay clear of other suites in this target.
enum VectorFixtures {}

extension SeededGenerator {
    /// A set holding each of `0..<capacity` with probability `share`.
    mutating func slotSet(capacity: Int, share: Double) -> SlotSet {
        var set = SlotSet(capacity: capacity)
        for slot in 0..<capacity where unit() < share { set.insert(IndexSlot(slot)) }
        return set
    }
}

extension VectorFixtures {
    /// Every run of a test sees the same vectors, filters and queries.
    typealias Random = SeededGenerator

    /// Unit vectors scattered around random centres, a stand-in for sentence embeddings: a point's
    /// nearest neighbours, from its own centre, lie at a similarity of 0.6–0.7 (as all-MiniLM-L6-v2's
    /// do for related passages), points of different centres near 0.
    struct ClusteredVectors {
        let dimension: Int
        private let centres: [[Float]]
        private let spread: Float
        private var random: Random

        init(dimension: Int, centreCount: Int, seed: UInt64) {
            self.dimension = dimension
            random = Random(seed: seed)
            var centres: [[Float]] = []
            for _ in 0..<centreCount {
                var centre: [Float] = []
                for _ in 0..<dimension { centre.append(random.gaussian()) }
                centres.append(normalized(centre))
            }
            self.centres = centres
            // Two points of one centre meet at about 1 / (1 + spread² · dimension).
            spread = (0.5 / Float(dimension)).squareRoot()
        }

        mutating func next() -> [Float] {
            let centre = centres[random.next(below: centres.count)]
            return normalized(centre.map { $0 + spread * random.gaussian() })
        }

        mutating func next(_ count: Int) -> [[Float]] { (0..<count).map { _ in next() } }
    }

    /// Unit vectors whose dot products are exact in any order of summation: four components of
    /// ±1/2 or sixteen of ±1/4, the rest zero. Scores can be compared for equality with a reference
    /// computed in plain Swift, and many tie.
    static func exactlyScoredVectors(_ count: Int, dimension: Int, random: inout Random) -> [[Float]] {
        (0..<count).map { _ in
            let (nonzero, magnitude): (Int, Float) = random.next(below: 2) == 0 ? (4, 0.5) : (16, 0.25)
            var vector = [Float](repeating: 0, count: dimension)
            var placed = 0
            while placed < nonzero {
                let component = random.next(below: dimension)
                guard vector[component] == 0 else { continue }
                vector[component] = random.next(below: 2) == 0 ? magnitude : -magnitude
                placed += 1
            }
            return vector
        }
    }

    static func normalized(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        // An index loop: `zip` and `reduce` cost twenty times as much in the debug builds tests run in.
        var sum: Float = 0
        for component in a.indices { sum += a[component] * b[component] }
        return sum
    }

    /// What an exact search must return: every vector in `live` that `allowed` admits, scored,
    /// ordered by score then slot, cut after the `k`-th but keeping all that tie with it.
    static func referenceSearch(_ query: [Float], k: Int, among allowed: SlotSet?, live: [IndexSlot: [Float]]) -> [ScoredSlot] {
        let ranked = live.filter { allowed?.contains($0.key) ?? true }
            .map { ScoredSlot(slot: $0.key, score: dot(query, $0.value)) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.slot < $1.slot }
        guard ranked.count > k else { return ranked }
        let boundary = ranked[k - 1].score
        return Array(ranked.prefix { $0.score >= boundary })
    }

    /// The share of the exact top 10 that `hits` found.
    static func recallAt10(_ hits: [ScoredSlot], exact: [ScoredSlot]) -> Double {
        let truth = Set(exact.prefix(10).map(\.slot))
        guard !truth.isEmpty else { return 1 }
        return Double(hits.prefix(10).filter { truth.contains($0.slot) }.count) / Double(truth.count)
    }
}
