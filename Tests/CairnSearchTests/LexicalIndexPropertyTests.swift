import Foundation
import Testing

@testable import CairnSearch

/// The index against a brute-force BM25 over the same texts, on seeded random corpora,
/// removals, re-insertions, filters and queries.
@Suite struct LexicalIndexPropertyTests {
    /// Small corpora over a dozen words: many ties, empty chunks, stop words, repeated query terms.
    @Test func matchesBruteForceOnSmallRandomCorpora() {
        let words = [
            "loan", "loans", "rate", "interest", "the", "bank", "account", "fee", "fees", "mortgage", "credit", "of", "payment", "risk",
        ]
        var generator = SeededGenerator(seed: 0x5EA2C4)
        for _ in 0..<300 {
            var model = RandomCorpus(generator: generator)
            model.build(slots: Int.random(in: 1...60, using: &model.generator)) { generator in
                (0..<Int.random(in: 0...12, using: &generator)).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            }
            for _ in 0..<10 {
                let query = (0..<Int.random(in: 0...5, using: &model.generator)).map { _ in
                    Bool.random(using: &model.generator) && Int.random(in: 0..<10, using: &model.generator) == 0
                        ? "unseen" : words.randomElement(using: &model.generator)!
                }
                model.check(query: query.joined(separator: " "), k: Int.random(in: 0...8, using: &model.generator))
            }
            generator = model.generator
        }
    }

    /// Larger corpora over a Zipf-like vocabulary, where rare query terms let the search prune
    /// the common ones and sparse filters make it look slots up instead of reading lists.
    @Test func matchesBruteForceWhenPruning() {
        var generator = SeededGenerator(seed: 0xB25)
        for _ in 0..<4 {
            var model = RandomCorpus(generator: generator)
            model.build(slots: 2_500) { generator in
                (0..<Int.random(in: 10...60, using: &generator)).map { _ in "w\(zipfRank(using: &generator))" }.joined(separator: " ")
            }
            for _ in 0..<40 {
                let query = (0..<Int.random(in: 1...8, using: &model.generator)).map { _ in "w\(zipfRank(using: &model.generator))" }
                model.check(query: query.joined(separator: " "), k: Int.random(in: 1...12, using: &model.generator))
            }
            generator = model.generator
        }
    }
}

/// Ranks 0..<400, rank r drawn with probability proportional to 1 / (r + 1).
private func zipfRank(using generator: inout SeededGenerator) -> Int {
    let target = Double.random(in: 0..<1, using: &generator)
    var low = 0
    var high = zipfCumulativeShares.count - 1
    while low < high {
        let middle = (low + high) / 2
        if zipfCumulativeShares[middle] > target { high = middle } else { low = middle + 1 }
    }
    return low
}

private let zipfCumulativeShares: [Double] = {
    let weights = (1...400).map { 1 / Double($0) }
    let total = weights.reduce(0, +)
    var cumulative = 0.0
    return weights.map { weight in
        cumulative += weight / total
        return cumulative
    }
}()

/// An index and the texts it should hold, built through random inserts (in random order),
/// removals and re-insertions.
private struct RandomCorpus {
    var generator: SeededGenerator
    var index = LexicalIndex()
    /// How often each analysed term occurs in each live slot, and how many terms the slot has.
    var slots: [IndexSlot: (frequencies: [String: Int], length: Int)] = [:]
    var capacity = 0

    init(generator: SeededGenerator) {
        self.generator = generator
    }

    mutating func build(slots count: Int, text: (inout SeededGenerator) -> String) {
        capacity = count
        var order = Array(0..<count)
        if Bool.random(using: &generator) { order.shuffle(using: &generator) }
        for slot in order { insert(IndexSlot(slot), text(&generator)) }
        for slot in order where Int.random(in: 0..<3, using: &generator) == 0 { remove(IndexSlot(slot)) }
        for slot in order where slots[IndexSlot(slot)] == nil && Bool.random(using: &generator) { insert(IndexSlot(slot), text(&generator)) }
        for slot in order where Int.random(in: 0..<8, using: &generator) == 0 { remove(IndexSlot(slot)) }
    }

    mutating func insert(_ slot: IndexSlot, _ text: String) {
        index.insert(slot, text: text)
        let terms = TextAnalyzer().terms(in: text)
        slots[slot] = (Dictionary(terms.map { ($0, 1) }, uniquingKeysWith: +), terms.count)
    }

    mutating func remove(_ slot: IndexSlot) {
        index.remove(slot)
        slots[slot] = nil
    }

    mutating func check(query: String, k: Int) {
        let allowed = randomFilter()
        let hits = index.search(query, k: k, among: allowed)
        let expected = bruteForce(query: TextAnalyzer().terms(in: query), k: k, allowed: allowed)
        #expect(hits == expected.hits, "query \"\(query)\", k \(k)")
        #expect(index.matchCount(query, among: allowed) == expected.matchCount)
        #expect(hits.allSatisfy { allowed?.contains($0.slot) ?? true })
        #expect(hits.count >= min(k, expected.matchCount))
        #expect(index.count == slots.count)
    }

    /// No filter, or one letting through a random share (sometimes a tiny one) of the slots.
    private mutating func randomFilter() -> SlotSet? {
        guard Int.random(in: 0..<4, using: &generator) != 0 else { return nil }
        let share = [0.01, 0.1, 0.5, 0.9].randomElement(using: &generator)!
        var allowed = SlotSet(capacity: capacity)
        for slot in 0..<capacity where Double.random(in: 0..<1, using: &generator) < share { allowed.insert(IndexSlot(slot)) }
        return allowed
    }

    /// BM25 as the index documents it, computed slot by slot over every live slot.
    private func bruteForce(query: [String], k: Int, allowed: SlotSet?) -> (hits: [ScoredSlot], matchCount: Int) {
        let k1 = 0.9
        let b = 0.4
        let liveCount = Double(slots.count)
        let averageLength = Double(slots.values.reduce(0) { $0 + $1.length }) / liveCount
        var documentFrequencies: [String: Double] = [:]
        for term in Set(query) {
            documentFrequencies[term] = Double(slots.values.count { $0.frequencies[term] != nil })
        }
        var scored: [ScoredSlot] = []
        for (slot, content) in slots where allowed?.contains(slot) ?? true {
            var score = 0.0
            var matches = false
            for term in query {
                guard let frequency = content.frequencies[term] else { continue }
                matches = true
                let tf = Double(frequency)
                let df = documentFrequencies[term]!
                let idf = log(1 + (liveCount - df + 0.5) / (df + 0.5))
                score += idf * tf / (tf + k1 * (1 - b + b * Double(content.length) / averageLength))
            }
            if matches { scored.append(ScoredSlot(slot: slot, score: Float(score))) }
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.slot < $1.slot }
        guard k > 0 else { return ([], scored.count) }
        guard scored.count > k else { return (scored, scored.count) }
        let cutoff = scored[k - 1].score
        return (scored.filter { $0.score >= cutoff }, scored.count)
    }
}
