/// Vectors stored row after row, each with its slot: the rows inserted since the last training
/// (every row, before the first), or one inverted list of a trained ``VectorIndex``.
///
/// Rows live in blocks of ``rowsPerBlock``, each block one contiguous allocation scanned as a
/// sequential read. Every block has the same size, so the blocks that a retraining drains or a
/// removal empties are exactly what the allocator hands out for the next rows. Lists grown by
/// reallocation instead left glibc holding twice the vectors' size after each retraining (the
/// old lists' memory, freed but not reusable for the new, differently sized ones).
///
/// Removal moves the last row into the hole, so row order is not insertion order; scores do not
/// depend on it.
struct VectorList: Sendable {
    /// 32 rows: 48 KB at 384 dimensions, so at most 31 rows of unused space per list (about
    /// 6 % of the vectors at a million of them in 4,000 lists).
    static let rowsPerBlock = 32

    /// The slot of each row.
    private(set) var slots: [IndexSlot] = []
    /// The rows, `rowsPerBlock` to a block; only the last block may hold fewer.
    private var blocks: [[Float]] = []

    var count: Int { slots.count }

    /// Appends a row and returns its index.
    mutating func append(_ slot: IndexSlot, vector: UnsafeBufferPointer<Float>) -> Int {
        let row = slots.count
        if row % Self.rowsPerBlock == 0 {
            var block: [Float] = []
            block.reserveCapacity(Self.rowsPerBlock * vector.count)
            blocks.append(block)
        }
        blocks[blocks.count - 1].append(contentsOf: vector)
        slots.append(slot)
        return row
    }

    /// Removes row `row` by moving the last row into its place, and returns the slot of the row
    /// that moved (nil when `row` was the last).
    mutating func removeRow(_ row: Int, dimension: Int) -> IndexSlot? {
        let last = slots.count - 1
        let lastBlock = last / Self.rowsPerBlock
        let lastOffset = last % Self.rowsPerBlock * dimension
        var moved: IndexSlot?
        if row != last {
            let block = row / Self.rowsPerBlock
            let offset = row % Self.rowsPerBlock * dimension
            if block == lastBlock {
                blocks[block].withUnsafeMutableBufferPointer { rows in
                    (rows.baseAddress! + offset).update(from: rows.baseAddress! + lastOffset, count: dimension)
                }
            } else {
                blocks[block].replaceSubrange(offset..<(offset + dimension), with: blocks[lastBlock][lastOffset...])
            }
            slots[row] = slots[last]
            moved = slots[row]
        }
        slots.removeLast()
        blocks[lastBlock].removeLast(dimension)
        if blocks[lastBlock].isEmpty { blocks.removeLast() }
        return moved
    }

    /// Calls `body` with each block in row order: the index of its first row and its rows.
    func forEachBlock(_ body: (_ firstRow: Int, _ rows: UnsafeBufferPointer<Float>) -> Void) {
        for (index, block) in blocks.enumerated() {
            block.withUnsafeBufferPointer { body(index * Self.rowsPerBlock, $0) }
        }
    }

    /// Calls `body` with each block in row order, as ``forEachBlock(_:)`` does, releasing each
    /// block after it, and leaves the list empty: a list moved elsewhere is freed as it goes.
    mutating func drain(_ body: (_ firstRow: Int, _ rows: UnsafeBufferPointer<Float>) -> Void) {
        for index in blocks.indices {
            blocks[index].withUnsafeBufferPointer { body(index * Self.rowsPerBlock, $0) }
            blocks[index] = []
        }
        blocks = []
        slots = []
    }

    /// Calls `body` with row `row`.
    @inline(__always)
    func withRow<Result>(_ row: Int, dimension: Int, _ body: (UnsafePointer<Float>) -> Result) -> Result {
        blocks[row / Self.rowsPerBlock].withUnsafeBufferPointer { body($0.baseAddress! + row % Self.rowsPerBlock * dimension) }
    }
}

/// Where a slot's vector is stored: a row of an inverted list, a row of the unassigned rows,
/// or nowhere. Eight bytes per slot, indexed by slot.
struct VectorLocation: Sendable {
    /// `list` of a row among the rows not yet assigned to an inverted list.
    static let unassignedList: Int32 = -1
    /// A slot with no vector: never inserted, or removed.
    static let absent = VectorLocation(list: -2, row: 0)

    var list: Int32
    var row: Int32

    var isStored: Bool { list != Self.absent.list }
}
