/// Vectors stored row after row, each with its slot: the rows inserted since the last training
/// (every row, before the first), or one inverted list of a trained ``VectorIndex``.
///
/// Rows are kept contiguous so a list scans as one sequential read; removal moves the last row
/// into the hole, so row order is not insertion order (scores do not depend on it).
struct VectorList: Sendable {
    /// The slot of each row.
    private(set) var slots: [IndexSlot] = []
    /// The rows, `slots.count × dimension` floats.
    private(set) var vectors: [Float] = []

    var count: Int { slots.count }

    /// Makes room for `rows` rows in all, exactly, so a list built at a known size carries no slack.
    mutating func reserveCapacity(rows: Int, dimension: Int) {
        slots.reserveCapacity(rows)
        vectors.reserveCapacity(rows * dimension)
    }

    /// Appends a row and returns its index.
    mutating func append(_ slot: IndexSlot, vector: UnsafeBufferPointer<Float>) -> Int {
        let dimension = vector.count
        if slots.count == slots.capacity {
            // Lists grow by a quarter, not by Array's doubling: after training every list sits
            // at its exact size, and doubling on the next insert would let a 1.5 GB index
            // drift towards 3 GB of capacity as inserts touch every list.
            reserveCapacity(rows: slots.count + max(16, slots.count / 4), dimension: dimension)
        }
        slots.append(slot)
        vectors.append(contentsOf: vector)
        return slots.count - 1
    }

    /// Removes row `row` by moving the last row into its place, and returns the slot of the row
    /// that moved (nil when `row` was the last).
    mutating func removeRow(_ row: Int, dimension: Int) -> IndexSlot? {
        let last = slots.count - 1
        var moved: IndexSlot?
        if row != last {
            slots[row] = slots[last]
            moved = slots[row]
            vectors.withUnsafeMutableBufferPointer { rows in
                let base = rows.baseAddress!
                (base + row * dimension).update(from: base + last * dimension, count: dimension)
            }
        }
        slots.removeLast()
        vectors.removeLast(dimension)
        return moved
    }

    /// Empties the list, keeping its capacity for the rows that come next.
    mutating func removeAll() {
        slots.removeAll(keepingCapacity: true)
        vectors.removeAll(keepingCapacity: true)
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
