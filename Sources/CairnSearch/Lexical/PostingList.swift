/// A term's number in one lexical index, in the order terms were first seen.
typealias TermID = Int32

/// The slots one term occurs in, with how often it occurs in each.
///
/// Two parallel arrays (6 bytes a posting) rather than compressed blocks: a million chunks make
/// about seventy million postings, which fit in memory uncompressed, and scoring then reads
/// them without decoding. Postings of removed slots stay until the index compacts, and are
/// skipped while scoring because their slots are no longer live.
struct PostingList: Sendable {
    private(set) var slots: [IndexSlot] = []
    private(set) var frequencies: [UInt16] = []
    /// `slots[..<sortedCount]` ascend. Slots mostly arrive in ascending order and are appended
    /// to that run; the few that arrive late wait after it and are merged in once they are
    /// more than a small fraction, so lookups by slot stay a binary search.
    private(set) var sortedCount = 0
    /// Live postings: the number of live slots whose text has the term.
    private(set) var documentFrequency = 0
    /// Postings of removed slots still in the arrays.
    private(set) var removedCount = 0
    /// The highest frequency among the postings, removed ones included: an upper bound.
    private(set) var maximumFrequency: UInt16 = 0

    /// Late postings merged once there are this many, or a thirty-second of the sorted run.
    private static let minimumUnsortedRun = 64

    var count: Int { slots.count }

    mutating func append(_ slot: IndexSlot, frequency: UInt16) {
        if sortedCount == slots.count, slots.last.map({ $0 < slot }) ?? true { sortedCount += 1 }
        slots.append(slot)
        frequencies.append(frequency)
        documentFrequency += 1
        maximumFrequency = max(maximumFrequency, frequency)
        if slots.count - sortedCount > max(Self.minimumUnsortedRun, sortedCount / 32) { mergeUnsortedPostings() }
    }

    /// Counts the posting of a slot being removed as dead; it goes at the next compaction.
    mutating func markRemoved() {
        documentFrequency -= 1
        removedCount += 1
    }

    /// Deletes the dead posting of `slot` now, because the slot is being used again before
    /// the index compacted: a slot has at most one posting in a list.
    mutating func deleteRemovedPosting(of slot: IndexSlot) {
        guard let index = position(of: slot) else { return }
        slots.remove(at: index)
        frequencies.remove(at: index)
        if index < sortedCount { sortedCount -= 1 }
        removedCount -= 1
    }

    /// Drops the postings of slots that are not live (`documentLengths` below 0), keeping order.
    mutating func compact(documentLengths: [Int32]) {
        var kept = 0
        var keptSorted = 0
        var maximum: UInt16 = 0
        for index in slots.indices where documentLengths[Int(slots[index])] >= 0 {
            slots[kept] = slots[index]
            frequencies[kept] = frequencies[index]
            maximum = max(maximum, frequencies[index])
            if index < sortedCount { keptSorted += 1 }
            kept += 1
        }
        slots.removeLast(slots.count - kept)
        frequencies.removeLast(frequencies.count - kept)
        // Give back what a list that shrank a lot no longer needs.
        if slots.capacity > 2 * kept + Self.minimumUnsortedRun {
            slots = Array(slots)
            frequencies = Array(frequencies)
        }
        sortedCount = keptSorted
        removedCount = 0
        maximumFrequency = maximum
    }

    /// Where `slot`'s posting is, if it has one.
    func position(of slot: IndexSlot) -> Int? {
        let index = lowerBound(of: slot, in: 0..<sortedCount)
        if index < sortedCount, slots[index] == slot { return index }
        return slots[sortedCount...].firstIndex(of: slot)
    }

    /// Calls `body(candidateIndex, frequency)` for each slot of `candidates` (ascending) that has
    /// a posting here, dead ones included.
    ///
    /// Galloping search through whichever of the two is longer, so the cost is about the
    /// shorter one's length times the logarithm of the ratio: a few candidates against a long
    /// list cost a few binary searches, many candidates against a short list a few more.
    func forEachPosting(among candidates: UnsafeBufferPointer<IndexSlot>, _ body: (Int, UInt16) -> Void) {
        slots.withUnsafeBufferPointer { slots in
            frequencies.withUnsafeBufferPointer { frequencies in
                let sorted = UnsafeBufferPointer(rebasing: slots[..<sortedCount])
                if sorted.count <= candidates.count {
                    var candidate = 0
                    for posting in sorted.indices {
                        candidate = gallop(to: sorted[posting], in: candidates, from: candidate)
                        guard candidate < candidates.count else { break }
                        if candidates[candidate] == sorted[posting] { body(candidate, frequencies[posting]) }
                    }
                } else {
                    var posting = 0
                    for candidate in candidates.indices {
                        posting = gallop(to: candidates[candidate], in: sorted, from: posting)
                        guard posting < sorted.count else { break }
                        if sorted[posting] == candidates[candidate] { body(candidate, frequencies[posting]) }
                    }
                }
                for posting in sortedCount..<slots.count {
                    let candidate = gallop(to: slots[posting], in: candidates, from: 0)
                    if candidate < candidates.count, candidates[candidate] == slots[posting] { body(candidate, frequencies[posting]) }
                }
            }
        }
    }

    private func lowerBound(of slot: IndexSlot, in range: Range<Int>) -> Int {
        var low = range.lowerBound
        var high = range.upperBound
        while low < high {
            let middle = (low + high) / 2
            if slots[middle] < slot { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Sorts the late postings and merges them into the sorted run.
    private mutating func mergeUnsortedPostings() {
        let late = (sortedCount..<slots.count).map { (slot: slots[$0], frequency: frequencies[$0]) }.sorted { $0.slot < $1.slot }
        var mergedSlots: [IndexSlot] = []
        var mergedFrequencies: [UInt16] = []
        mergedSlots.reserveCapacity(slots.capacity)
        mergedFrequencies.reserveCapacity(frequencies.capacity)
        var sortedIndex = 0
        for posting in late {
            while sortedIndex < sortedCount, slots[sortedIndex] < posting.slot {
                mergedSlots.append(slots[sortedIndex])
                mergedFrequencies.append(frequencies[sortedIndex])
                sortedIndex += 1
            }
            mergedSlots.append(posting.slot)
            mergedFrequencies.append(posting.frequency)
        }
        mergedSlots.append(contentsOf: slots[sortedIndex..<sortedCount])
        mergedFrequencies.append(contentsOf: frequencies[sortedIndex..<sortedCount])
        slots = mergedSlots
        frequencies = mergedFrequencies
        sortedCount = slots.count
    }
}

/// The first index at or after `start` whose slot is not below `target` (or `sorted.count`):
/// doubling steps, then a binary search within the last step.
@inline(__always)
func gallop(to target: IndexSlot, in sorted: UnsafeBufferPointer<IndexSlot>, from start: Int) -> Int {
    guard start < sorted.count, sorted[start] < target else { return start }
    var low = start  // sorted[low] < target
    var step = 1
    var high = start + step
    while high < sorted.count, sorted[high] < target {
        low = high
        step *= 2
        high = low + step
    }
    high = min(high, sorted.count)
    // sorted[low] < target <= sorted[high] (or high is the end)
    low += 1
    while low < high {
        let middle = (low + high) / 2
        if sorted[middle] < target { low = middle + 1 } else { high = middle }
    }
    return low
}
