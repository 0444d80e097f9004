extension VectorIndex {
    /// When a ``VectorIndex`` turns approximate, and how hard its approximate search looks.
    ///
    /// The defaults were measured on this project's two-core machine (OpenBLAS, AVX2) over
    /// clustered 384-dimensional unit vectors standing in for all-MiniLM-L6-v2 embeddings, a
    /// million of them at most; see each field.
    public struct Configuration: Sendable, Equatable {
        /// The live count at which the index trains its inverted lists; from then on (while at
        /// least this many vectors are live) ``VectorIndex/search(_:k:among:)`` is approximate.
        ///
        /// 100,000: an exact scan of that many vectors (154 MB) took 4–6 ms at the median and
        /// 10–18 ms at the 99th percentile, within a query's budget, and its hits are exact; at
        /// a million it takes 86 ms. Training at 100,000 takes 3–8 s.
        public var approximateAbove: Int
        /// Inverted lists per square root of the live count: `4·√N` lists, 1,265 at 100,000
        /// vectors, 4,000 of about 250 vectors at a million.
        public var listsPerSquareRootOfCount: Double
        /// The share of the live vectors an approximate search scores: it follows the lists
        /// nearest the query until it has scored this many vectors *that the filter allows*.
        ///
        /// 1 %: at a million vectors, recall@10 against exact search was 0.99–1.0 unfiltered and
        /// under filters allowing 30 % down to 2 % of them, in 1.3–8 ms at the median. A tenth
        /// of it still gave 0.99 at 200,000 vectors: the margin, about a millisecond per query,
        /// is for real embeddings, whose neighbourhoods are less tidy than test data.
        public var scannedShare: Double
        /// The fewest vectors an approximate search scores, whatever ``scannedShare`` says, so
        /// that small indexes keep their recall: 2 % of the index where approximation starts.
        public var minimumScanned: Int
        /// Vectors sampled per list to train the centroids. 32 with 6 iterations cost 40 % less
        /// than 40 with 8 and left recall at the default scanned share unchanged.
        public var trainingSamplesPerList: Int
        /// Rounds of Lloyd's algorithm when training.
        public var trainingIterations: Int
        /// Vectors inserted after training wait, scanned by every search, until this many are
        /// assigned to their nearest lists together: a matrix product per 1,024 of them rather
        /// than a matrix-vector product each.
        public var assignmentBatch: Int

        public init(
            approximateAbove: Int = 100_000,
            listsPerSquareRootOfCount: Double = 4,
            scannedShare: Double = 0.01,
            minimumScanned: Int = 2_048,
            trainingSamplesPerList: Int = 32,
            trainingIterations: Int = 6,
            assignmentBatch: Int = 2_048
        ) {
            self.approximateAbove = approximateAbove
            self.listsPerSquareRootOfCount = listsPerSquareRootOfCount
            self.scannedShare = scannedShare
            self.minimumScanned = minimumScanned
            self.trainingSamplesPerList = trainingSamplesPerList
            self.trainingIterations = trainingIterations
            self.assignmentBatch = assignmentBatch
        }
    }
}
