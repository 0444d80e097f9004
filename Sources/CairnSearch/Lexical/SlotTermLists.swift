/// The distinct terms of each slot's text, kept so that removing a slot undoes exactly what
/// inserting it did to the document frequencies and posting lists.
///
/// Each list is stored sorted, as variable-length deltas in one shared byte array (about 1.5
/// bytes a term rather than 4), since the lists of a million chunks would otherwise take a
/// third as much memory as the postings themselves.
struct SlotTermLists: Sendable {
    private var bytes: [UInt8] = []
    /// Where each slot's record starts in `bytes`, or -1 when the slot has none.
    private var offsets: [Int] = []
    /// Bytes of records that were discarded, reclaimed once they are half of `bytes`.
    private var discardedByteCount = 0

    func hasTerms(_ slot: IndexSlot) -> Bool {
        Int(slot) < offsets.count && offsets[Int(slot)] >= 0
    }

    /// Records `termIDs` (ascending, distinct) for `slot`, which has no record.
    mutating func store(_ termIDs: [TermID], for slot: IndexSlot) {
        let index = Int(slot)
        if index >= offsets.count { offsets.append(contentsOf: repeatElement(-1, count: index + 1 - offsets.count)) }
        offsets[index] = bytes.count
        appendVarint(UInt32(termIDs.count))
        var previous: TermID = 0
        for termID in termIDs {
            appendVarint(UInt32(termID - previous))
            previous = termID
        }
    }

    /// The term ids recorded for `slot`, ascending; empty when it has no record.
    func termIDs(of slot: IndexSlot) -> [TermID] {
        guard hasTerms(slot) else { return [] }
        var position = offsets[Int(slot)]
        let count = Int(readVarint(at: &position))
        var termIDs: [TermID] = []
        termIDs.reserveCapacity(count)
        var termID: TermID = 0
        for _ in 0..<count {
            termID += TermID(readVarint(at: &position))
            termIDs.append(termID)
        }
        return termIDs
    }

    mutating func discard(_ slot: IndexSlot) {
        guard hasTerms(slot) else { return }
        var end = offsets[Int(slot)]
        let count = readVarint(at: &end)
        for _ in 0..<count { _ = readVarint(at: &end) }
        discardedByteCount += end - offsets[Int(slot)]
        offsets[Int(slot)] = -1
        if discardedByteCount > bytes.count / 2 { reclaimDiscardedBytes() }
    }

    /// Copies the records still in use into a new array, in slot order.
    private mutating func reclaimDiscardedBytes() {
        var reclaimed = SlotTermLists()
        reclaimed.bytes.reserveCapacity(bytes.count - discardedByteCount)
        reclaimed.offsets = Array(repeating: -1, count: offsets.count)
        for slot in offsets.indices where offsets[slot] >= 0 {
            reclaimed.store(termIDs(of: IndexSlot(slot)), for: IndexSlot(slot))
        }
        self = reclaimed
    }

    private mutating func appendVarint(_ value: UInt32) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private func readVarint(at position: inout Int) -> UInt32 {
        var value: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            let byte = bytes[position]
            position += 1
            value |= UInt32(byte & 0x7F) << shift
            guard byte >= 0x80 else { return value }
            shift += 7
        }
    }
}
