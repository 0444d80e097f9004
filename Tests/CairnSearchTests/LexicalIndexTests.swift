import CairnSearch
import Foundation
import Testing

@Suite struct LexicalIndexTests {
    /// Three chunks: "apple banana apple" (appl ×2, banana), "banana cherry", "cherry date elderberry fig".
    private func fruitIndex() -> LexicalIndex {
        var index = LexicalIndex()
        index.insert(0, text: "apple banana apple")
        index.insert(1, text: "banana cherry")
        index.insert(2, text: "cherry date elderberry fig")
        return index
    }

    @Test func scoresWithLucenesBM25() throws {
        let index = fruitIndex()
        // N = 3 live slots, lengths 3, 2 and 4 terms, so avgdl = 3; k1 = 0.9, b = 0.4.
        func idf(documentFrequency: Double) -> Double { log(1 + (3 - documentFrequency + 0.5) / (documentFrequency + 0.5)) }
        func saturation(frequency: Double, length: Double) -> Double { frequency / (frequency + 0.9 * (1 - 0.4 + 0.4 * length / 3)) }
        let expected: [(slot: IndexSlot, score: Double)] = [
            (0, idf(documentFrequency: 1) * saturation(frequency: 2, length: 3)),
            (1, idf(documentFrequency: 2) * saturation(frequency: 1, length: 2)),
            (2, idf(documentFrequency: 2) * saturation(frequency: 1, length: 4)),
        ]
        let hits = index.search("apple cherry", k: 10)
        try #require(hits.count == 3)
        for (hit, expected) in zip(hits, expected) {
            #expect(hit.slot == expected.slot)
            #expect(abs(Double(hit.score) - expected.score) < 1e-5)
        }
    }

    @Test func countsARepeatedQueryTermOncePerOccurrence() throws {
        let index = fruitIndex()
        let once = try #require(index.search("apple", k: 1).first)
        let twice = try #require(index.search("apple APPLE", k: 1).first)
        #expect(twice.slot == once.slot)
        #expect(abs(twice.score - 2 * once.score) < 1e-5)
    }

    @Test func returnsOnlyMatchingSlots() {
        let index = fruitIndex()
        // The shorter chunk first: both have "banana" once.
        #expect(index.search("banana", k: 10).map(\.slot) == [1, 0])
        #expect(index.matchCount("banana") == 2)
        #expect(index.matchCount("banana fig") == 3)
    }

    @Test func returnsEveryTieWithTheKthScore() {
        var index = LexicalIndex()
        for slot: IndexSlot in [4, 0, 3, 1, 2] { index.insert(slot, text: "interest rate") }
        index.insert(5, text: "interest")
        let hits = index.search("interest rate", k: 2)
        #expect(hits.map(\.slot) == [0, 1, 2, 3, 4])
        #expect(Set(hits.map(\.score)).count == 1)
        #expect(index.search("interest rate", k: 6).count == 6)
    }

    @Test func returnsNothingForEmptyStopWordOrUnknownQueries() {
        let index = fruitIndex()
        #expect(index.search("", k: 10).isEmpty)
        #expect(index.search("the and of it", k: 10).isEmpty)
        #expect(index.search("kumquat", k: 10).isEmpty)
        #expect(index.search("apple", k: 0).isEmpty)
        #expect(index.matchCount("the") == 0)
        #expect(LexicalIndex().search("apple", k: 10).isEmpty)
    }

    @Test func appliesTheFilterWithoutChangingScores() {
        let index = fruitIndex()
        let unfiltered = index.search("banana cherry", k: 10)
        var allowed = SlotSet(capacity: 3)
        allowed.insert(2)
        allowed.insert(1)
        let filtered = index.search("banana cherry", k: 10, among: allowed)
        #expect(filtered == unfiltered.filter { allowed.contains($0.slot) })
        #expect(index.matchCount("banana cherry", among: allowed) == 2)
        // The one allowed match comes back even though two better ones are hidden.
        var onlyLast = SlotSet(capacity: 3)
        onlyLast.insert(2)
        #expect(index.search("apple banana cherry", k: 1, among: onlyLast).map(\.slot) == [2])
        #expect(index.search("apple", k: 10, among: SlotSet(capacity: 0)).isEmpty)
    }

    @Test func removalRestoresTheStatisticsExactly() {
        let texts = [
            "Interest rates on savings accounts rose in March.", "The mortgage rate is fixed for five years.",
            "Card payments abroad carry a foreign exchange fee.", "Savings interest is paid monthly.",
            "Overdraft fees apply above the arranged limit.", "Fixed rate bonds pay interest at maturity.",
            "Mortgage payments are taken on the first of the month.", "A fee applies to international payments.",
            "Savings accounts with instant access pay variable interest.", "",
        ]
        var index = LexicalIndex()
        for (slot, text) in texts.enumerated() { index.insert(IndexSlot(slot), text: text) }
        for slot: IndexSlot in [3, 7, 9] { index.remove(slot) }
        index.remove(3)  // not live any more: nothing happens
        var reference = LexicalIndex()
        for (slot, text) in texts.enumerated() where ![3, 7, 9].contains(slot) { reference.insert(IndexSlot(slot), text: text) }
        let queries = ["savings interest", "mortgage rate", "fee payments", "fixed interest rate savings"]
        #expect(index.count == reference.count)
        for query in queries {
            #expect(index.search(query, k: 3) == reference.search(query, k: 3))
            #expect(index.matchCount(query) == reference.matchCount(query))
        }

        // A removed slot used again holds only its new text.
        index.insert(7, text: "Mortgage overpayments are free up to ten percent.")
        reference.insert(7, text: "Mortgage overpayments are free up to ten percent.")
        for query in queries + ["international fee", "overpayments"] {
            #expect(index.search(query, k: 10) == reference.search(query, k: 10))
        }
    }

    @Test func ranksTheSameWhateverTheInsertionOrder() {
        let texts = (0..<300).map { slot in "chunk \(slot % 7) rate \(slot % 11 == 0 ? "mortgage" : "savings") fee\(slot % 3)" }
        var ascending = LexicalIndex()
        for (slot, text) in texts.enumerated() { ascending.insert(IndexSlot(slot), text: text) }
        // 7919 is prime, so slot × 7919 mod 300 visits every slot once, scattered.
        var scattered = LexicalIndex()
        for step in texts.indices {
            let slot = step * 7919 % texts.count
            scattered.insert(IndexSlot(slot), text: texts[slot])
        }
        for query in ["mortgage rate", "chunk 3 fee1", "savings 5"] {
            #expect(scattered.search(query, k: 20) == ascending.search(query, k: 20))
        }
    }

    @Test func copiesAreSnapshots() {
        var index = fruitIndex()
        let snapshot = index
        index.remove(0)
        index.insert(3, text: "apple")
        #expect(snapshot.count == 3)
        #expect(snapshot.search("apple", k: 10).map(\.slot) == [0])
        #expect(index.search("apple", k: 10).map(\.slot) == [3])
    }
}
