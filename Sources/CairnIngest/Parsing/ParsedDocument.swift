/// A document's text as parsing found it, page by page: what chunking reads and what every
/// citation points back into.
public struct ParsedDocument: Sendable {
    public var pages: [ParsedPage]

    public init(pages: [ParsedPage]) {
        self.pages = pages
    }
}

/// One page's text and where each line of it sits on the page.
///
/// `text` is the page's canonical text: lines end in `\n`, and a blank line separates blocks.
/// Every `TextLine.range` indexes it in Unicode scalars, the unit both SQL engines' `substr`
/// counts in, so a stored span can be checked against the stored page text.
public struct ParsedPage: Sendable {
    /// 1-based, as printed page numbers and citations count.
    public let number: Int
    /// Page size in PDF points (1/72 inch), after rotation.
    public let width: Double
    public let height: Double
    public let text: String
    public let lines: [TextLine]
    public let source: TextSource
    /// The words of a page with a layout (a PDF's text layer, OCR), in reading order: what an
    /// extracted value's box is made of. Empty for formats without one.
    public let words: [TextWord]

    public init(number: Int, width: Double, height: Double, text: String, lines: [TextLine], source: TextSource, words: [TextWord] = []) {
        self.number = number
        self.width = width
        self.height = height
        self.text = text
        self.lines = lines
        self.source = source
        self.words = words
    }
}

/// A word on a page: a run of non-space characters and the box its glyphs (or OCR) cover.
public struct TextWord: Sendable, Equatable {
    /// Where the word sits in `ParsedPage.text`, in Unicode scalars.
    public let range: Range<Int>
    public let box: BoundingBox

    public init(range: Range<Int>, box: BoundingBox) {
        self.range = range
        self.box = box
    }
}

/// A line of text on a page.
public struct TextLine: Sendable, Equatable {
    /// Where the line's text sits in `ParsedPage.text`, in Unicode scalars.
    public let range: Range<Int>
    public let box: BoundingBox
    /// The layout block the line belongs to (paragraph, table cell, heading…), numbered from 0.
    public let block: Int
    /// The largest font size on the line, in points (for OCR, the line's height): what tells a
    /// heading from body text.
    public let fontSize: Double

    public init(range: Range<Int>, box: BoundingBox, block: Int, fontSize: Double) {
        self.range = range
        self.box = box
        self.block = block
        self.fontSize = fontSize
    }
}

/// A rectangle on a page in PDF points, origin at the top left, y growing downwards.
public struct BoundingBox: Sendable, Equatable, Codable {
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double

    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    /// The smallest box holding both.
    public func union(_ other: BoundingBox) -> BoundingBox {
        BoundingBox(x0: min(x0, other.x0), y0: min(y0, other.y0), x1: max(x1, other.x1), y1: max(y1, other.y1))
    }
}

/// Where a page's text came from.
public enum TextSource: String, Sendable, Codable {
    /// The document's own text layer.
    case textLayer = "text-layer"
    /// Optical character recognition of the rendered page (it had no text layer).
    case ocr
}
