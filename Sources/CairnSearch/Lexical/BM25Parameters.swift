/// The two free parameters of Okapi BM25.
///
/// The defaults, k1 = 0.9 and b = 0.4, are Pyserini's (Anserini's) BM25 defaults, with which
/// it publishes its BEIR baselines (nDCG@10 0.679 on SciFact). Keeping them makes Cairn's
/// lexical retrieval comparable with those published figures, where Lucene's own defaults
/// (1.2 and 0.75) would not; tuning them per corpus would need relevance judgements that a
/// bank's corpus does not have.
public struct BM25Parameters: Sendable, Equatable {
    /// How quickly a term's repetitions stop adding to a score; 0 ignores repetition.
    public let k1: Double
    /// How much a chunk's length relative to the average dampens its score, from 0 (not at
    /// all) to 1 (fully).
    public let b: Double

    public init(k1: Double = 0.9, b: Double = 0.4) {
        precondition(k1 >= 0 && k1.isFinite, "BM25's k1 is a finite number of at least 0")
        precondition((0...1).contains(b), "BM25's b lies between 0 and 1")
        self.k1 = k1
        self.b = b
    }
}
