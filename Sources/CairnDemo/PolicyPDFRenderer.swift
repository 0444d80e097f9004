/// Renders a policy written in simple Markdown (headings `#`/`##`/`###`, plain paragraphs separated by blank lines) as a PDF.
///
/// The output is a PDF 1.4 file on A4 pages that uses the non-embedded standard fonts Helvetica and
/// Helvetica-Bold, so it stays small and needs no font files. The same input always gives the same bytes.
public struct PolicyPDFRenderer: Sendable {
    public init() {}

    /// Returns the bytes of a PDF file showing `markdown`.
    ///
    /// - Throws: ``PolicyPDFRenderError`` when the text has characters the standard fonts cannot show,
    ///   or nothing to show.
    public func render(markdown: String) throws -> [UInt8] {
        let blocks = try MarkdownBlock.parse(markdown)
        let pages = PageLayout.paginate(blocks)
        let title = blocks.first { $0.headingLevel == 1 }.map { Array($0.words.joined(separator: [ASCII.space])) }
        return PDFSerializer.serialize(pages: pages, title: title)
    }
}

/// Why ``PolicyPDFRenderer`` could not render a document.
public enum PolicyPDFRenderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The standard fonts are used without embedding, and only their ASCII glyphs are reliably present.
    case nonASCIICharacter(line: Int, character: Unicode.Scalar)
    /// Control characters other than tab and line breaks have no glyph and no sensible layout.
    case controlCharacter(line: Int, character: Unicode.Scalar)
    /// The document has no heading or paragraph text once Markdown markers are removed.
    case emptyDocument

    public var description: String {
        switch self {
        case let .nonASCIICharacter(line, character):
            "Line \(line) contains the non-ASCII character \(Self.codePoint(character)), which the policy PDF renderer cannot show."
        case let .controlCharacter(line, character):
            "Line \(line) contains the control character \(Self.codePoint(character)), which the policy PDF renderer cannot show."
        case .emptyDocument:
            "The policy document has no heading or paragraph text to render."
        }
    }

    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

// MARK: - Markdown

private enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let hash: UInt8 = 0x23
    static let leftParenthesis: UInt8 = 0x28
    static let rightParenthesis: UInt8 = 0x29
    static let asterisk: UInt8 = 0x2A
    static let backslash: UInt8 = 0x5C
    static let underscore: UInt8 = 0x5F
    static let backtick: UInt8 = 0x60

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    static func isPunctuation(_ byte: UInt8) -> Bool {
        (0x21...0x2F).contains(byte) || (0x3A...0x40).contains(byte)
            || (0x5B...0x60).contains(byte) || (0x7B...0x7E).contains(byte)
    }
}

/// A heading or paragraph, reduced to the words that will be typeset.
private struct MarkdownBlock {
    /// 1...3 for headings (deeper headings are shown as level 3), nil for a paragraph.
    let headingLevel: Int?
    let words: [[UInt8]]

    static func parse(_ markdown: String) throws(PolicyPDFRenderError) -> [MarkdownBlock] {
        var blocks: [MarkdownBlock] = []
        var paragraphSource: [UInt8] = []

        func appendBlock(headingLevel: Int?, source: ArraySlice<UInt8>) {
            let words = plainText(fromInline: source).split(separator: ASCII.space).map(Array.init)
            if !words.isEmpty {
                blocks.append(MarkdownBlock(headingLevel: headingLevel, words: words))
            }
        }
        func finishParagraph() {
            appendBlock(headingLevel: nil, source: paragraphSource[...])
            paragraphSource.removeAll()
        }

        for line in try printableLines(of: markdown) {
            let content = trimmingSpaces(line[...])
            if content.isEmpty {
                finishParagraph()
            } else if let heading = heading(in: content) {
                finishParagraph()
                appendBlock(headingLevel: heading.level, source: heading.text)
            } else {
                // Lines of one paragraph are soft-wrapped source text, so they join with a space.
                if !paragraphSource.isEmpty { paragraphSource.append(ASCII.space) }
                paragraphSource.append(contentsOf: content)
            }
        }
        finishParagraph()

        guard !blocks.isEmpty else { throw .emptyDocument }
        return blocks
    }

    /// Splits on LF, CRLF or CR, turns tabs into spaces, and rejects anything the fonts cannot show.
    private static func printableLines(of markdown: String) throws(PolicyPDFRenderError) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        var previousWasCarriageReturn = false
        var isFirstScalar = true
        for scalar in markdown.unicodeScalars {
            defer { isFirstScalar = false }
            let value = scalar.value
            if value == UInt32(ASCII.lineFeed), previousWasCarriageReturn {
                previousWasCarriageReturn = false
                continue
            }
            previousWasCarriageReturn = value == UInt32(ASCII.carriageReturn)
            switch value {
            case UInt32(ASCII.lineFeed), UInt32(ASCII.carriageReturn):
                lines.append([])
            case UInt32(ASCII.tab):
                lines[lines.count - 1].append(ASCII.space)
            case 0x20...0x7E:
                lines[lines.count - 1].append(UInt8(value))
            case 0xFEFF where isFirstScalar:
                continue  // A byte order mark left by an editor is not content.
            case 0x00..<0x20, 0x7F:
                throw .controlCharacter(line: lines.count, character: scalar)
            default:
                throw .nonASCIICharacter(line: lines.count, character: scalar)
            }
        }
        return lines
    }

    /// Recognises an ATX heading: 1–6 `#` then a space or the end of the line, with any closing `#` run removed.
    private static func heading(in line: ArraySlice<UInt8>) -> (level: Int, text: ArraySlice<UInt8>)? {
        let hashCount = line.prefix { $0 == ASCII.hash }.count
        guard (1...6).contains(hashCount) else { return nil }
        let rest = line.dropFirst(hashCount)
        guard rest.first.map({ $0 == ASCII.space }) ?? true else { return nil }
        var text = trimmingSpaces(rest)
        let closingRunStart = text.lastIndex { $0 != ASCII.hash }.map { $0 + 1 } ?? text.startIndex
        if closingRunStart == text.startIndex || text[closingRunStart - 1] == ASCII.space {
            text = trimmingSpaces(text[..<closingRunStart])
        }
        return (min(hashCount, 3), text)
    }

    /// Removes emphasis markers and backticks, keeping code-span contents, backslash-escaped
    /// punctuation and intraword underscores (as in `snake_case`) literally.
    private static func plainText(fromInline source: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var index = source.startIndex
        while index < source.endIndex {
            let byte = source[index]
            let next = source.index(after: index)
            switch byte {
            case ASCII.backslash where next < source.endIndex && ASCII.isPunctuation(source[next]):
                output.append(source[next])
                index = source.index(after: next)
            case ASCII.backtick:
                let runEnd = source[index...].firstIndex { $0 != ASCII.backtick } ?? source.endIndex
                let runLength = runEnd - index
                if let closing = closingBacktickRun(of: runLength, in: source[runEnd...]) {
                    output.append(contentsOf: source[runEnd..<closing])
                    index = closing + runLength
                } else {
                    index = runEnd
                }
            case ASCII.asterisk:
                index = next
            case ASCII.underscore:
                let isIntraword =
                    index > source.startIndex && next < source.endIndex
                    && ASCII.isAlphanumeric(source[index - 1]) && ASCII.isAlphanumeric(source[next])
                if isIntraword { output.append(byte) }
                index = next
            default:
                output.append(byte)
                index = next
            }
        }
        return output
    }

    private static func closingBacktickRun(of length: Int, in text: ArraySlice<UInt8>) -> Int? {
        var index = text.startIndex
        while index < text.endIndex {
            guard text[index] == ASCII.backtick else {
                index += 1
                continue
            }
            let runEnd = text[index...].firstIndex { $0 != ASCII.backtick } ?? text.endIndex
            if runEnd - index == length { return index }
            index = runEnd
        }
        return nil
    }

    private static func trimmingSpaces(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = text.firstIndex(where: { $0 != ASCII.space }),
            let last = text.lastIndex(where: { $0 != ASCII.space })
        else { return text[text.endIndex...] }
        return text[first...last]
    }
}

// MARK: - Fonts and layout

private enum StandardFont {
    case helvetica
    case helveticaBold

    var baseFontName: String {
        switch self {
        case .helvetica: "Helvetica"
        case .helveticaBold: "Helvetica-Bold"
        }
    }

    var resourceName: String {
        switch self {
        case .helvetica: "F1"
        case .helveticaBold: "F2"
        }
    }

    /// Advance width of ASCII text in 1/1000 em; callers guarantee bytes 32...126.
    func advance(of text: some Sequence<UInt8>) -> Int {
        let widths =
            switch self {
            case .helvetica: Self.helveticaWidths
            case .helveticaBold: Self.helveticaBoldWidths
            }
        return text.reduce(0) { $0 + widths[Int($1) - 32] }
    }

    func width(of text: some Sequence<UInt8>, size: Double) -> Double {
        Double(advance(of: text)) * size / 1000
    }

    // Adobe AFM advance widths for codes 32...126. Code 39 is quotesingle and 96 is grave,
    // matching WinAnsiEncoding rather than StandardEncoding's curly quotes.
    private static let helveticaWidths: [Int] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  // space to /
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556,  // 0 to 9
        278, 278, 584, 584, 584, 556, 1015,  // : to @
        667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,  // A to M
        722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,  // N to Z
        278, 278, 278, 469, 556, 333,  // [ to `
        556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833,  // a to m
        556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,  // n to z
        334, 260, 334, 584,  // { to ~
    ]

    private static let helveticaBoldWidths: [Int] = [
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,  // space to /
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556,  // 0 to 9
        333, 333, 584, 584, 584, 611, 975,  // : to @
        722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,  // A to M
        722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,  // N to Z
        333, 278, 333, 584, 556, 333,  // [ to `
        556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889,  // a to m
        611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500,  // n to z
        389, 280, 389, 584,  // { to ~
    ]
}

private struct TextStyle {
    let font: StandardFont
    let size: Double
    let leading: Double
    /// Dropped at the top of a page, where it would only push text below the margin line.
    let spaceBefore: Double

    static let body = TextStyle(font: .helvetica, size: 10.5, leading: 14, spaceBefore: 7)
    static let footer = TextStyle(font: .helvetica, size: 9, leading: 11, spaceBefore: 0)

    static func heading(level: Int) -> TextStyle {
        switch level {
        case 1: TextStyle(font: .helveticaBold, size: 18, leading: 22, spaceBefore: 16)
        case 2: TextStyle(font: .helveticaBold, size: 13, leading: 17, spaceBefore: 13)
        default: TextStyle(font: .helveticaBold, size: 11.5, leading: 15, spaceBefore: 10)
        }
    }
}

private enum PageGeometry {
    static let width = 595.0
    static let height = 842.0
    static let margin = 72.0
    static let textWidth = width - 2 * margin
    static let textTop = height - margin
    static let textBottom = margin
    static let footerBaseline = 40.0
}

private struct PlacedLine {
    let text: [UInt8]
    let style: TextStyle
    let x: Double
    let baseline: Double
}

private struct PageLayout {
    private struct WrappedBlock {
        let isHeading: Bool
        let style: TextStyle
        let lines: [[UInt8]]
    }

    private(set) var pages: [[PlacedLine]] = [[]]
    /// Top of the next line box; lines stack downwards from the top margin.
    private var lineTop = PageGeometry.textTop

    private var isPageEmpty: Bool { pages[pages.count - 1].isEmpty }

    static func paginate(_ blocks: [MarkdownBlock]) -> [[PlacedLine]] {
        let wrapped = blocks.map { block in
            let style = block.headingLevel.map(TextStyle.heading(level:)) ?? .body
            return WrappedBlock(
                isHeading: block.headingLevel != nil,
                style: style,
                lines: wrap(block.words, style: style, width: PageGeometry.textWidth)
            )
        }
        var layout = PageLayout()
        for index in wrapped.indices {
            let block = wrapped[index]
            if block.isHeading, !layout.isPageEmpty, !layout.fits(keepTogetherHeight(of: wrapped, from: index)) {
                layout.startNewPage()
            }
            for (lineIndex, line) in block.lines.enumerated() {
                layout.place(line, style: block.style, spaceBefore: lineIndex == 0 ? block.style.spaceBefore : 0)
            }
        }
        return layout.pages
    }

    /// Height of the run of headings starting at `index` plus the first line after them, so that a
    /// heading never ends a page. Only called when the page already has content, so the first
    /// heading's space before counts.
    private static func keepTogetherHeight(of blocks: [WrappedBlock], from index: Int) -> Double {
        var height = 0.0
        var next = index
        while next < blocks.count, blocks[next].isHeading {
            let style = blocks[next].style
            height += style.spaceBefore + Double(blocks[next].lines.count) * style.leading
            next += 1
        }
        if next < blocks.count {
            height += blocks[next].style.spaceBefore + blocks[next].style.leading
        }
        return height
    }

    private func fits(_ height: Double) -> Bool {
        lineTop - height >= PageGeometry.textBottom - 0.001
    }

    private mutating func startNewPage() {
        pages.append([])
        lineTop = PageGeometry.textTop
    }

    private mutating func place(_ text: [UInt8], style: TextStyle, spaceBefore: Double) {
        var gap = isPageEmpty ? 0 : spaceBefore
        if !isPageEmpty, !fits(gap + style.leading) {
            startNewPage()
            gap = 0
        }
        lineTop -= gap
        // Centre the font's em box (descender 0.207 em below the baseline) in the line box.
        let baseline = lineTop - style.leading + (style.leading - style.size) / 2 + 0.207 * style.size
        pages[pages.count - 1].append(
            PlacedLine(text: text, style: style, x: PageGeometry.margin, baseline: baseline)
        )
        lineTop -= style.leading
    }

    /// Greedy word wrap; a word wider than the whole line is split between characters.
    private static func wrap(_ words: [[UInt8]], style: TextStyle, width: Double) -> [[UInt8]] {
        let font = style.font
        func fits(_ text: [UInt8]) -> Bool { font.width(of: text, size: style.size) <= width }

        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for word in words {
            if !current.isEmpty {
                let extended = current + [ASCII.space] + word
                if fits(extended) {
                    current = extended
                    continue
                }
                lines.append(current)
                current = []
            }
            for character in word {
                if !current.isEmpty, !fits(current + [character]) {
                    lines.append(current)
                    current = []
                }
                current.append(character)
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

// MARK: - PDF serialization

private enum PDFSerializer {
    private static let catalogObject = 1
    private static let pageTreeObject = 2
    private static let helveticaObject = 3
    private static let helveticaBoldObject = 4
    private static let infoObject = 5
    private static let firstPageObject = 6

    static func serialize(pages: [[PlacedLine]], title: [UInt8]?) -> [UInt8] {
        // Each page takes two objects: the page dictionary, then its content stream.
        let pageObjects = pages.indices.map { firstPageObject + 2 * $0 }
        let kids = pageObjects.map { "\($0) 0 R" }.joined(separator: " ")
        let fonts: [(object: Int, font: StandardFont)] = [(helveticaObject, .helvetica), (helveticaBoldObject, .helveticaBold)]
        let fontResources = "/Font << " + fonts.map { "/\($0.font.resourceName) \($0.object) 0 R " }.joined() + ">>"

        var writer = PDFObjectWriter()
        writer.writeObject(catalogObject, "<< /Type /Catalog /Pages \(pageTreeObject) 0 R >>")
        writer.writeObject(pageTreeObject, "<< /Type /Pages /Kids [\(kids)] /Count \(pages.count) >>")
        for (object, font) in fonts {
            writer.writeObject(
                object,
                "<< /Type /Font /Subtype /Type1 /BaseFont /\(font.baseFontName) /Encoding /WinAnsiEncoding >>"
            )
        }
        var info = Array("<< ".utf8)
        if let title {
            info += Array("/Title ".utf8) + literalString(title) + [ASCII.space]
        }
        info += Array("/Producer (Cairn) >>".utf8)
        writer.writeObject(infoObject, info)

        for (index, lines) in pages.enumerated() {
            let pageObject = pageObjects[index]
            writer.writeObject(
                pageObject,
                "<< /Type /Page /Parent \(pageTreeObject) 0 R"
                    + " /MediaBox [0 0 \(number(PageGeometry.width)) \(number(PageGeometry.height))]"
                    + " /Resources << \(fontResources) >> /Contents \(pageObject + 1) 0 R >>"
            )
            writer.writeStream(pageObject + 1, contentStream(lines + [footer(page: index + 1, of: pages.count)]))
        }
        return writer.finish(rootObject: catalogObject, infoObject: infoObject)
    }

    private static func footer(page: Int, of pageCount: Int) -> PlacedLine {
        let text = Array("Page \(page) of \(pageCount)".utf8)
        let style = TextStyle.footer
        let x = (PageGeometry.width - style.font.width(of: text, size: style.size)) / 2
        return PlacedLine(text: text, style: style, x: x, baseline: PageGeometry.footerBaseline)
    }

    private static func contentStream(_ lines: [PlacedLine]) -> [UInt8] {
        var stream: [UInt8] = []
        for line in lines {
            if !stream.isEmpty { stream.append(ASCII.lineFeed) }
            let style = line.style
            stream += Array("BT /\(style.font.resourceName) \(number(style.size)) Tf \(number(line.x)) \(number(line.baseline)) Td ".utf8)
            stream += literalString(line.text) + Array(" Tj ET".utf8)
        }
        return stream
    }

    private static func literalString(_ text: [UInt8]) -> [UInt8] {
        var result: [UInt8] = [ASCII.leftParenthesis]
        for byte in text {
            if byte == ASCII.leftParenthesis || byte == ASCII.rightParenthesis || byte == ASCII.backslash {
                result.append(ASCII.backslash)
            }
            result.append(byte)
        }
        result.append(ASCII.rightParenthesis)
        return result
    }

    /// Formats to at most two decimals without exponents, which PDF number syntax does not allow.
    private static func number(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let magnitude = abs(hundredths)
        let sign = hundredths < 0 ? "-" : ""
        let whole = magnitude / 100
        let fraction = magnitude % 100
        if fraction == 0 { return "\(sign)\(whole)" }
        if fraction % 10 == 0 { return "\(sign)\(whole).\(fraction / 10)" }
        return "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

/// Appends numbered objects in order while recording their byte offsets for the xref table.
private struct PDFObjectWriter {
    // The comment line of high bytes tells transfer tools the file is binary.
    private var bytes: [UInt8] = Array("%PDF-1.4\n".utf8) + [0x25, 0xE2, 0xE3, 0xCF, 0xD3, ASCII.lineFeed]
    private var objectOffsets: [Int] = []

    mutating func writeObject(_ number: Int, _ body: String) {
        writeObject(number, Array(body.utf8))
    }

    mutating func writeObject(_ number: Int, _ body: [UInt8]) {
        beginObject(number)
        bytes += body
        bytes += Array("\nendobj\n".utf8)
    }

    mutating func writeStream(_ number: Int, _ data: [UInt8]) {
        beginObject(number)
        bytes += Array("<< /Length \(data.count) >>\nstream\n".utf8)
        bytes += data
        bytes += Array("\nendstream\nendobj\n".utf8)
    }

    mutating func finish(rootObject: Int, infoObject: Int) -> [UInt8] {
        let xrefOffset = bytes.count
        let size = objectOffsets.count + 1
        var table = "xref\n0 \(size)\n0000000000 65535 f \n"
        for offset in objectOffsets {
            let digits = String(offset)
            // Entries must be exactly 20 bytes, hence the fixed-width offset and the space before the newline.
            table += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
        }
        table += "trailer\n<< /Size \(size) /Root \(rootObject) 0 R /Info \(infoObject) 0 R >>\n"
        table += "startxref\n\(xrefOffset)\n%%EOF\n"
        return bytes + Array(table.utf8)
    }

    private mutating func beginObject(_ number: Int) {
        precondition(number == objectOffsets.count + 1, "PDF objects must be written in order")
        objectOffsets.append(bytes.count)
        bytes += Array("\(number) 0 obj\n".utf8)
    }
}
