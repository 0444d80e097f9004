/// A value read from a stretch of text: what it means, and where the text that says so sits.
public struct TextMatch<Value: Sendable & Equatable>: Sendable, Equatable {
    public let value: Value
    /// The matched characters, in Unicode scalars of the searched text: the unit page text and
    /// its lines and words are indexed in.
    public let range: Range<Int>
    /// How sure the reading is, 0…1: a checksum that holds is near certain; an ambiguous day and
    /// month order is not.
    public let confidence: Double

    public init(value: Value, range: Range<Int>, confidence: Double) {
        self.value = value
        self.range = range
        self.confidence = confidence
    }

    /// The same match with its value transformed.
    public func map<Other>(_ transform: (Value) -> Other) -> TextMatch<Other> {
        TextMatch<Other>(value: transform(value), range: range, confidence: confidence)
    }
}

extension String {
    /// The Unicode-scalar offsets of `range`.
    func scalarOffsets(of range: Range<String.Index>) -> Range<Int> {
        let start = unicodeScalars.distance(from: unicodeScalars.startIndex, to: range.lowerBound)
        return start..<(start + unicodeScalars.distance(from: range.lowerBound, to: range.upperBound))
    }
}
