import Foundation

/// Cuts a parsed document into passages that follow its structure and fit the embedding model.
///
/// - A heading (a short block set larger than the body text) starts a section, and no passage
///   crosses into the next section; the heading opens its section's first passage, and every
///   passage records the headings above it.
/// - Within a section, layout blocks (paragraphs, list items, table cells as MuPDF groups them)
///   are packed whole into passages of at most `maximumWordPieces`; a block too long for one is
///   cut at line ends, and a line too long for one at word ends.
/// - Length is counted in the embedding model's word pieces, the unit it truncates in:
///   all-MiniLM-L6-v2 reads 256, `[CLS]` and `[SEP]` included, hence 254.
public struct Chunker: Sendable {
    public let maximumWordPieces: Int
    private let count: @Sendable (String) -> Int

    /// - Parameter wordPieceCount: the embedding model's length of a text, without `[CLS]` and
    ///   `[SEP]` (`LocalSentenceEmbedder.wordPieceCount`).
    public init(maximumWordPieces: Int = 254, wordPieceCount: @escaping @Sendable (String) -> Int) {
        self.maximumWordPieces = maximumWordPieces
        self.count = wordPieceCount
    }

    public func chunks(of document: ParsedDocument) -> [DocumentChunk] {
        let pages = document.pages.map { (page: $0, scalars: Array($0.text.unicodeScalars)) }
        let blocks = pages.flatMap { Self.blocks(of: $0.page, scalars: $0.scalars) }
        let bodySize = Self.bodyFontSize(of: blocks)
        var builder = Builder(pages: Dictionary(uniqueKeysWithValues: pages.map { ($0.page.number, $0.scalars) }))
        var headings: [(size: Double, text: String)] = []
        for block in blocks {
            if block.isHeading(bodySize: bodySize) {
                builder.flush()
                while let last = headings.last, last.size <= block.fontSize { headings.removeLast() }
                headings.append((block.fontSize, block.text.split(whereSeparator: \.isNewline).joined(separator: " ")))
                builder.headingPath = headings.map(\.text)
            }
            for piece in pieces(of: block) {
                if builder.wordPieces + piece.wordPieces > maximumWordPieces { builder.flush() }
                builder.append(piece)
            }
        }
        builder.flush()
        return builder.chunks
    }

    /// A block whole if it fits, else its lines, else a too-long line's words.
    private func pieces(of block: Block) -> [Piece] {
        let whole = count(block.text)
        if whole <= maximumWordPieces { return [Piece(page: block.page, range: block.range, lines: block.lines, wordPieces: whole)] }
        return block.lines.flatMap { line -> [Piece] in
            let text = block.text(of: line.range)
            let length = count(text)
            if length <= maximumWordPieces { return [Piece(page: block.page, range: line.range, lines: [line], wordPieces: length)] }
            // Cut at spaces into runs that fit; a single word longer than the limit stands alone
            // (the model truncates it, as it would anyway).
            var pieces: [Piece] = []
            var start = line.range.lowerBound
            var end = start
            var runLength = 0
            for word in Self.words(in: line.range, of: block.scalars) {
                let wordLength = count(block.text(of: word))
                if runLength > 0, runLength + wordLength > maximumWordPieces {
                    pieces.append(Piece(page: block.page, range: start..<end, lines: [line], wordPieces: runLength))
                    start = word.lowerBound
                    runLength = 0
                }
                end = word.upperBound
                runLength += wordLength
            }
            if runLength > 0 { pieces.append(Piece(page: block.page, range: start..<end, lines: [line], wordPieces: runLength)) }
            return pieces
        }
    }

    /// Ranges of the space-separated words within `range`.
    private static func words(in range: Range<Int>, of scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start: Int?
        for index in range {
            let isSpace = scalars[index].properties.isWhitespace
            if isSpace, let wordStart = start {
                words.append(wordStart..<index)
                start = nil
            } else if !isSpace, start == nil {
                start = index
            }
        }
        if let start { words.append(start..<range.upperBound) }
        return words
    }

    /// The page's layout blocks, each the run of consecutive lines MuPDF put in one block.
    private static func blocks(of page: ParsedPage, scalars: [Unicode.Scalar]) -> [Block] {
        var blocks: [Block] = []
        var lines: [TextLine] = []
        func close() {
            guard let first = lines.first, let last = lines.last else { return }
            blocks.append(Block(page: page.number, range: first.range.lowerBound..<last.range.upperBound, lines: lines, scalars: scalars))
            lines = []
        }
        for line in page.lines {
            if let last = lines.last, last.block != line.block { close() }
            lines.append(line)
        }
        close()
        return blocks
    }

    /// The font size most of the text is set in (to half a point), weighted by length.
    private static func bodyFontSize(of blocks: [Block]) -> Double {
        var weights: [Double: Int] = [:]
        for block in blocks {
            for line in block.lines { weights[(line.fontSize * 2).rounded() / 2, default: 0] += line.range.count }
        }
        return weights.max { $0.value < $1.value }?.key ?? 0
    }

    private struct Block {
        let page: Int
        let range: Range<Int>
        let lines: [TextLine]
        let scalars: [Unicode.Scalar]

        var text: String { text(of: range) }
        var fontSize: Double { lines.map(\.fontSize).max() ?? 0 }

        func text(of range: Range<Int>) -> String {
            String(String.UnicodeScalarView(scalars[range]))
        }

        /// Short, set clearly larger than the body, and not a sentence.
        func isHeading(bodySize: Double) -> Bool {
            guard bodySize > 0, lines.count <= 2, range.count <= 120, fontSize >= bodySize * 1.15 else { return false }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.contains { $0.isLetter } && !trimmed.hasSuffix(".")
        }
    }

    private struct Piece {
        let page: Int
        let range: Range<Int>
        let lines: [TextLine]
        let wordPieces: Int
    }

    /// Collects pieces into the passage being built and closes it into a chunk.
    private struct Builder {
        let pages: [Int: [Unicode.Scalar]]
        var headingPath: [String] = []
        var chunks: [DocumentChunk] = []
        private var pieces: [Piece] = []
        private(set) var wordPieces = 0

        init(pages: [Int: [Unicode.Scalar]]) {
            self.pages = pages
        }

        mutating func append(_ piece: Piece) {
            pieces.append(piece)
            wordPieces += piece.wordPieces
        }

        mutating func flush() {
            guard !pieces.isEmpty else { return }
            // One span per page, from the first piece's start to the last one's end: pieces are
            // in reading order, and what lies between them is the page's own line breaks.
            var spans: [PageSpan] = []
            for piece in pieces {
                if let last = spans.last, last.page == piece.page {
                    spans[spans.count - 1] = PageSpan(page: piece.page, range: last.range.lowerBound..<piece.range.upperBound)
                } else {
                    spans.append(PageSpan(page: piece.page, range: piece.range))
                }
            }
            let text = spans.map { String(String.UnicodeScalarView(pages[$0.page]![$0.range])) }.joined(separator: "\n")
            var boxes: [PageBox] = []
            for piece in pieces {
                for line in piece.lines where boxes.last.map({ $0.page != piece.page || $0.box != line.box }) ?? true {
                    boxes.append(PageBox(page: piece.page, box: line.box))
                }
            }
            chunks.append(
                DocumentChunk(index: chunks.count, text: text, spans: spans, boxes: boxes, headingPath: headingPath, wordPieces: wordPieces)
            )
            pieces = []
            wordPieces = 0
        }
    }
}
