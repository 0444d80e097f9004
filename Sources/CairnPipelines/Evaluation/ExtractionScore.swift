public import CairnCore
import Foundation

/// How well an extraction matches its expected output, scored as the extraction development sets
/// are (`../shared/data/extraction-dev/README.md`), so Cairn's figures compare with published ones.
///
/// Both sides are normalised: numbers become floats rounded to 6 places; strings are lower-cased
/// with whitespace and punctuation removed; empty values (null, "", [], {}) are dropped. Leaves
/// then match exactly. Arrays match order-independently: items pair greedily, best pair first,
/// and an item left without a partner counts against. A document's score is the mean over its
/// leaves, expected and extra alike, so a value invented where none was expected costs as much
/// as one missed.
public struct ExtractionScore: Sendable, Equatable {
    /// Leaves that matched.
    public var matched: Double
    /// Leaves counted: every expected leaf, plus every extracted leaf with nothing expected there.
    public var leaves: Int
    /// Per top-level field: matched and counted leaves, for the per-field table.
    public var fields: [String: FieldScore]

    public struct FieldScore: Sendable, Equatable {
        public var matched: Double
        public var leaves: Int
        public var accuracy: Double { leaves == 0 ? 1 : matched / Double(leaves) }

        public init(matched: Double, leaves: Int) {
            self.matched = matched
            self.leaves = leaves
        }
    }

    /// matched / leaves; 1 when neither side has any leaf.
    public var value: Double { leaves == 0 ? 1 : matched / Double(leaves) }

    /// Scores `extracted` against `expected`.
    public init(expected: JSONValue, extracted: JSONValue) {
        let expected = Normalized(expected)
        let extracted = Normalized(extracted)
        var fields: [String: FieldScore] = [:]
        if case .object(let wanted) = expected ?? .object([:]), case .object(let found) = extracted ?? .object([:]) {
            for key in Set(wanted.keys).union(found.keys) {
                let tally = Self.tally(wanted[key], found[key])
                fields[key] = FieldScore(matched: tally.matched, leaves: tally.leaves)
            }
            self.matched = fields.values.reduce(0) { $0 + $1.matched }
            self.leaves = fields.values.reduce(0) { $0 + $1.leaves }
        } else {
            let tally = Self.tally(expected, extracted)
            (self.matched, self.leaves) = (tally.matched, tally.leaves)
        }
        self.fields = fields
    }

    /// Matched and counted leaves of two normalised values.
    static func tally(_ expected: Normalized?, _ extracted: Normalized?) -> (matched: Double, leaves: Int) {
        switch (expected, extracted) {
        case (nil, nil): return (0, 0)
        case (let value?, nil), (nil, let value?): return (0, value.leafCount)
        case (.object(let wanted)?, .object(let found)?):
            return Set(wanted.keys).union(found.keys).reduce((0, 0)) { total, key in
                let tally = tally(wanted[key], found[key])
                return (total.0 + tally.matched, total.1 + tally.leaves)
            }
        case (.array(let wanted)?, .array(let found)?):
            return pairGreedily(wanted, found)
        case (let wanted?, let found?):
            // Two leaves, or a leaf against a structure: the expected side's shape is what counts.
            let leaves = max(wanted.leafCount, found.leafCount)
            return (wanted == found ? Double(leaves) : 0, leaves)
        }
    }

    /// Pairs array items best-first; an unpaired item on either side scores 0 for its leaves.
    static func pairGreedily(_ wanted: [Normalized], _ found: [Normalized]) -> (matched: Double, leaves: Int) {
        var candidates: [(wanted: Int, found: Int, matched: Double, leaves: Int)] = []
        for (i, item) in wanted.enumerated() {
            for (j, other) in found.enumerated() {
                let tally = tally(item, other)
                candidates.append((i, j, tally.matched, tally.leaves))
            }
        }
        // Best pair first: most leaves matched, then fewest leaves at stake, then input order.
        candidates.sort { ($0.matched, -$0.leaves, -$0.wanted, -$0.found) > ($1.matched, -$1.leaves, -$1.wanted, -$1.found) }
        var (usedWanted, usedFound) = (Set<Int>(), Set<Int>())
        var (matched, leaves) = (0.0, 0)
        for candidate in candidates where !usedWanted.contains(candidate.wanted) && !usedFound.contains(candidate.found) {
            usedWanted.insert(candidate.wanted)
            usedFound.insert(candidate.found)
            matched += candidate.matched
            leaves += candidate.leaves
        }
        for (i, item) in wanted.enumerated() where !usedWanted.contains(i) { leaves += item.leafCount }
        for (j, item) in found.enumerated() where !usedFound.contains(j) { leaves += item.leafCount }
        return (matched, leaves)
    }
}

/// A JSON value after the scoring rule's normalisation; `nil` where the value was empty.
enum Normalized: Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([Normalized])
    case object([String: Normalized])

    init?(_ value: JSONValue) {
        switch value {
        case .null: return nil
        case .bool(let flag): self = .bool(flag)
        case .number(let number): self = .number((number * 1_000_000).rounded() / 1_000_000)
        case .string(let text):
            let kept = text.lowercased().unicodeScalars.filter {
                !CharacterSet.whitespacesAndNewlines.contains($0) && !CharacterSet.punctuationCharacters.contains($0)
                    && !CharacterSet.symbols.contains($0)
            }
            guard !kept.isEmpty else { return nil }
            self = .string(String(String.UnicodeScalarView(kept)))
        case .array(let items):
            let kept = items.compactMap(Normalized.init)
            guard !kept.isEmpty else { return nil }
            self = .array(kept)
        case .object(let members):
            let kept = members.compactMapValues(Normalized.init)
            guard !kept.isEmpty else { return nil }
            self = .object(kept)
        }
    }

    /// How many leaves the value holds.
    var leafCount: Int {
        switch self {
        case .string, .number, .bool: 1
        case .array(let items): items.reduce(0) { $0 + $1.leafCount }
        case .object(let members): members.values.reduce(0) { $0 + $1.leafCount }
        }
    }
}
