/// A chunk's position in one index partition: dense from 0, assigned as chunks arrive.
///
/// The lexical and vector indexes of a partition share slots, so a hit from either names the
/// same chunk and a filter built once serves both.
public typealias IndexSlot = Int32

/// A slot and how well it matched. Higher is better.
public struct ScoredSlot: Sendable, Equatable {
    public let slot: IndexSlot
    public let score: Float

    public init(slot: IndexSlot, score: Float) {
        self.slot = slot
        self.score = score
    }
}

/// The slots a search may return: the access policy, applied inside retrieval.
///
/// A bit set over slots, built once per query from the caller's visible documents, so both
/// retrievers skip what the caller may not see *before* ranking instead of trimming a top-k.
public struct SlotSet: Sendable, Equatable {
    private(set) var words: [UInt64]
    /// How many slots are in the set.
    public private(set) var count: Int

    /// An empty set able to hold slots `0..<capacity`.
    public init(capacity: Int) {
        words = Array(repeating: 0, count: (capacity + 63) / 64)
        count = 0
    }

    public mutating func insert(_ slot: IndexSlot) {
        let index = Int(slot)
        let word = index >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        let mask = UInt64(1) << UInt64(index & 63)
        if words[word] & mask == 0 {
            words[word] |= mask
            count += 1
        }
    }

    @inline(__always)
    public func contains(_ slot: IndexSlot) -> Bool {
        let index = Int(slot)
        let word = index >> 6
        return word < words.count && words[word] & (UInt64(1) << UInt64(index & 63)) != 0
    }

    /// Every slot in the set, ascending.
    public var slots: [IndexSlot] {
        var result: [IndexSlot] = []
        result.reserveCapacity(count)
        for (wordIndex, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                result.append(IndexSlot(wordIndex << 6 | bit))
                bits &= bits - 1
            }
        }
        return result
    }
}
