extension VectorIndex {
    /// When a ``VectorIndex`` turns approximate, and how hard its approximate search looks.
    ///
    /// The defaults were measured on two cores over 384-dimensional embeddings; see each field.
    public struct Configuration: Sendable, Equatable {
        /// The live count at which the index trains its inverted lists; from then on (while at
        /// least this many vectors are live) ``VectorIndex/search(_:k:among:)`` is approximate.
        ///
        /// 100,000: an exact scan of that many 384-dimensional vectors reads 154 MB and takes
        /// about 4 ms, within budget, while training on them takes about a second. Above it the
        /// exact scan grows past what a query may spend (about 40 ms at a million).
        public var approximateAbove: Int
        /// Inverted lists per square root of the live count: `4·√N` lists, about 4,000 at a
        /// million vectors with 250 in each.
        public var listsPerSquareRootOfCount: Double
        /// The share of the live vectors an approximate search scans at least, taken from the
        /// lists whose centroids are nearest the query.
        public var scannedShare: Double
        /// The fewest vectors an approximate search scans, whatever ``scannedShare`` says, so
        /// that small indexes keep their recall.
        public var minimumScanned: Int
        /// A filtered search allowing fewer than this share of the live vectors skips the lists
        /// and scores the allowed vectors exactly: fewer vectors to read than the lists it would
        /// have to probe to find `k` allowed ones, and an exact answer.
        public var exactBelowAllowedShare: Double
        /// Vectors sampled per list to train the centroids.
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
            exactBelowAllowedShare: Double = 0.02,
            trainingSamplesPerList: Int = 32,
            trainingIterations: Int = 6,
            assignmentBatch: Int = 2_048
        ) {
            self.approximateAbove = approximateAbove
            self.listsPerSquareRootOfCount = listsPerSquareRootOfCount
            self.scannedShare = scannedShare
            self.minimumScanned = minimumScanned
            self.exactBelowAllowedShare = exactBelowAllowedShare
            self.trainingSamplesPerList = trainingSamplesPerList
            self.trainingIterations = trainingIterations
            self.assignmentBatch = assignmentBatch
        }
    }
}
