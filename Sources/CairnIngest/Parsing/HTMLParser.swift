import CairnCore
import Foundation

/// Reads the main text of an HTML page: what a reader came for, without scripts, navigation,
/// banners, sidebars or forms.
///
/// - The content of `script`, `style`, `noscript`, `template`, `svg`, `math`, `iframe`,
///   `object`, `head`, `nav`, `aside`, `form`, `button`, `select` (and the other raw-text
///   elements) is dropped, as are `header` and `footer` outside `main` and `article` (a page's
///   banner and footer; an article's own header holds its title, which is kept).
/// - When the page has a `main` element with text, only the first one's text is kept; else,
///   when it has `article`s with text, only theirs; else all of it.
/// - Block elements break blocks; `h1`…`h6` are headings, each `li` is a block, a `table` is one
///   block with a line per row, cells joined by " | "; `br` breaks a line; `pre` keeps its lines;
///   elsewhere runs of whitespace become one space.
/// - Character references are decoded: numeric ones and the common named ones.
/// - Bytes that are not UTF-8 are read as Windows-1252, what browsers fall back to; a `meta`
///   charset declaration is not read.
///
/// There is no DOM: the page is read as a stream of tags with a stack of open elements, closed
/// tolerantly (an end tag closes everything opened since its start tag, a stray end tag is
/// ignored), so broken and unclosed markup still yields its text, in time linear in its size.
struct HTMLParser {
    let limits: ParsingLimits

    func parse(contentsOf file: URL, budget: ParsingBudget) throws -> ParsedDocument {
        let bytes = Self.utf8(try TextInput.read(file, limit: limits.maximumTextBytes))
        var tokenizer = HTMLTokenizer(bytes)
        var extractor = HTMLTextExtractor(bytes: bytes)
        var count = 0
        while let token = tokenizer.next() {
            count += 1
            if count % 4_096 == 0 { try budget.check() }
            extractor.handle(token)
        }
        let page = extractor.finish()
        guard !page.isEmpty else { throw CairnError(.invalidInput, "The HTML page has no main text.") }
        return ParsedDocument(pages: [page.build()])
    }

    /// The page as UTF-8: as it is when it is valid UTF-8 (a byte-order mark dropped), else
    /// decoded as Windows-1252.
    static func utf8(_ bytes: [UInt8]) -> [UInt8] {
        var body = bytes
        if TextInput.hasByteOrderMark(body) { body.removeFirst(3) }
        // NUL is never text; browsers drop or replace it.
        if body.withUnsafeBytes({ buffer in buffer.baseAddress.flatMap { memchr($0, 0, buffer.count) } }) != nil { body.removeAll { $0 == 0 } }
        if String(validating: body, as: UTF8.self) != nil { return body }
        var transcoded: [UInt8] = []
        transcoded.reserveCapacity(body.count + body.count / 4)
        for byte in body { transcoded.append(contentsOf: String(HTMLCharacterReferences.windows1252(byte)).utf8) }
        return transcoded
    }
}

/// Turns the token stream into blocks, keeping what the main-text rules keep.
struct HTMLTextExtractor {
    private let bytes: [UInt8]

    private struct OpenElement {
        let name: String
        /// Its content is dropped (and nothing inside it counts).
        let drops: Bool
        /// It was opened where content is kept, so its end has effects.
        let isKept: Bool
        var isFirstMain = false
    }

    private var stack: [OpenElement] = []
    /// How many of each element are open: an end tag for one that is not is ignored at once
    /// rather than searched for down the stack.
    private var openCounts: [String: Int] = [:]
    private var droppedDepth = 0
    private var mainsSeen = 0
    private var isInFirstMain = false
    private var articleDepth = 0
    private var preformattedDepth = 0
    /// Right after `<pre>`, a newline is not content.
    private var skipsNewline = false
    private var headingLevel: Int?

    private var lines: [String] = []
    private var line = CollapsedText()

    private var tableDepth = 0
    private var rows: [[String]] = []
    private var cells: [String]?
    private var cell: CollapsedText?

    private struct Block {
        let lines: [String]
        let style: BlockStyle
        let isInFirstMain: Bool
        let isInArticle: Bool
    }

    private var blocks: [Block] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func handle(_ token: HTMLTokenizer.Token) {
        let skipsNewline = self.skipsNewline
        self.skipsNewline = false
        switch token {
        case .text(let range):
            guard droppedDepth == 0 else { return }
            var decoded = HTMLCharacterReferences.decode(bytes[range])
            if skipsNewline, decoded.first == UInt8(ascii: "\n") { decoded.removeFirst() }
            appendText(decoded)
        case .literalText(let range):
            guard droppedDepth == 0 else { return }
            appendText(Array(bytes[range]))
        case .startTag(let name, let selfClosing):
            start(name, selfClosing: selfClosing)
        case .endTag(let name):
            if name == "br" || (name == "p" && openCounts["p", default: 0] == 0) {
                // `</br>` and a stray `</p>` act as breaks, as browsers treat them.
                if droppedDepth == 0 { breakLine() }
                return
            }
            close(name)
        }
    }

    /// What is left once the page has ended: the blocks the main-text rules keep.
    mutating func finish() -> BlockPageBuilder {
        endTable()
        flush()
        let kept: [Block]
        if blocks.contains(where: \.isInFirstMain) {
            kept = blocks.filter(\.isInFirstMain)
        } else if blocks.contains(where: \.isInArticle) {
            kept = blocks.filter(\.isInArticle)
        } else {
            kept = blocks
        }
        var page = BlockPageBuilder()
        for block in kept { page.appendBlock(block.lines, style: block.style) }
        return page
    }

    // MARK: Elements

    private static let voidElements: Set<String> = [
        "area", "base", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
    ]
    private static let droppedElements: Set<String> = HTMLTokenizer.rawTextElements.union([
        "template", "svg", "math", "object", "head", "nav", "aside", "form", "button", "select", "canvas", "audio", "video",
    ])
    /// Elements that break blocks, besides table parts and headings.
    private static let blockElements: Set<String> = [
        "address", "article", "blockquote", "body", "center", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "ol", "p", "pre",
        "search", "section", "summary", "ul",
        // Dropped, but what is either side of them is not one block.
        "nav", "aside", "form",
    ]
    private static let tableElements: Set<String> = ["table", "tr", "td", "th", "caption"]
    /// What may stay inside `head`; anything else closes it, as a browser does when a page
    /// forgets `</head>` or `<body>`.
    private static let headElements: Set<String> = ["base", "link", "meta", "noscript", "script", "style", "template", "title"]

    private mutating func start(_ name: String, selfClosing: Bool) {
        if name == "body" || (stack.last?.name == "head" && !Self.headElements.contains(name)) { close("head") }
        let isKept = droppedDepth == 0
        if name == "br" {
            if isKept { breakLine() }
            return
        }
        let isBlock = Self.isBlockLevel(name)
        if isKept, isBlock { enter(name) }
        guard !Self.voidElements.contains(name) else { return }
        if selfClosing, !HTMLTokenizer.rawTextElements.contains(name) {
            // An empty element as XHTML writes it (`<div/>`); HTML proper would leave it open
            // and swallow what follows, which loses more than it gains.
            if isKept, isBlock { leaveBlock(name) }
            return
        }
        let drops =
            Self.droppedElements.contains(name)
            || ((name == "header" || name == "footer") && openCounts["main", default: 0] == 0 && openCounts["article", default: 0] == 0)
        var element = OpenElement(name: name, drops: drops, isKept: isKept)
        if isKept, !drops {
            switch name {
            case "main" where mainsSeen == 0:
                element.isFirstMain = true
                isInFirstMain = true
                mainsSeen += 1
            case "main":
                mainsSeen += 1
            case "article":
                articleDepth += 1
            default:
                break
            }
        }
        if drops { droppedDepth += 1 }
        stack.append(element)
        openCounts[name, default: 0] += 1
    }

    /// Closes `name` and everything opened since it; nothing when it is not open.
    private mutating func close(_ name: String) {
        guard openCounts[name, default: 0] > 0 else { return }
        while let element = stack.popLast() {
            openCounts[element.name]! -= 1
            if element.drops { droppedDepth -= 1 }
            if element.isKept, !element.drops { leave(element) }
            if element.name == name { return }
        }
    }

    /// The start of a block-level element, kept.
    private mutating func enter(_ name: String) {
        if tableDepth > 0 {
            switch name {
            case "table":
                tableDepth += 1
                cell?.separate()
            case "tr" where tableDepth == 1, "caption" where tableDepth == 1:
                endRow()
                cells = []
            case "td" where tableDepth == 1, "th" where tableDepth == 1:
                endCell()
                if cells == nil { cells = [] }
                cell = CollapsedText()
            default:
                // Paragraphs, lists and nested tables inside a cell run together.
                cell?.separate()
            }
            return
        }
        flush()
        switch name {
        case "table": tableDepth = 1
        case "pre":
            preformattedDepth += 1
            skipsNewline = true
        default: headingLevel = Self.headingLevel(of: name) ?? headingLevel
        }
    }

    /// The end of a kept element.
    private mutating func leave(_ element: OpenElement) {
        switch element.name {
        case "main" where element.isFirstMain:
            flush()
            isInFirstMain = false
        case "article":
            flush()
            articleDepth -= 1
        default:
            break
        }
        if Self.isBlockLevel(element.name) { leaveBlock(element.name) }
    }

    /// The end of a kept block-level element.
    private mutating func leaveBlock(_ name: String) {
        if tableDepth > 0 {
            switch name {
            case "table" where tableDepth == 1: endTable()
            case "table": tableDepth -= 1
            case "tr" where tableDepth == 1, "caption" where tableDepth == 1: endRow()
            case "td" where tableDepth == 1, "th" where tableDepth == 1: endCell()
            default: cell?.separate()
            }
            return
        }
        flush()
        if name == "pre" { preformattedDepth -= 1 }
        if Self.headingLevel(of: name) != nil { headingLevel = nil }
    }

    private static func isBlockLevel(_ name: String) -> Bool {
        blockElements.contains(name) || tableElements.contains(name) || headingLevel(of: name) != nil
    }

    private static func headingLevel(of name: String) -> Int? {
        guard name.utf8.count == 2, name.first == "h", let level = Int(name.dropFirst()), (1...6).contains(level) else { return nil }
        return level
    }

    // MARK: Text

    private mutating func appendText(_ text: [UInt8]) {
        if tableDepth > 0 {
            if cell == nil {
                // Whitespace between rows and cells is no cell; other text outside one joins the row.
                guard text.contains(where: { !HTMLTokenizer.isWhitespace($0) }) else { return }
                if cells == nil { cells = [] }
                cell = CollapsedText()
            }
            for byte in text { cell!.append(byte) }
        } else if preformattedDepth > 0 {
            line.appendVerbatim(text)
        } else {
            for byte in text { line.append(byte) }
        }
    }

    private mutating func breakLine() {
        if tableDepth > 0 {
            cell?.separate()
        } else {
            lines.append(line.string)
            line = CollapsedText()
        }
    }

    /// Ends the block being built; it is kept if it has any text.
    private mutating func flush() {
        lines.append(line.string)
        line = CollapsedText()
        defer { lines = [] }
        guard lines.contains(where: { $0.contains { !$0.isWhitespace } }) else { return }
        let style: BlockStyle = headingLevel.map { .heading(level: $0) } ?? .body
        blocks.append(Block(lines: lines, style: style, isInFirstMain: isInFirstMain, isInArticle: articleDepth > 0))
    }

    private mutating func endCell() {
        guard let finished = cell else { return }
        cells?.append(finished.string)
        cell = nil
    }

    private mutating func endRow() {
        endCell()
        if let finished = cells, finished.contains(where: { !$0.isEmpty }) { rows.append(finished) }
        cells = nil
    }

    private mutating func endTable() {
        guard tableDepth > 0 else { return }
        endRow()
        tableDepth = 0
        if !rows.isEmpty {
            blocks.append(
                Block(lines: rows.map { $0.joined(separator: " | ") }, style: .body, isInFirstMain: isInFirstMain, isInArticle: articleDepth > 0)
            )
        }
        rows = []
    }
}

/// Text as HTML renders it outside `pre`: each run of whitespace one space, none leading, none
/// trailing. Works on UTF-8 bytes: HTML's whitespace is ASCII, so no character is split.
struct CollapsedText {
    private var bytes: [UInt8] = []
    private var pendingSpace = false

    mutating func append(_ byte: UInt8) {
        if HTMLTokenizer.isWhitespace(byte) {
            pendingSpace = !bytes.isEmpty
            return
        }
        if pendingSpace {
            bytes.append(0x20)
            pendingSpace = false
        }
        bytes.append(byte)
    }

    mutating func appendVerbatim(_ text: [UInt8]) {
        bytes.append(contentsOf: text)
    }

    /// A boundary that reads as a space, such as between two paragraphs of a table cell.
    mutating func separate() {
        pendingSpace = !bytes.isEmpty
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}
