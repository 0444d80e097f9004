/// What a block of a document without layout is: body text, or a heading of some level.
enum BlockStyle: Equatable {
    case body
    /// A document's title (DOCX's "Title" style), above every heading.
    case title
    /// `h1`…`h6`, `#`…`######`, Word's "heading 1"…"heading 9".
    case heading(level: Int)

    /// The nominal font size lines of this style carry.
    ///
    /// DOCX, HTML and Markdown say outright which blocks are headings, but the chunker finds
    /// headings the way it must for PDFs: short blocks set clearly larger (≥ 1.15 ×) than the body
    /// text. Nominal sizes, larger for higher levels, let that one chunker serve every format and
    /// nest sections by level. Levels 4 and below share a size: documents rarely go that deep,
    /// and the steps must stay at least 1.15 × the body.
    var fontSize: Double {
        switch self {
        case .body: 10
        case .title: 24
        case .heading(level: ...1): 20
        case .heading(level: 2): 17
        case .heading(level: 3): 14.5
        case .heading: 12
        }
    }
}

/// Assembles the single page of a document that has no pages (DOCX, HTML, Markdown, plain text)
/// from its blocks: paragraphs, list items, headings, code blocks, whole tables.
///
/// The page has the canonical form PDF pages have (each line ends in `\n`, a blank line
/// separates blocks, ranges count Unicode scalars), so chunking and citations treat every
/// format alike. These formats have no layout, so the page measures 0 × 0 and every line's box
/// is all zeros: a citation into them is a character span, never a place on a page.
struct BlockPageBuilder {
    private var page = PageTextBuilder()
    private var blockCount = 0

    static let noLayout = BoundingBox(x0: 0, y0: 0, x1: 0, y1: 0)

    var isEmpty: Bool { page.lines.isEmpty }

    /// Adds one block. A line break inside a line starts a new line of the block, trailing
    /// whitespace is dropped, and blank lines are left out (a blank line would read as the end
    /// of the block); a block with no text left adds nothing.
    mutating func appendBlock(_ lines: some Sequence<String>, style: BlockStyle) {
        var added = false
        for line in lines {
            for part in line.unicodeScalars.split(omittingEmptySubsequences: true, whereSeparator: Self.isLineBreak) {
                guard let last = part.lastIndex(where: { !$0.properties.isWhitespace }) else { continue }
                page.append(String(String.UnicodeScalarView(part[...last])), box: Self.noLayout, block: blockCount, fontSize: style.fontSize)
                added = true
            }
        }
        if added { blockCount += 1 }
    }

    /// The page, numbered 1.
    func build() -> ParsedPage {
        ParsedPage(number: 1, width: 0, height: 0, text: page.text, lines: page.lines, source: .textLayer)
    }

    /// Every scalar Unicode counts as ending a line, so none survives inside a line's text.
    private static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": true
        default: false
        }
    }
}
