public import CairnIngest

/// Where an extracted value was read: its page, a box made of that page's own words (from the
/// text layer or OCR, never drawn by a model), and the text of those words.
public struct Provenance: Sendable, Codable, Equatable {
    public let page: Int
    public let box: BoundingBox
    /// The words inside `box`, space-separated: what a reviewer sees highlighted. On a skewed
    /// photo that can be a stray word more than the value's own.
    public let evidence: String

    public init(page: Int, box: BoundingBox, evidence: String) {
        self.page = page
        self.box = box
        self.evidence = evidence
    }
}

extension ParsedPage {
    /// The provenance of characters `range` of the page's text: the words they touch, boxed
    /// together, and the words that box shows. `nil` when no word of the page lies there (a
    /// format without layout).
    public func provenance(of range: Range<Int>) -> Provenance? {
        let touched = words.filter { $0.range.overlaps(range) }
        guard let first = touched.first else { return nil }
        let box = touched.dropFirst().reduce(first.box) { $0.union($1.box) }
        return Provenance(page: number, box: box, evidence: text(inside: box))
    }

    /// The words whose centres lie inside `box`, as `Provenance.evidence` spells them: reading
    /// a box back checks that it shows what the evidence says.
    public func text(inside box: BoundingBox) -> String {
        evidence(
            of: words.filter { word in
                let (x, y) = ((word.box.x0 + word.box.x1) / 2, (word.box.y0 + word.box.y1) / 2)
                return x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1
            }
        )
    }

    private func evidence(of words: [TextWord]) -> String {
        let scalars = Array(text.unicodeScalars)
        return words.map { String(String.UnicodeScalarView(scalars[$0.range])) }.joined(separator: " ")
    }
}
