import Testing

@testable import CairnSearch

@Suite struct VectorIndexExactSearchTests {
    /// Exact search against brute force over vectors whose scores tie often, before and after
    /// the index trains its lists (exact search then walks the lists and the unassigned rows),
    /// after removals, and with filters wide, narrow and absent.
    @Test(arguments: [100_000, 1_000])
    func matchesBruteForceIncludingBoundaryTies(approximateAbove: Int) {
        let dimension = 64
        var random = VectorFixtures.Random(seed: 1)
        let vectors = VectorFixtures.exactlyScoredVectors(3_000, dimension: dimension, random: &random)
        var index = VectorIndex(dimension: dimension, configuration: .init(approximateAbove: approximateAbove, assignmentBatch: 256))
        var live: [IndexSlot: [Float]] = [:]
        for (slot, vector) in vectors.enumerated() {
            index.insert(IndexSlot(slot), vector: vector)
            live[IndexSlot(slot)] = vector
        }
        for _ in 0..<300 {
            let slot = IndexSlot(random.next(below: vectors.count))
            index.remove(slot)
            live[slot] = nil
        }
        #expect(index.count == live.count)
        #expect(index.listCount > 0 || approximateAbove > vectors.count)

        let queries = VectorFixtures.exactlyScoredVectors(12, dimension: dimension, random: &random)
        let filters: [SlotSet?] = [
            nil,
            random.slotSet(capacity: vectors.count, share: 0.3),
            random.slotSet(capacity: vectors.count, share: 0.01),
        ]
        var tiesAtBoundary = 0
        for query in queries {
            for filter in filters {
                for k in [1, 10, 50] {
                    let expected = VectorFixtures.referenceSearch(query, k: k, among: filter, live: live)
                    #expect(index.exactSearch(query, k: k, among: filter) == expected)
                    if expected.count > k { tiesAtBoundary += 1 }
                }
            }
        }
        // The data is built to tie; without ties at the k-th score this test would prove less.
        #expect(tiesAtBoundary > 20)
    }

    @Test func answersBelowTheThresholdAreExact() {
        var random = VectorFixtures.Random(seed: 2)
        let vectors = VectorFixtures.exactlyScoredVectors(500, dimension: 32, random: &random)
        var index = VectorIndex(dimension: 32)
        var live: [IndexSlot: [Float]] = [:]
        for (slot, vector) in vectors.enumerated() {
            index.insert(IndexSlot(slot), vector: vector)
            live[IndexSlot(slot)] = vector
        }
        #expect(!index.isApproximate)
        for query in vectors.prefix(10) {
            #expect(index.search(query, k: 10, among: nil) == VectorFixtures.referenceSearch(query, k: 10, among: nil, live: live))
        }
    }

    @Test func removedSlotsAreNeverReturnedAndCanBeReused() {
        var index = VectorIndex(dimension: 4)
        index.insert(0, vector: [1, 0, 0, 0])
        index.insert(1, vector: [0, 1, 0, 0])
        index.insert(2, vector: [0, 0, 1, 0])
        index.remove(0)
        index.remove(0)
        index.remove(7)
        #expect(index.count == 2)
        #expect(index.search([1, 0, 0, 0], k: 3, among: nil).map(\.slot).sorted() == [1, 2])

        index.insert(0, vector: [0, 0, 0, 1])
        #expect(index.search([0, 0, 0, 1], k: 1, among: nil) == [ScoredSlot(slot: 0, score: 1)])
        #expect(index.search([0, 0, 0, 1], k: 0, among: nil).isEmpty)
        #expect(index.search([0, 0, 0, 1], k: 10, among: nil).count == 3)
        #expect(index.exactSearch([0, 0, 0, 1], k: .max, among: nil).count == 3)
    }
}

@Suite struct VectorIndexApproximateSearchTests {
    /// An index trained at 2,000 vectors whose searches score only 64 vectors (the default
    /// would score 2,048, a third of these test indexes), so that they stop after a few lists
    /// unless the filter pushes them further, and inserts join the lists every 100 vectors.
    static let narrowScan = VectorIndex.Configuration(approximateAbove: 2_000, scannedShare: 0.01, minimumScanned: 64, assignmentBatch: 100)

    /// Over many seeded filters, tiny ones, ones excluding the query's nearest neighbours and
    /// ones keeping only its farthest vectors, every hit is allowed and live, and there are at
    /// least `min(k, allowed live)` of them, from both searches, whether or not the index has
    /// trained its lists.
    @Test(arguments: [true, false])
    func filteredSearchReturnsOnlyAllowedSlotsAndAtLeastKOfThem(approximate: Bool) {
        var data = VectorFixtures.ClusteredVectors(dimension: 64, centreCount: 60, seed: 3)
        var index = VectorIndex(dimension: 64, configuration: approximate ? Self.narrowScan : .init())
        let capacity = 6_000
        for slot in 0..<capacity { index.insert(IndexSlot(slot), vector: data.next()) }
        var random = VectorFixtures.Random(seed: 4)
        var live = Set((0..<capacity).map { IndexSlot($0) })
        for _ in 0..<600 {
            let slot = IndexSlot(random.next(below: capacity))
            index.remove(slot)
            live.remove(slot)
        }
        #expect(index.isApproximate == approximate)

        for round in 0..<150 {
            let query = data.next()
            let k = [1, 10, 25][round % 3]
            let ranking = index.exactSearch(query, k: capacity, among: nil).map(\.slot)
            var allowed = SlotSet(capacity: capacity)
            switch round % 5 {
            case 0:  // a handful of slots anywhere, dead ones included
                for _ in 0..<(1 + random.next(below: 20)) { allowed.insert(IndexSlot(random.next(below: capacity))) }
            case 1:  // everything but the query's 300 nearest neighbours
                let nearest = Set(ranking.prefix(300))
                for slot in 0..<capacity where !nearest.contains(IndexSlot(slot)) { allowed.insert(IndexSlot(slot)) }
            case 2:  // only the farthest tenth: nothing allowed in the lists a query probes first
                for slot in ranking.suffix(ranking.count / 10) { allowed.insert(slot) }
            case 3:  // a random share, from under 1 % to half
                allowed = random.slotSet(capacity: capacity, share: [0.005, 0.03, 0.1, 0.5][random.next(below: 4)])
            default:  // a few slots among the farthest, fewer than k
                for slot in ranking.suffix(k / 2 + 1) { allowed.insert(slot) }
            }
            let allowedLive = allowed.slots.filter(live.contains).count
            for hits in [index.search(query, k: k, among: allowed), index.exactSearch(query, k: k, among: allowed)] {
                #expect(hits.allSatisfy { allowed.contains($0.slot) && live.contains($0.slot) })
                #expect(hits.count >= min(k, allowedLive), "round \(round): \(hits.count) hits of \(allowedLive) allowed")
                #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score > $1.score || ($0.score == $1.score && $0.slot < $1.slot) })
            }
        }
    }

    /// Recall@10 of the lists against exact search, on clustered 384-dimensional vectors,
    /// unfiltered and under a 30 % filter, at about 1 % of the index scanned per query.
    @Test func recallAt10IsAtLeast95Percent() {
        var data = VectorFixtures.ClusteredVectors(dimension: 384, centreCount: 200, seed: 5)
        let configuration = VectorIndex.Configuration(approximateAbove: 2_000, scannedShare: 0.01, minimumScanned: 200)
        var index = VectorIndex(dimension: 384, configuration: configuration)
        for slot in 0..<20_000 { index.insert(IndexSlot(slot), vector: data.next()) }
        #expect(index.isApproximate)
        var random = VectorFixtures.Random(seed: 6)
        let filter = random.slotSet(capacity: 20_000, share: 0.3)
        var recall = 0.0
        var filteredRecall = 0.0
        let queries = data.next(50)
        for query in queries {
            recall += VectorFixtures.recallAt10(index.search(query, k: 10, among: nil), exact: index.exactSearch(query, k: 10, among: nil))
            filteredRecall += VectorFixtures.recallAt10(
                index.search(query, k: 10, among: filter),
                exact: index.exactSearch(query, k: 10, among: filter)
            )
        }
        #expect(recall / Double(queries.count) >= 0.95)
        #expect(filteredRecall / Double(queries.count) >= 0.95)
    }

    /// The index retrains each time the live count doubles, with `4·√N` lists, and keeps its
    /// recall across the retrainings and the inserts between them.
    @Test func retrainsWhenTheCountDoublesAndKeepsRecall() {
        var data = VectorFixtures.ClusteredVectors(dimension: 64, centreCount: 100, seed: 7)
        var index = VectorIndex(dimension: 64, configuration: Self.narrowScan)
        let queries = data.next(40)
        var slot: IndexSlot = 0
        for (target, trainedCount, listCount) in [(1_999, 0, 0), (2_000, 2_000, 179), (3_999, 2_000, 179), (6_000, 4_000, 253), (8_000, 8_000, 358)] {
            while index.count < target {
                index.insert(slot, vector: data.next())
                slot += 1
            }
            #expect(index.trainedCount == trainedCount)
            #expect(index.listCount == listCount)
            var recall = 0.0
            for query in queries {
                recall += VectorFixtures.recallAt10(index.search(query, k: 10, among: nil), exact: index.exactSearch(query, k: 10, among: nil))
            }
            #expect(recall / Double(queries.count) >= 0.95, "at \(target) vectors")
        }
    }

    /// Equal vectors score the same bits wherever they are stored (in different lists, or not
    /// yet assigned to one), so all of them come back as a tie for the caller to break.
    @Test func duplicateVectorsTieAndAllComeBack() {
        var data = VectorFixtures.ClusteredVectors(dimension: 64, centreCount: 50, seed: 8)
        var index = VectorIndex(dimension: 64, configuration: Self.narrowScan)
        let duplicate = data.next()
        var duplicateSlots: [IndexSlot] = []
        for slot in IndexSlot(0)..<3_000 {
            if slot % 100 == 7 {
                index.insert(slot, vector: duplicate)
                duplicateSlots.append(slot)
            } else {
                index.insert(slot, vector: data.next())
            }
        }
        #expect(index.isApproximate)
        let hits = index.search(duplicate, k: 5, among: nil)
        #expect(hits.map(\.slot) == duplicateSlots)
        #expect(Set(hits.map(\.score)).count == 1)
    }
}

@Suite struct VectorIndexDeterminismTests {
    /// Replicas fed the same inserts and removals train the same lists and answer alike.
    @Test func indexesBuiltAlikeAnswerAlike() {
        func build() -> VectorIndex {
            var data = VectorFixtures.ClusteredVectors(dimension: 64, centreCount: 80, seed: 9)
            var index = VectorIndex(dimension: 64, configuration: VectorIndexApproximateSearchTests.narrowScan)
            for slot in IndexSlot(0)..<5_000 {
                index.insert(slot, vector: data.next())
                if slot % 7 == 3 { index.remove(slot / 2) }
            }
            return index
        }
        let first = build()
        let second = build()
        #expect(first.isApproximate && first.listCount == second.listCount)
        var data = VectorFixtures.ClusteredVectors(dimension: 64, centreCount: 80, seed: 10)
        var random = VectorFixtures.Random(seed: 11)
        let filter = random.slotSet(capacity: 5_000, share: 0.2)
        for query in data.next(30) {
            #expect(first.search(query, k: 10, among: nil) == second.search(query, k: 10, among: nil))
            #expect(first.search(query, k: 10, among: filter) == second.search(query, k: 10, among: filter))
        }
    }
}
