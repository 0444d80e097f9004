/// BM25 retrieval over the chunks of one index partition: an inverted index from analysed
/// terms to slots, with value semantics (a copy is a snapshot; copies share storage until one
/// of them changes).
///
/// Scores are Lucene's `BM25Similarity` (Lucene 8 and later), which Pyserini's BEIR baselines
/// use: a chunk's score is the sum, over the query's terms in query order, of
/// `idf · tf / (tf + k1 · (1 − b + b · dl / avgdl))` for the terms the chunk contains, with
/// `idf = ln(1 + (N − df + 0.5) / (df + 0.5))`. N is the number of live slots, df the number of
/// live slots whose text has the term, dl a slot's number of terms and avgdl their mean over
/// live slots; a term written twice in the query counts twice. The sum is taken in double
/// precision and rounded to `Float` once. Unlike Lucene, which stores a document's length as a
/// one-byte approximation, lengths here are exact: there is no index file format to keep small.
///
/// The statistics are the partition's, whatever slots a search may return: an access filter
/// changes which chunks come back, never how they score.
public struct LexicalIndex: Sendable {
    public let analyzer: TextAnalyzer
    public let parameters: BM25Parameters
    /// Live slots: inserted and not removed since.
    public private(set) var count = 0

    private(set) var termIDs: [String: TermID] = [:]
    private(set) var postingLists: [PostingList] = []
    /// Per slot, the number of terms in its text, or -1 when the slot is not live.
    private(set) var documentLengths: [Int32] = []
    /// One bit per slot, set while the slot is live.
    private(set) var liveSlotWords: [UInt64] = []
    /// The number of terms over all live slots.
    private(set) var totalLength = 0
    private var slotTerms = SlotTermLists()
    /// Postings in the lists, those of removed slots included.
    private var postingCount = 0
    private var removedPostingCount = 0
    /// Removed slots whose postings are still in the lists.
    private var removedSlotsAwaitingCompaction: [IndexSlot] = []

    /// The lists are compacted once this share of their postings belongs to removed slots.
    private static let compactionThreshold = 0.25

    public init(analyzer: TextAnalyzer = TextAnalyzer(), parameters: BM25Parameters = BM25Parameters()) {
        self.analyzer = analyzer
        self.parameters = parameters
    }

    /// Indexes `text` under `slot`, which must not be live.
    ///
    /// Slots may arrive in any order; ascending order is the cheap one.
    public mutating func insert(_ slot: IndexSlot, text: String) {
        precondition(slot >= 0, "index slots start at 0")
        let index = Int(slot)
        if index >= documentLengths.count {
            documentLengths.append(contentsOf: repeatElement(-1, count: index + 1 - documentLengths.count))
            liveSlotWords.append(contentsOf: repeatElement(0, count: (index >> 6) + 1 - liveSlotWords.count))
        }
        precondition(documentLengths[index] < 0, "slot \(slot) is already in the lexical index")
        if slotTerms.hasTerms(slot) { deleteRemovedPostings(of: slot) }

        var termIDs: [TermID] = []
        let analyzer = self.analyzer
        analyzer.forEachTerm(in: text) { termIDs.append(termID(for: $0)) }
        termIDs.sort()
        var distinctTermIDs: [TermID] = []
        distinctTermIDs.reserveCapacity(termIDs.count)
        var start = 0
        while start < termIDs.count {
            var end = start + 1
            while end < termIDs.count, termIDs[end] == termIDs[start] { end += 1 }
            // A frequency above 65,535 in one chunk is not text a reader wrote; it saturates.
            postingLists[Int(termIDs[start])].append(slot, frequency: UInt16(clamping: end - start))
            distinctTermIDs.append(termIDs[start])
            start = end
        }
        slotTerms.store(distinctTermIDs, for: slot)
        postingCount += distinctTermIDs.count

        let length = Int32(clamping: termIDs.count)
        documentLengths[index] = length
        totalLength += Int(length)
        liveSlotWords[index >> 6] |= 1 << UInt64(index & 63)
        count += 1
    }

    /// Takes `slot` out of the index; afterwards every statistic is as if it had never been
    /// inserted. Removing a slot that is not live does nothing.
    public mutating func remove(_ slot: IndexSlot) {
        let index = Int(slot)
        guard index >= 0, index < documentLengths.count, documentLengths[index] >= 0 else { return }
        let termIDs = slotTerms.termIDs(of: slot)
        for termID in termIDs { postingLists[Int(termID)].markRemoved() }
        removedPostingCount += termIDs.count
        removedSlotsAwaitingCompaction.append(slot)

        totalLength -= Int(documentLengths[index])
        documentLengths[index] = -1
        liveSlotWords[index >> 6] &= ~(1 << UInt64(index & 63))
        count -= 1
        if Double(removedPostingCount) > Self.compactionThreshold * Double(postingCount) { compact() }
    }

    /// The id of the term spelled by `bytes`, registered if new.
    private mutating func termID(for bytes: UnsafeBufferPointer<UInt8>) -> TermID {
        let term = String(decoding: bytes, as: UTF8.self)
        if let termID = termIDs[term] { return termID }
        let termID = TermID(postingLists.count)
        termIDs[term] = termID
        postingLists.append(PostingList())
        return termID
    }

    /// Deletes the postings a removed slot left behind, before the slot is used again.
    private mutating func deleteRemovedPostings(of slot: IndexSlot) {
        let termIDs = slotTerms.termIDs(of: slot)
        for termID in termIDs { postingLists[Int(termID)].deleteRemovedPosting(of: slot) }
        removedPostingCount -= termIDs.count
        postingCount -= termIDs.count
        slotTerms.discard(slot)
    }

    /// Drops the postings of removed slots from every list that has some, and forgets the
    /// removed slots' term lists.
    private mutating func compact() {
        let documentLengths = self.documentLengths
        for termID in postingLists.indices where postingLists[termID].removedCount > 0 {
            postingLists[termID].compact(documentLengths: documentLengths)
        }
        // A slot removed, inserted again and removed again is listed twice; discarding is idempotent.
        for slot in removedSlotsAwaitingCompaction where documentLengths[Int(slot)] < 0 {
            slotTerms.discard(slot)
        }
        removedSlotsAwaitingCompaction = []
        postingCount -= removedPostingCount
        removedPostingCount = 0
    }
}
