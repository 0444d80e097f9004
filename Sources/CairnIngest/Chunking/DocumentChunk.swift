/// A passage of a document as it is embedded, indexed and cited.
///
/// `text` is exactly the page texts its spans cover, joined by `\n` where it crosses a page, so a
/// citation can always be checked against the page it names.
public struct DocumentChunk: Sendable, Equatable {
    /// Position in the document, from 0.
    public let index: Int
    public let text: String
    /// Where the text sits, page by page: a range of each page's text in Unicode scalars.
    public let spans: [PageSpan]
    /// The boxes of the lines the passage covers.
    public let boxes: [PageBox]
    /// The headings the passage sits under, outermost first.
    public let headingPath: [String]
    /// Length in the embedding model's word pieces (`[CLS]` and `[SEP]` not counted).
    public let wordPieces: Int

    /// First and last page, 1-based.
    public var pages: ClosedRange<Int> { spans[0].page...spans[spans.count - 1].page }
}

/// A range of one page's text, in Unicode scalars.
public struct PageSpan: Sendable, Equatable, Codable {
    public let page: Int
    public let range: Range<Int>

    public init(page: Int, range: Range<Int>) {
        self.page = page
        self.range = range
    }
}

/// A line's box on a page.
public struct PageBox: Sendable, Equatable, Codable {
    public let page: Int
    public let box: BoundingBox

    public init(page: Int, box: BoundingBox) {
        self.page = page
        self.box = box
    }
}
