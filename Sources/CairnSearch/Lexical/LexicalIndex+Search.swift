import Foundation

extension LexicalIndex {
    /// The `k` best-scoring live slots for `query` among `allowed` (every live slot when nil),
    /// by score descending, then slot ascending.
    ///
    /// Every slot tied with the `k`-th score comes back too, so the result may be longer than
    /// `k`: the caller breaks ties by an id the index does not know, and the result must not
    /// depend on how slots were numbered. Only slots containing at least one query term match.
    /// `allowed` is applied while scoring, so a caller who may see `k` or more matching slots
    /// always gets `k` or more. The result is exact: pruning only skips slots that provably
    /// cannot reach the `k`-th score.
    public func search(_ query: String, k: Int, among allowed: SlotSet? = nil) -> [ScoredSlot] {
        precondition(k >= 0, "a search asks for at least 0 results")
        guard k > 0, let query = preparedQuery(query) else { return [] }
        let eligible = EligibleSlots(liveSlotWords: liveSlotWords, liveCount: count, allowed: allowed)
        guard eligible.count > 0 else { return [] }
        return documentLengths.withUnsafeBufferPointer { documentLengths in
            eligible.words.withUnsafeBufferPointer { eligibleWords in
                let scores = UnsafeMutableBufferPointer<Float>.allocate(capacity: documentLengths.count)
                scores.initialize(repeating: 0)
                defer { scores.deallocate() }
                let search = TopScoringSearch(
                    query: query,
                    k: k,
                    postingLists: postingLists,
                    parameters: parameters,
                    documentLengths: documentLengths,
                    eligibleWords: eligibleWords,
                    eligibleCount: eligible.count,
                    scores: scores
                )
                return search.run()
            }
        }
    }

    /// How many live slots among `allowed` (every live slot when nil) contain at least one
    /// term of `query`.
    public func matchCount(_ query: String, among allowed: SlotSet? = nil) -> Int {
        guard let query = preparedQuery(query) else { return 0 }
        let eligible = EligibleSlots(liveSlotWords: liveSlotWords, liveCount: count, allowed: allowed)
        var matched = [UInt64](repeating: 0, count: eligible.words.count)
        var matchCount = 0
        for term in query.terms {
            for slot in postingLists[Int(term.id)].slots {
                let word = Int(slot) >> 6
                let bit = UInt64(1) << UInt64(slot & 63)
                if eligible.words[word] & bit != 0, matched[word] & bit == 0 {
                    matched[word] |= bit
                    matchCount += 1
                }
            }
        }
        return matchCount
    }

    /// The query's terms that occur in some live slot, with their statistics; nil when none does.
    private func preparedQuery(_ text: String) -> PreparedQuery? {
        guard count > 0 else { return nil }
        var terms: [PreparedQuery.Term] = []
        var occurrences: [Int] = []
        for term in analyzer.terms(in: text) {
            guard let termID = termIDs[term], postingLists[Int(termID)].documentFrequency > 0 else { continue }
            if let position = terms.firstIndex(where: { $0.id == termID }) {
                terms[position].occurrences += 1
                occurrences.append(position)
            } else {
                occurrences.append(terms.count)
                terms.append(PreparedQuery.Term(id: termID, occurrences: 1, idf: 0, upperBound: 0))
            }
        }
        guard !terms.isEmpty else { return nil }
        let liveCount = Double(count)
        let k1 = parameters.k1
        let b = parameters.b
        for position in terms.indices {
            let list = postingLists[Int(terms[position].id)]
            let documentFrequency = Double(list.documentFrequency)
            let idf = log(1 + (liveCount - documentFrequency + 0.5) / (documentFrequency + 0.5))
            // A term's contribution grows with its frequency and shrinks with the length, so
            // the list's highest frequency in a chunk of no length bounds it.
            let frequency = Double(list.maximumFrequency)
            terms[position].idf = idf
            terms[position].upperBound = Double(terms[position].occurrences) * idf * frequency / (frequency + k1 * (1 - b))
        }
        return PreparedQuery(terms: terms, occurrences: occurrences, averageLength: Double(totalLength) / liveCount)
    }
}

/// A query reduced to what scoring needs.
struct PreparedQuery {
    struct Term {
        let id: TermID
        /// How many times the query has the term.
        var occurrences: Int
        var idf: Double
        /// No slot gains more than this from the term's occurrences.
        var upperBound: Double
    }

    /// The distinct query terms that occur in some live slot, in order of first occurrence.
    let terms: [Term]
    /// For each occurrence of those terms in the query, in query order, its index in `terms`.
    let occurrences: [Int]
    let averageLength: Double
}

/// The slots a search may return: live and allowed.
private struct EligibleSlots {
    let words: [UInt64]
    let count: Int

    init(liveSlotWords: [UInt64], liveCount: Int, allowed: SlotSet?) {
        guard let allowed else {
            words = liveSlotWords
            count = liveCount
            return
        }
        words = liveSlotWords.indices.map { index in
            index < allowed.words.count ? liveSlotWords[index] & allowed.words[index] : 0
        }
        count = words.reduce(0) { $0 + $1.nonzeroBitCount }
    }
}

/// One exact top-k search, term at a time with a score per slot, pruned in the manner of
/// MaxScore (Turtle and Flood, 1995).
///
/// Terms are taken in order of their upper bounds, rarest first, adding each one's
/// contribution to every eligible slot in its list. Once the k-th best partial score exceeds
/// what all the remaining terms together could add, no slot untouched so far can reach the
/// top k; the remaining (long, common) lists are then only consulted for the slots still in
/// contention, by galloping search, and a slot leaves contention as soon as its partial score
/// plus what remains cannot reach the k-th best. Partial scores are `Float` sums in that
/// order; the few slots that can be in the result are then scored exactly, in query order and
/// double precision, and ranked on those scores.
private struct TopScoringSearch {
    let query: PreparedQuery
    let k: Int
    let postingLists: [PostingList]
    let parameters: BM25Parameters
    let documentLengths: UnsafeBufferPointer<Int32>
    let eligibleWords: UnsafeBufferPointer<UInt64>
    let eligibleCount: Int
    /// One partial score per slot, 0 until a term adds to it.
    let scores: UnsafeMutableBufferPointer<Float>

    /// Indices into `query.terms`, highest upper bound first.
    private let order: [Int]
    /// `remainingBounds[i]`: what the terms `order[i...]` can add to a score at most.
    private let remainingBounds: [Double]
    /// Slack on every pruning comparison for the rounding of `Float` partial scores, summed in
    /// another order than the exact scores, and of the final rounding to `Float`.
    private let margin: Double
    /// `Float` forms of `k1 · (1 − b)` and `k1 · b / avgdl`, for partial scores.
    private let lengthNormBase: Float
    private let lengthNormSlope: Float

    init(
        query: PreparedQuery,
        k: Int,
        postingLists: [PostingList],
        parameters: BM25Parameters,
        documentLengths: UnsafeBufferPointer<Int32>,
        eligibleWords: UnsafeBufferPointer<UInt64>,
        eligibleCount: Int,
        scores: UnsafeMutableBufferPointer<Float>
    ) {
        self.query = query
        self.k = k
        self.postingLists = postingLists
        self.parameters = parameters
        self.documentLengths = documentLengths
        self.eligibleWords = eligibleWords
        self.eligibleCount = eligibleCount
        self.scores = scores
        // Ties broken by term id so the order, and with it every partial sum, is reproducible.
        order = query.terms.indices.sorted { left, right in
            let leftTerm = query.terms[left]
            let rightTerm = query.terms[right]
            return leftTerm.upperBound != rightTerm.upperBound ? leftTerm.upperBound > rightTerm.upperBound : leftTerm.id < rightTerm.id
        }
        var remainingBounds = [Double](repeating: 0, count: order.count + 1)
        for position in order.indices.reversed() {
            remainingBounds[position] = remainingBounds[position + 1] + query.terms[order[position]].upperBound
        }
        self.remainingBounds = remainingBounds
        // Each Float operation rounds by at most half an ulp: about six for a term's share of
        // a partial score and one for adding it, so a partial sum strays by a few ulps of
        // `remainingBounds[0]` per term at most. Eight per term, and eight terms' worth more
        // for the final rounding to Float, leave room several times over.
        margin = remainingBounds[0] * Double(Float.ulpOfOne) * 8 * Double(query.occurrences.count + 8)
        lengthNormBase = Float(parameters.k1 * (1 - parameters.b))
        lengthNormSlope = Float(parameters.k1 * parameters.b / query.averageLength)
    }

    func run() -> [ScoredSlot] {
        var touched: [IndexSlot] = []
        var threshold = -Double.infinity
        var eligibleSlots: [IndexSlot]?
        var next = 0
        while next < order.count {
            if next > 0, touched.count >= k, isWorthCheckingThreshold(before: next, touchedCount: touched.count) {
                threshold = max(threshold, kthBestScore(among: touched))
                if remainingBounds[next] + margin < threshold { break }
            }
            let term = query.terms[order[next]]
            let list = postingLists[Int(term.id)]
            let weight = Float(Double(term.occurrences) * term.idf)
            if eligibleCount * 16 < list.count {
                // Few eligible slots against a long list: look them up instead of reading it.
                let slots = eligibleSlots ?? allEligibleSlots()
                eligibleSlots = slots
                slots.withUnsafeBufferPointer { slots in
                    list.forEachPosting(among: slots) { candidate, frequency in
                        add(weight: weight, frequency: frequency, to: slots[candidate], touched: &touched)
                    }
                }
            } else {
                addScanning(list, weight: weight, touched: &touched)
            }
            next += 1
        }

        var contenders: [IndexSlot]
        if next < order.count {
            contenders = ascending(touched.filter { Double(scores[Int($0)]) + remainingBounds[next] + margin >= threshold })
            for position in next..<order.count {
                let term = query.terms[order[position]]
                let weight = Float(Double(term.occurrences) * term.idf)
                contenders.withUnsafeBufferPointer { contenders in
                    postingLists[Int(term.id)].forEachPosting(among: contenders) { candidate, frequency in
                        let slot = Int(contenders[candidate])
                        scores[slot] += partialScore(weight: weight, frequency: frequency, length: documentLengths[slot])
                    }
                }
                threshold = max(threshold, kthBestScore(among: contenders))
                contenders.removeAll { Double(scores[Int($0)]) + remainingBounds[position + 1] + margin < threshold }
            }
        } else {
            contenders = touched
        }
        threshold = max(threshold, kthBestScore(among: contenders))
        let finalists = ascending(contenders.filter { Double(scores[Int($0)]) + margin >= threshold })
        return rankedExactly(finalists)
    }

    /// Whether the k-th best partial score could already rule out new slots, and finding it
    /// (a pass over the touched slots) costs less than the postings it could spare.
    private func isWorthCheckingThreshold(before next: Int, touchedCount: Int) -> Bool {
        // No partial score exceeds what the terms taken so far can add.
        let takenBound = remainingBounds[0] - remainingBounds[next]
        guard takenBound > remainingBounds[next] + margin else { return false }
        let remainingPostings = order[next...].reduce(0) { $0 + postingLists[Int(query.terms[$1].id)].count }
        return remainingPostings > touchedCount / 4
    }

    @inline(__always)
    private func partialScore(weight: Float, frequency: UInt16, length: Int32) -> Float {
        let frequency = Float(frequency)
        return weight * frequency / (frequency + (lengthNormBase + lengthNormSlope * Float(length)))
    }

    @inline(__always)
    private func add(weight: Float, frequency: UInt16, to slot: IndexSlot, touched: inout [IndexSlot]) {
        let slot = Int(slot)
        let previous = scores[slot]
        // Every contribution is positive (idf > 0 and frequency ≥ 1), so 0 means untouched.
        if previous == 0 { touched.append(IndexSlot(slot)) }
        scores[slot] = previous + partialScore(weight: weight, frequency: frequency, length: documentLengths[slot])
    }

    /// Adds a term's contribution to every eligible slot in its list.
    private func addScanning(_ list: PostingList, weight: Float, touched: inout [IndexSlot]) {
        list.slots.withUnsafeBufferPointer { slots in
            list.frequencies.withUnsafeBufferPointer { frequencies in
                for posting in slots.indices {
                    let slot = slots[posting]
                    // Removed slots' postings fail here too: they are not live.
                    guard eligibleWords[Int(slot) >> 6] & (1 << UInt64(slot & 63)) != 0 else { continue }
                    add(weight: weight, frequency: frequencies[posting], to: slot, touched: &touched)
                }
            }
        }
    }

    private func allEligibleSlots() -> [IndexSlot] {
        var slots: [IndexSlot] = []
        slots.reserveCapacity(eligibleCount)
        for (wordIndex, word) in eligibleWords.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                slots.append(IndexSlot(wordIndex << 6 | bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
        return slots
    }

    /// The k-th best partial score among `slots`, or -∞ when there are fewer than k.
    private func kthBestScore(among slots: [IndexSlot]) -> Double {
        guard slots.count >= k else { return -.infinity }
        // A min-heap of the k best so far; its root is the k-th best.
        var heap: [Float] = []
        heap.reserveCapacity(k)
        for slot in slots {
            let score = scores[Int(slot)]
            if heap.count < k {
                heap.append(score)
                var child = heap.count - 1
                while child > 0, heap[(child - 1) / 2] > heap[child] {
                    heap.swapAt(child, (child - 1) / 2)
                    child = (child - 1) / 2
                }
            } else if score > heap[0] {
                heap[0] = score
                var parent = 0
                while true {
                    var smallest = parent
                    let left = 2 * parent + 1
                    if left < k, heap[left] < heap[smallest] { smallest = left }
                    if left + 1 < k, heap[left + 1] < heap[smallest] { smallest = left + 1 }
                    guard smallest != parent else { break }
                    heap.swapAt(parent, smallest)
                    parent = smallest
                }
            }
        }
        return Double(heap[0])
    }

    /// `slots` in ascending order, through a bit set when there are many.
    private func ascending(_ slots: [IndexSlot]) -> [IndexSlot] {
        guard slots.count > eligibleWords.count else { return slots.sorted() }
        var marks = [UInt64](repeating: 0, count: eligibleWords.count)
        for slot in slots { marks[Int(slot) >> 6] |= 1 << UInt64(slot & 63) }
        var sorted: [IndexSlot] = []
        sorted.reserveCapacity(slots.count)
        for (wordIndex, word) in marks.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                sorted.append(IndexSlot(wordIndex << 6 | bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
        return sorted
    }

    /// Scores `finalists` (ascending) exactly as the index documents it and keeps the k best,
    /// ties with the k-th included.
    private func rankedExactly(_ finalists: [IndexSlot]) -> [ScoredSlot] {
        let termCount = query.terms.count
        var frequencies = [UInt16](repeating: 0, count: finalists.count * termCount)
        finalists.withUnsafeBufferPointer { finalists in
            for (termIndex, term) in query.terms.enumerated() {
                postingLists[Int(term.id)].forEachPosting(among: finalists) { finalist, frequency in
                    frequencies[finalist * termCount + termIndex] = frequency
                }
            }
        }
        let k1 = parameters.k1
        let b = parameters.b
        let averageLength = query.averageLength
        var ranked: [ScoredSlot] = []
        ranked.reserveCapacity(finalists.count)
        for (finalist, slot) in finalists.enumerated() {
            let length = Double(documentLengths[Int(slot)])
            var score = 0.0
            for termIndex in query.occurrences {
                let frequency = frequencies[finalist * termCount + termIndex]
                guard frequency > 0 else { continue }
                let tf = Double(frequency)
                score += query.terms[termIndex].idf * tf / (tf + k1 * (1 - b + b * length / averageLength))
            }
            ranked.append(ScoredSlot(slot: slot, score: Float(score)))
        }
        ranked.sort { $0.score != $1.score ? $0.score > $1.score : $0.slot < $1.slot }
        guard ranked.count > k else { return ranked }
        let cutoff = ranked[k - 1].score
        let end = ranked[k...].firstIndex { $0.score < cutoff } ?? ranked.count
        return Array(ranked[..<end])
    }
}
