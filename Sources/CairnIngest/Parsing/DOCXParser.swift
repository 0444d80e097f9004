import CairnCore
import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads a Word document's body: paragraphs (headings by their style), list items and tables.
///
/// Only `word/document.xml` is read, and `word/styles.xml` when a paragraph's style is not one
/// of Word's built-in heading ids; headers, footers, footnotes, comments and deleted text
/// (tracked changes) are left out. Each paragraph is a block, so each list item is one; a table
/// is one block with a line per row, its cells joined by " | " (a cell's paragraphs and nested
/// tables run together, separated by spaces). A line break within a paragraph starts a new line
/// of its block.
struct DOCXParser {
    let limits: ParsingLimits

    static let documentPart = "word/document.xml"
    static let stylesPart = "word/styles.xml"

    func parse(contentsOf file: URL, budget: ParsingBudget) throws -> ParsedDocument {
        let archive = try DOCXArchive(contentsOf: file, parts: [Self.documentPart, Self.stylesPart], limits: limits)
        guard let document = try archive.read(Self.documentPart, budget: budget) else {
            throw CairnError(.invalidInput, "The DOCX has no word/document.xml, so it is not a Word document.")
        }
        let body = DocumentBodyReader(budget: budget)
        try Self.parseXML(document, part: "document.xml", with: body)

        let styleIDs = Set(body.blocks.compactMap { if case .paragraph(_, let styleID?, _) = $0 { styleID } else { nil } })
        var styles: [String: BlockStyle] = [:]
        if styleIDs.contains(where: { Self.builtInStyle(id: $0) == nil }), let xml = try archive.read(Self.stylesPart, budget: budget) {
            let reader = StylesReader(budget: budget)
            try Self.parseXML(xml, part: "styles.xml", with: reader)
            styles = reader.paragraphStyles()
        }

        var page = BlockPageBuilder()
        for block in body.blocks {
            switch block {
            case .paragraph(let lines, let styleID, let outlineLevel):
                let style =
                    outlineLevel.map(BlockStyle.init(outlineLevel:)) ?? styleID.flatMap { styles[$0] ?? Self.builtInStyle(id: $0) } ?? .body
                page.appendBlock(lines, style: style)
            case .table(let rows):
                page.appendBlock(rows, style: .body)
            }
        }
        return ParsedDocument(pages: [page.build()])
    }

    /// The style of Word's built-in style ids, which need no styles.xml: `Title`, `Heading1`…`Heading9`.
    static func builtInStyle(id: String) -> BlockStyle? {
        if id == "Title" { return .title }
        guard id.hasPrefix("Heading"), let level = Int(id.dropFirst("Heading".count)), (1...9).contains(level) else { return nil }
        return .heading(level: level)
    }

    /// Runs `XMLParser` over a part with `delegate`, turning its failures into sentences.
    private static func parseXML(_ data: Data, part: String, with delegate: BudgetedXMLDelegate) throws {
        // Word never writes a document type declaration; refusing one keeps entity expansion
        // (the "billion laughs") and external entities out of reach entirely.
        if data.range(of: Data("<!DOCTYPE".utf8)) != nil {
            throw CairnError(.invalidInput, "The DOCX's \(part) has a document type declaration, which Word documents never have.")
        }
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        // On Linux, `parse()` returns true for some malformed documents (an unclosed element, text
        // after the root), so the error and whether the root element closed are checked as well.
        let parsed = parser.parse()
        if let failure = delegate.failure { throw failure }
        if !parsed || parser.parserError != nil || !delegate.hasClosedRoot {
            throw CairnError(.invalidInput, "The DOCX's \(part) is not well-formed XML.", underlying: parser.parserError)
        }
    }
}

extension BlockStyle {
    /// A paragraph's `w:outlineLvl`: 0…8 are heading levels 1…9, 9 is body text.
    init(outlineLevel: Int) {
        self = (0...8).contains(outlineLevel) ? .heading(level: outlineLevel + 1) : .body
    }
}

/// An `XMLParserDelegate` that checks the parsing budget as it goes, and keeps the reason when
/// it aborts the parser.
private class BudgetedXMLDelegate: NSObject, XMLParserDelegate {
    private let budget: ParsingBudget
    private(set) var failure: (any Error)?
    /// Element names seen, local part only (Word always writes `w:`, but the prefix is the
    /// writer's choice).
    private(set) var path: [Substring] = []
    private(set) var hasClosedRoot = false
    private var callbacks = 0

    init(budget: ParsingBudget) {
        self.budget = budget
    }

    final func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String]
    ) {
        guard isWithinBudget(parser) else { return }
        let name = Self.localName(elementName)
        start(name, attributes: attributes)
        path.append(name)
    }

    final func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        // After an abort, libxml2 may still report the end of elements whose start was skipped.
        guard failure == nil, !path.isEmpty else { return }
        path.removeLast()
        hasClosedRoot = path.isEmpty
        end(Self.localName(elementName))
    }

    final func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard isWithinBudget(parser) else { return }
        characters(string)
    }

    /// Checks the budget every few thousand callbacks, aborting the parser once it is spent.
    private func isWithinBudget(_ parser: XMLParser) -> Bool {
        guard failure == nil else { return false }
        callbacks += 1
        guard callbacks % 4_096 == 0 else { return true }
        do {
            try budget.check()
            return true
        } catch {
            failure = error
            parser.abortParsing()
            return false
        }
    }

    // What a subclass reads. `XMLParserDelegate`'s methods are not overridable on Linux (a
    // subclass's would never be called), so the base class forwards to these.
    func start(_ element: Substring, attributes: [String: String]) {}
    func end(_ element: Substring) {}
    func characters(_ text: String) {}

    /// The `val` attribute, whatever its prefix.
    static func value(in attributes: [String: String], named name: String = "val") -> String? {
        attributes.first { $0.key == name || ($0.key.hasSuffix(name) && $0.key.dropLast(name.count).hasSuffix(":")) }?.value
    }

    private static func localName(_ name: String) -> Substring {
        guard let colon = name.lastIndex(of: ":") else { return name[...] }
        return name[name.index(after: colon)...]
    }
}

/// A block of the body as document.xml has it, before styles are resolved.
private enum BodyBlock {
    case paragraph(lines: [String], styleID: String?, outlineLevel: Int?)
    case table(rows: [String])
}

/// Collects the body's paragraphs and tables from document.xml.
private final class DocumentBodyReader: BudgetedXMLDelegate {
    private(set) var blocks: [BodyBlock] = []

    private struct Paragraph {
        var lines: [String] = [""]
        var styleID: String?
        var outlineLevel: Int?
    }

    /// Open paragraphs: a text box's paragraphs sit inside a run of another paragraph.
    private var paragraphs: [Paragraph] = []
    private var isInText = false
    /// Inside `mc:Fallback` (an older rendering of what `mc:Choice` already holds) or
    /// `w:moveFrom` (text a tracked change moved to its `w:moveTo`).
    private var skippedDepth = 0
    private static let skippedElements: Set<Substring> = ["Fallback", "moveFrom"]
    private var tableDepth = 0
    private var rows: [String] = []
    private var cells: [String] = []
    private var cell: [String] = []

    override func start(_ element: Substring, attributes: [String: String]) {
        if Self.skippedElements.contains(element) { skippedDepth += 1 }
        guard skippedDepth == 0 else { return }
        let parent = path.last
        switch element {
        case "p":
            paragraphs.append(Paragraph())
        case "t":
            isInText = true
        case "tab" where parent == "r":
            appendText(" ")
        case "noBreakHyphen" where parent == "r":
            appendText("-")
        case "br" where parent == "r", "cr" where parent == "r":
            if !paragraphs.isEmpty { paragraphs[paragraphs.count - 1].lines.append("") }
        // Only the paragraph's own properties: `w:pPrChange` holds an earlier revision's.
        case "pStyle" where parent == "pPr" && path.dropLast().last == "p":
            if !paragraphs.isEmpty { paragraphs[paragraphs.count - 1].styleID = Self.value(in: attributes) }
        case "outlineLvl" where parent == "pPr" && path.dropLast().last == "p":
            if !paragraphs.isEmpty { paragraphs[paragraphs.count - 1].outlineLevel = Self.value(in: attributes).flatMap { Int($0) } }
        case "tbl":
            tableDepth += 1
        case "tr" where tableDepth == 1:
            cells = []
        case "tc" where tableDepth == 1:
            cell = []
        default:
            break
        }
    }

    override func end(_ element: Substring) {
        if Self.skippedElements.contains(element) {
            skippedDepth -= 1
            return
        }
        guard skippedDepth == 0 else { return }
        switch element {
        case "t":
            isInText = false
        case "p":
            guard let paragraph = paragraphs.popLast() else { return }
            if tableDepth > 0 {
                cell.append(paragraph.lines.joined(separator: " "))
            } else {
                blocks.append(.paragraph(lines: paragraph.lines, styleID: paragraph.styleID, outlineLevel: paragraph.outlineLevel))
            }
        case "tc" where tableDepth == 1:
            cells.append(Self.collapsed(cell.joined(separator: " ")))
        case "tr" where tableDepth == 1:
            if cells.contains(where: { !$0.isEmpty }) { rows.append(cells.joined(separator: " | ")) }
        case "tbl":
            tableDepth -= 1
            if tableDepth == 0 {
                blocks.append(.table(rows: rows))
                rows = []
            }
        default:
            break
        }
    }

    override func characters(_ text: String) {
        if isInText, skippedDepth == 0 { appendText(text) }
    }

    private func appendText(_ text: String) {
        guard !paragraphs.isEmpty else { return }
        paragraphs[paragraphs.count - 1].lines[paragraphs[paragraphs.count - 1].lines.count - 1] += text
    }

    /// A cell's text on one line, its runs of whitespace made single spaces.
    private static func collapsed(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// Reads styles.xml's paragraph styles: which are headings, by name or outline level, and
/// what each is based on.
private final class StylesReader: BudgetedXMLDelegate {
    private struct Style {
        var name: String?
        var basedOn: String?
        var outlineLevel: Int?
    }

    private var styles: [String: Style] = [:]
    private var current: String?

    override func start(_ element: Substring, attributes: [String: String]) {
        switch element {
        case "style":
            current = Self.value(in: attributes, named: "type") == "paragraph" ? Self.value(in: attributes, named: "styleId") : nil
            if let current { styles[current] = Style() }
        case "name" where path.last == "style":
            if let current { styles[current]?.name = Self.value(in: attributes) }
        case "basedOn" where path.last == "style":
            if let current { styles[current]?.basedOn = Self.value(in: attributes) }
        case "outlineLvl" where path.last == "pPr" && path.dropLast().last == "style":
            if let current { styles[current]?.outlineLevel = Self.value(in: attributes).flatMap { Int($0) } }
        default:
            break
        }
    }

    override func end(_ element: Substring) {
        if element == "style" { current = nil }
    }

    /// Each paragraph style that is a heading or title, its own or inherited through `basedOn`.
    func paragraphStyles() -> [String: BlockStyle] {
        var resolved: [String: BlockStyle] = [:]
        for id in styles.keys {
            // Following `basedOn`; a chain longer than the styles there are is a loop.
            var next: String? = id
            var steps = 0
            while let styleID = next, let style = styles[styleID], steps <= styles.count {
                if let own = Self.style(style) {
                    resolved[id] = own
                    break
                }
                next = style.basedOn
                steps += 1
            }
        }
        return resolved
    }

    /// A style's own heading level: built-in names are English whatever the document's language
    /// ("heading 1", "Title"), and the style id is localised ("berschrift1").
    private static func style(_ style: Style) -> BlockStyle? {
        if let name = style.name?.lowercased() {
            if name == "title" { return .title }
            if name.hasPrefix("heading "), let level = Int(name.dropFirst("heading ".count)), (1...9).contains(level) {
                return .heading(level: level)
            }
        }
        return style.outlineLevel.map(BlockStyle.init(outlineLevel:))
    }
}
