/// The best `k` scores offered, and every slot that ties with the `k`-th of them.
///
/// A min-heap holds the `k` best scores seen so far; its root is the score a slot must reach to
/// remain a hit. Slots are kept while they reach it and dropped from time to time as it rises,
/// so a scan of a million rows keeps a few dozen. Ties at the boundary all stay: the caller
/// breaks them by an id the index does not know.
struct TopScoredSlots {
    let k: Int
    /// The lowest score that can still be a hit: the `k`-th best so far, or −∞ before `k` scores.
    private(set) var threshold: Float = -.infinity
    private var best: [Float] = []
    private var candidates: [ScoredSlot] = []
    private var pruneAt: Int

    init(k: Int) {
        precondition(k > 0, "k must be positive")
        self.k = k
        pruneAt = 2 * k + 64
    }

    @inline(__always)
    mutating func offer(_ slot: IndexSlot, score: Float) {
        // Written so that a NaN score, which compares false with everything, is never kept.
        guard score >= threshold else { return }
        candidates.append(ScoredSlot(slot: slot, score: score))
        if best.count < k {
            pushBest(score)
            if best.count == k { threshold = best[0] }
        } else if score > best[0] {
            replaceLowestBest(with: score)
            threshold = best[0]
            if candidates.count >= pruneAt { prune() }
        }
    }

    /// The hits, best first, slots ascending among equal scores.
    func hits() -> [ScoredSlot] {
        candidates.filter { $0.score >= threshold }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.slot < $1.slot }
    }

    private mutating func prune() {
        let threshold = threshold
        candidates.removeAll { $0.score < threshold }
        // Many slots tied at the threshold (duplicate chunks) survive every prune; waiting for
        // twice as many again keeps pruning linear overall.
        pruneAt = max(2 * k + 64, 2 * candidates.count)
    }

    private mutating func pushBest(_ score: Float) {
        best.append(score)
        var child = best.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard best[child] < best[parent] else { break }
            best.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func replaceLowestBest(with score: Float) {
        best[0] = score
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < best.count else { break }
            let right = left + 1
            let smaller = right < best.count && best[right] < best[left] ? right : left
            guard best[smaller] < best[parent] else { break }
            best.swapAt(smaller, parent)
            parent = smaller
        }
    }
}
