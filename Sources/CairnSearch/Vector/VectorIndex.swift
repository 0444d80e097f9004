/// Nearest neighbours by dot product among the embeddings of one index partition, with the
/// caller's access filter applied inside the search.
///
/// Below ``Configuration/approximateAbove`` live vectors every search is an exact scan. At that
/// count the index trains an IVF-Flat layout: spherical k-means on a sample gives about `4·√N`
/// centroids, and each vector moves to the inverted list of its nearest centroid, which holds
/// the slots and the vectors themselves in contiguous blocks. A search scans the lists nearest
/// the query until it has scored enough vectors *that the filter allows*: its share of the
/// index and never fewer than `k`, or every list. A caller who may see `k` chunks therefore
/// always gets `k` hits, however the filter cuts the lists, and a narrow filter sends the
/// search further out instead of costing it recall.
///
/// The lists are the storage: nothing keeps a second copy of the vectors, and exact search
/// walks the lists. Vectors inserted after training wait in a small unassigned batch that every
/// search scans, then join their nearest lists together; the index retrains when the live count
/// has doubled since the last training. Training is deterministic (a fixed seed, slots drawn in
/// ascending order), so replicas fed the same inserts and removals build the same lists and
/// return the same hits.
///
/// A value type with one writer: ``insert(_:vector:)`` may train, which takes seconds (see
/// there). Searches only read, score on the calling thread and never use BLAS's thread pool,
/// so any number of them may run at once on copies.
public struct VectorIndex: Sendable {
    /// The length of every vector.
    public let dimension: Int
    /// The settings the index was created with.
    public let configuration: Configuration
    /// How many vectors are live.
    public private(set) var count = 0
    /// The live count when the lists were last trained; 0 before the first training.
    public private(set) var trainedCount = 0

    /// Rows inserted since the last training; every row before the first.
    private var unassigned = VectorList()
    /// The inverted lists, one per centroid; empty until trained.
    private var lists: [VectorList] = []
    /// The unit centroids of ``lists``, row-major.
    private var centroids: [Float] = []
    /// Where each slot's vector is stored, indexed by slot.
    private var locations: [VectorLocation] = []

    /// The seed of every training: fixed, so that replicas agree.
    private static let trainingSeed: UInt64 = 0x43_61_69_72_6E_49_56_46  // "CairnIVF"

    /// A filtered search whose filter allows fewer than this many times the vectors it must
    /// score is answered exactly. To score that many by following the lists it would test the
    /// slots of two thirds of the index or more, and reading the allowed rows directly is
    /// cheaper. Measured at a million vectors, with 10,000 to score: under a filter allowing
    /// 10,000 the lists took 9 ms against 5.6 ms, allowing 20,000 they took 8 ms against 14 ms.
    private static let exactBelowCandidateMultiple = 1.5

    /// A filtered exact search reads the allowed rows one by one, through their locations,
    /// when the filter allows fewer than this share of the live vectors; above it, it walks
    /// every list and reads the rows whose slots are allowed. Measured over a million vectors:
    /// at 1 % row by row took 5.4 ms against 7.3 ms, at 2 % the two were even, at 3 % row by
    /// row took 18 ms against 12 ms.
    private static let rowByRowBelowAllowedShare = 0.02

    /// An empty index of `dimension`-dimensional vectors.
    public init(dimension: Int, configuration: Configuration = .init()) {
        precondition(dimension > 0, "vectors need at least one dimension")
        precondition(
            configuration.approximateAbove > 0 && configuration.listsPerSquareRootOfCount > 0 && configuration.trainingSamplesPerList > 0
                && configuration.trainingIterations >= 0 && configuration.assignmentBatch > 0,
            "a vector index configuration needs positive counts and ratios (and no negative iterations)"
        )
        self.dimension = dimension
        self.configuration = configuration
    }

    /// Whether ``search(_:k:among:)`` may answer from the inverted lists rather than exactly.
    public var isApproximate: Bool { !lists.isEmpty && count >= configuration.approximateAbove }

    /// The number of inverted lists; 0 until trained.
    public var listCount: Int { lists.count }

    /// Adds `slot`'s vector, a unit vector (scores are plain dot products).
    ///
    /// `vector` must have ``dimension`` finite components and `slot` must not be live. These
    /// are preconditions rather than thrown errors because the caller can check each of them
    /// and an index that accepted a violation would be wrong everywhere: one NaN poisons the
    /// centroid its list is trained into. A caller holding vectors from outside the process
    /// (the database, possibly written by another embedding model) checks them first and
    /// leaves such a chunk out of vector search only.
    ///
    /// May train or retrain the lists (see the type's documentation), which makes this call as
    /// slow as a training: 3–8 s at 100,000 vectors, 40–55 s at 800,000 on two cores busy
    /// with other work.
    public mutating func insert(_ slot: IndexSlot, vector: [Float]) {
        precondition(vector.count == dimension, "the vector has \(vector.count) dimensions, the index \(dimension)")
        // A NaN or infinite component makes the squared norm NaN or infinite: one BLAS call
        // checks every component (and refuses components too large to square, far from unit).
        precondition(vector.withUnsafeBufferPointer(VectorKernels.squaredNorm).isFinite, "the vector has a component that is not a finite number")
        precondition(slot >= 0, "slots start at 0")
        let index = Int(slot)
        if index >= locations.count {
            locations.append(contentsOf: repeatElement(.absent, count: index - locations.count + 1))
        }
        precondition(!locations[index].isStored, "slot \(slot) is already in the vector index")
        let row = vector.withUnsafeBufferPointer { unassigned.append(slot, vector: $0) }
        locations[index] = VectorLocation(list: VectorLocation.unassignedList, row: Int32(row))
        count += 1
        if lists.isEmpty ? count >= configuration.approximateAbove : count >= 2 * trainedCount {
            train()
        } else if !lists.isEmpty && unassigned.count >= configuration.assignmentBatch {
            assignUnassigned()
        }
    }

    /// Removes `slot`'s vector; nothing happens if it has none.
    public mutating func remove(_ slot: IndexSlot) {
        let index = Int(slot)
        guard index >= 0, index < locations.count, locations[index].isStored else { return }
        let location = locations[index]
        locations[index] = .absent
        let moved =
            location.list == VectorLocation.unassignedList
            ? unassigned.removeRow(Int(location.row), dimension: dimension)
            : lists[Int(location.list)].removeRow(Int(location.row), dimension: dimension)
        if let moved { locations[Int(moved)].row = location.row }
        count -= 1
    }

    /// The `k` live slots in `allowed` (every live slot when nil) whose vectors have the largest
    /// dot product with `query`, best first and slots ascending among equal scores; slots tying
    /// with the `k`-th score are all returned, so there may be more than `k`.
    ///
    /// Approximate once the index ``isApproximate``, except under a filter so narrow that
    /// following the lists would cost more than scoring every allowed vector: one allowing
    /// fewer than 1.5 times the vectors the search scores (see
    /// ``Configuration/scannedShare``). Either way the result holds at least
    /// `min(k, allowed live slots)` hits. `query` must have ``dimension`` components: it comes
    /// from the embedder that filled the index.
    public func search(_ query: [Float], k: Int, among allowed: SlotSet? = nil) -> [ScoredSlot] {
        precondition(query.count == dimension, "the query has \(query.count) dimensions, the index \(dimension)")
        guard k > 0, count > 0 else { return [] }
        // Asking for more hits than there are vectors asks for all of them.
        let k = min(k, count)
        guard isApproximate else { return exactSearch(query, k: k, among: allowed) }
        // Candidates are the vectors the filter allows: a filter leaves fewer of them near the
        // query, so the lists are followed further out to score as many. At least `k` of them,
        // or every list: that is what guarantees `k` hits to a caller who may see `k`.
        let enough = max(k, configuration.minimumScanned, Int(configuration.scannedShare * Double(count)))
        if let allowed, Double(allowed.count) < Self.exactBelowCandidateMultiple * Double(enough) {
            return exactSearch(query, k: k, among: allowed)
        }
        return query.withUnsafeBufferPointer { query in
            let query = query.baseAddress!
            var top = TopScoredSlots(k: k)
            // The unassigned rows are few (below `assignmentBatch`) and belong to no list yet.
            _ = scan(unassigned, query: query, allowed: allowed, into: &top)
            var candidates = 0
            for list in listsNearest(query) {
                if candidates >= enough { break }
                candidates += scan(lists[list], query: query, allowed: allowed, into: &top)
            }
            return top.hits()
        }
    }

    /// What ``search(_:k:among:)`` returns, computed exactly: every allowed live vector is scored.
    ///
    /// The reference approximate search is measured against, and the path of small indexes and
    /// narrow filters.
    public func exactSearch(_ query: [Float], k: Int, among allowed: SlotSet? = nil) -> [ScoredSlot] {
        precondition(query.count == dimension, "the query has \(query.count) dimensions, the index \(dimension)")
        guard k > 0, count > 0 else { return [] }
        // Asking for more hits than there are vectors asks for all of them.
        let k = min(k, count)
        return query.withUnsafeBufferPointer { query in
            let query = query.baseAddress!
            var top = TopScoredSlots(k: k)
            if let allowed, Double(allowed.count) < Self.rowByRowBelowAllowedShare * Double(count) {
                for slot in allowed.slots {
                    let index = Int(slot)
                    guard index < locations.count, locations[index].isStored else { continue }
                    top.offer(slot, score: score(at: locations[index], query: query))
                }
            } else {
                _ = scan(unassigned, query: query, allowed: allowed, into: &top)
                for list in lists { _ = scan(list, query: query, allowed: allowed, into: &top) }
            }
            return top.hits()
        }
    }

    /// Offers every row of `list` that `allowed` admits to `top`, and returns how many it admitted.
    private func scan(_ list: VectorList, query: UnsafePointer<Float>, allowed: SlotSet?, into top: inout TopScoredSlots) -> Int {
        let dimension = dimension
        guard let allowed else {
            list.slots.withUnsafeBufferPointer { slots in
                list.forEachBlock { firstRow, rows in
                    for row in 0..<(rows.count / dimension) {
                        top.offer(slots[firstRow + row], score: VectorKernels.dot(rows.baseAddress! + row * dimension, query, dimension: dimension))
                    }
                }
            }
            return list.count
        }
        // Under a filter, the slots decide which rows are read at all: a narrow filter sends
        // the search through hundreds of thousands of rows, and touching each of their blocks
        // (for its length) cost a cache miss per 32 rows, most of the search's time.
        var admitted = 0
        list.slots.withUnsafeBufferPointer { slots in
            for row in slots.indices where allowed.contains(slots[row]) {
                admitted += 1
                top.offer(slots[row], score: list.withRow(row, dimension: dimension) { VectorKernels.dot($0, query, dimension: dimension) })
            }
        }
        return admitted
    }

    @inline(__always)
    private func score(at location: VectorLocation, query: UnsafePointer<Float>) -> Float {
        withRow(at: location) { VectorKernels.dot($0, query, dimension: dimension) }
    }

    @inline(__always)
    private func withRow<Result>(at location: VectorLocation, _ body: (UnsafePointer<Float>) -> Result) -> Result {
        if location.list == VectorLocation.unassignedList { return unassigned.withRow(Int(location.row), dimension: dimension, body) }
        return lists[Int(location.list)].withRow(Int(location.row), dimension: dimension, body)
    }

    /// Every list, its centroid most similar to `query` first (lower list first among equals).
    private func listsNearest(_ query: UnsafePointer<Float>) -> [Int] {
        var similarities = [(similarity: Float, list: Int)]()
        similarities.reserveCapacity(lists.count)
        centroids.withUnsafeBufferPointer { centroids in
            for list in lists.indices {
                similarities.append((VectorKernels.dot(centroids.baseAddress! + list * dimension, query, dimension: dimension), list))
            }
        }
        similarities.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.list < $1.list }
        return similarities.map(\.list)
    }

    // MARK: Training

    /// Trains centroids for the live vectors and moves every vector to its nearest centroid's list.
    ///
    /// The sample is drawn from the live slots in ascending order with a generator of fixed
    /// seed, so the lists depend only on which vectors are live, not on where they are stored.
    private mutating func train() {
        var slots: [IndexSlot] = []
        slots.reserveCapacity(count)
        for (index, location) in locations.enumerated() where location.isStored { slots.append(IndexSlot(index)) }
        let wantedLists = Int((configuration.listsPerSquareRootOfCount * Double(count).squareRoot()).rounded())
        let listCount = min(count, max(1, wantedLists))
        let sampleCount = min(count, listCount * configuration.trainingSamplesPerList)
        var generator = SeededGenerator(seed: Self.trainingSeed)
        for position in 0..<sampleCount {
            slots.swapAt(position, position + generator.next(below: count - position))
        }
        var sample = [Float](repeating: 0, count: sampleCount * dimension)
        sample.withUnsafeMutableBufferPointer { sample in
            for position in 0..<sampleCount {
                withRow(at: locations[Int(slots[position])]) { row in
                    (sample.baseAddress! + position * dimension).update(from: row, count: dimension)
                }
            }
        }
        let trained = SphericalKMeans.centroids(
            of: sample,
            dimension: dimension,
            clusterCount: listCount,
            iterations: configuration.trainingIterations
        )
        redistribute(over: trained)
        trainedCount = count
    }

    /// Replaces the lists with one per row of `newCentroids`, holding every live vector.
    ///
    /// Every vector is assigned among all the new centroids. Only considering the 64 nearest its
    /// old list's centroid would save most of a retraining's arithmetic, but misplaced 2–4 % of
    /// the vectors of test data with more topics than lists: vectors that had no fitting
    /// centroid before belong to a new one unrelated to their old list's. The old lists are drained block by block into the new ones, so the
    /// vectors exist twice only a block at a time, and the allocator hands the freed blocks
    /// straight back for the next rows.
    private mutating func redistribute(over newCentroids: [Float]) {
        var sources = lists
        sources.append(unassigned)
        lists = Array(repeating: VectorList(), count: newCentroids.count / dimension)
        unassigned = VectorList()
        centroids = newCentroids
        let nearest = sources.map(nearestLists(of:))
        for index in sources.indices {
            var source = sources[index]
            sources[index] = VectorList()
            move(&source, to: nearest[index])
        }
    }

    /// Moves the unassigned rows to their nearest lists.
    private mutating func assignUnassigned() {
        var pending = unassigned
        unassigned = VectorList()
        move(&pending, to: nearestLists(of: pending))
    }

    /// For each row of `source`, the list whose centroid is nearest.
    ///
    /// Rows are copied into batches of 1,024 for one `sgemm` each: a product per 32-row block
    /// would spend more time packing the centroids than multiplying.
    private func nearestLists(of source: VectorList) -> [Int32] {
        let batchRows = 1_024
        var nearest: [Int32] = []
        nearest.reserveCapacity(source.count)
        var batch: [Float] = []
        batch.reserveCapacity(min(source.count, batchRows) * dimension)
        func assignBatch() {
            batch.withUnsafeBufferPointer { rows in
                centroids.withUnsafeBufferPointer { centroids in
                    nearest += VectorKernels.nearestCentroids(of: rows, centroids: centroids, dimension: dimension)
                }
            }
            batch.removeAll(keepingCapacity: true)
        }
        source.forEachBlock { _, rows in
            batch.append(contentsOf: rows)
            if batch.count >= batchRows * dimension { assignBatch() }
        }
        assignBatch()
        return nearest
    }

    /// Appends each row of `source` to the list `destinations` names for it, emptying `source`.
    private mutating func move(_ source: inout VectorList, to destinations: [Int32]) {
        let dimension = dimension
        let slots = source.slots
        source.drain { firstRow, rows in
            for row in 0..<(rows.count / dimension) {
                let slot = slots[firstRow + row]
                let list = Int(destinations[firstRow + row])
                let vector = UnsafeBufferPointer(rebasing: rows[(row * dimension)..<((row + 1) * dimension)])
                let newRow = lists[list].append(slot, vector: vector)
                locations[Int(slot)] = VectorLocation(list: Int32(list), row: Int32(newRow))
            }
        }
    }
}
