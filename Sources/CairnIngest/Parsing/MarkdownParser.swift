import Foundation

/// Reads Markdown as the text it renders to, block by block.
///
/// Supported, after CommonMark and GitHub's tables: ATX (`#`…`######`) and setext headings;
/// paragraphs (each source line a line); bullet and ordered list items, each its own block,
/// nested ones included; fenced and indented code blocks, one block each with their lines as
/// written; block quotes, their markers stripped; pipe tables, one block with a line per row
/// (the delimiter row dropped, cells trimmed and joined by " | "); link reference definitions
/// and thematic breaks are dropped. Inline markup is stripped: emphasis markers, code-span
/// backticks, links and images (their text or alt text kept), autolinks (their address kept),
/// HTML tags and backslash escapes.
///
/// Not supported: lazy continuation of block quotes (a quote's lines must each start with `>`),
/// inline markup spanning lines, HTML blocks (their tags are stripped like inline ones, their
/// text kept), footnotes, and the finer points of list nesting (a list item's later paragraphs
/// become blocks of their own).
struct MarkdownParser {
    let limits: ParsingLimits

    func parse(contentsOf file: URL, budget: ParsingBudget) throws -> ParsedDocument {
        let text = try TextInput.utf8Text(TextInput.read(file, limit: limits.maximumTextBytes))
        var reader = MarkdownBlockReader(lines: text.split(separator: "\n", omittingEmptySubsequences: false), budget: budget)
        try reader.read()
        return ParsedDocument(pages: [reader.page.build()])
    }
}

/// The block structure, read line by line.
private struct MarkdownBlockReader {
    private let lines: [Substring]
    private let budget: ParsingBudget
    private let inline: MarkdownInline
    private(set) var page = BlockPageBuilder()

    private var index = 0
    /// The paragraph or list item whose lines are being collected.
    private var open: (lines: [Substring], isListItem: Bool)?
    /// The column a list item's content starts at, while lines may still belong to it.
    private var listIndent: Int?
    private var previousWasBlank = false
    private var previousWasQuoted = false

    init(lines: [Substring], budget: ParsingBudget) {
        self.lines = lines
        self.budget = budget
        // Every definition, wherever it is: a reference may come before the label's definition.
        let labels = lines.lazy.map { Self.unquoted($0).content.drop { $0 == " " || $0 == "\t" } }.compactMap(Self.linkReferenceLabel)
        inline = MarkdownInline(referenceLabels: Set(labels))
    }

    mutating func read() throws {
        while index < lines.count {
            if index % 1_024 == 0 { try budget.check() }
            let (isQuoted, content) = Self.unquoted(lines[index])
            if isQuoted != previousWasQuoted {
                closeOpen()
                listIndent = nil
                previousWasQuoted = isQuoted
            }
            readLine(content)
        }
        closeOpen()
    }

    private mutating func readLine(_ raw: Substring) {
        defer { index += 1 }
        if raw.allSatisfy(\.isWhitespace) {
            closeOpen()
            previousWasBlank = true
            return
        }
        let wasBlank = previousWasBlank
        previousWasBlank = false
        var line = raw
        if let indent = listIndent {
            if Self.indentation(of: raw) >= indent {
                line = Self.dropping(columns: indent, from: raw)
            } else if Self.listMarker(in: raw) == nil, open != nil, !wasBlank, !Self.startsBlock(raw) {
                // A lazy continuation line of the item's paragraph.
                open!.lines.append(raw)
                return
            } else {
                listIndent = nil
            }
        }
        let indent = Self.indentation(of: line)
        // Inside a list item, its content column counts as the margin.
        let margin = listIndent ?? 0

        if indent >= 4 {
            if open != nil, !wasBlank {
                // Indented code cannot interrupt a paragraph: the line continues it.
                open!.lines.append(line)
            } else {
                readIndentedCode(margin: margin)
            }
            return
        }
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if let fence = Self.fence(in: trimmed) {
            closeOpen()
            readFencedCode(fence, indent: indent, margin: margin)
            return
        }
        if let heading = Self.atxHeading(trimmed) {
            closeOpen()
            page.appendBlock([inline.plainText(heading.text)], style: .heading(level: heading.level))
            return
        }
        if let open, !open.isListItem, let level = Self.setextLevel(trimmed) {
            self.open = nil
            let text = open.lines.map(inline.plainText).joined(separator: " ")
            page.appendBlock([text], style: .heading(level: level))
            return
        }
        if Self.isThematicBreak(trimmed) {
            closeOpen()
            return
        }
        if let marker = Self.listMarker(in: line), open == nil || open!.isListItem || marker.mayInterruptParagraph {
            closeOpen()
            listIndent = margin + marker.contentColumn
            let content = line.dropFirst(marker.length)
            open = (content.allSatisfy(\.isWhitespace) ? [] : [content], true)
            return
        }
        if trimmed.contains("|"), index + 1 < lines.count, Self.isDelimiterRow(Self.unquoted(lines[index + 1]).content) {
            closeOpen()
            readTable(header: trimmed)
            return
        }
        if open == nil, Self.linkReferenceLabel(trimmed) != nil { return }
        if open != nil {
            open!.lines.append(trimmed)
        } else {
            open = ([trimmed], false)
        }
    }

    private mutating func closeOpen() {
        guard let open else { return }
        self.open = nil
        page.appendBlock(open.lines.map(inline.plainText), style: .body)
    }

    // MARK: Code and tables

    /// Lines indented four columns past `margin`, blank ones between them included.
    private mutating func readIndentedCode(margin: Int) {
        var code: [Substring] = []
        var line = index
        while line < lines.count {
            let (isQuoted, content) = Self.unquoted(lines[line])
            guard isQuoted == previousWasQuoted else { break }
            if !content.allSatisfy(\.isWhitespace) {
                guard Self.indentation(of: content) >= margin + 4 else { break }
                code.append(Self.dropping(columns: margin + 4, from: content))
            }
            line += 1
        }
        index = line - 1
        page.appendBlock(code.map(String.init), style: .body)
    }

    /// The fenced block's lines up to its closing fence, or to the end of its container.
    private mutating func readFencedCode(_ fence: (marker: Character, length: Int), indent: Int, margin: Int) {
        var code: [Substring] = []
        var line = index + 1
        while line < lines.count {
            let (isQuoted, content) = Self.unquoted(lines[line])
            guard isQuoted == previousWasQuoted else { break }
            // A line outdented past the list item ends the item, and the fence with it.
            if margin > 0, !content.allSatisfy(\.isWhitespace), Self.indentation(of: content) < margin { break }
            let inner = Self.dropping(columns: margin, from: content)
            if Self.indentation(of: inner) < 4 {
                let trimmed = inner.drop { $0 == " " || $0 == "\t" }
                let run = trimmed.prefix { $0 == fence.marker }
                if run.count >= fence.length, trimmed.dropFirst(run.count).allSatisfy(\.isWhitespace) {
                    line += 1
                    break
                }
            }
            code.append(Self.dropping(columns: indent, from: inner))
            line += 1
        }
        index = line - 1
        page.appendBlock(code.map(String.init), style: .body)
    }

    /// The header row, the delimiter row (dropped) and the rows after it that have a pipe.
    private mutating func readTable(header: Substring) {
        var rows = [cells(of: header)]
        var line = index + 2
        while line < lines.count {
            let (isQuoted, content) = Self.unquoted(lines[line])
            guard isQuoted == previousWasQuoted, content.contains("|"), !content.allSatisfy(\.isWhitespace) else { break }
            rows.append(cells(of: content))
            line += 1
        }
        index = line - 1
        page.appendBlock(rows.filter { $0.contains { !$0.isEmpty } }.map { $0.joined(separator: " | ") }, style: .body)
    }

    /// A row's cells, inline markup stripped: split at pipes that are not escaped, the outer
    /// pipes optional.
    private func cells(of row: Substring) -> [String] {
        var cells: [String] = []
        var cell = ""
        var escaped = false
        for character in row {
            if character == "|", !escaped {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(character)
            }
            escaped = character == "\\" && !escaped
        }
        cells.append(cell)
        if cells.count > 1, cells.first?.allSatisfy(\.isWhitespace) == true { cells.removeFirst() }
        if cells.count > 1, cells.last?.allSatisfy(\.isWhitespace) == true { cells.removeLast() }
        // `\|` is left to the inline pass, which reads it as an escaped pipe.
        return cells.map(inline.plainText)
    }

    /// Whether `line` is a table's delimiter row (`| --- | :-: |`). It must have a pipe: under a
    /// line, a bare `---` makes a setext heading.
    private static func isDelimiterRow(_ line: Substring) -> Bool {
        guard line.contains("|") else { return false }
        var cells = line.trimmingCharacters(in: .whitespaces).split(separator: "|", omittingEmptySubsequences: false)
        if cells.first?.allSatisfy(\.isWhitespace) == true { cells.removeFirst() }
        if cells.last?.allSatisfy(\.isWhitespace) == true { cells.removeLast() }
        return !cells.isEmpty
            && cells.allSatisfy { cell in
                var body = cell.trimmingCharacters(in: .whitespaces)[...]
                if body.first == ":" { body = body.dropFirst() }
                if body.last == ":" { body = body.dropLast() }
                return !body.isEmpty && body.allSatisfy { $0 == "-" }
            }
    }

    // MARK: Recognising lines

    /// The line with its block-quote markers (all levels) stripped, and whether it had any.
    private static func unquoted(_ line: Substring) -> (isQuoted: Bool, content: Substring) {
        var content = line
        var isQuoted = false
        while indentation(of: content) < 4, let marker = content.firstIndex(where: { $0 != " " }), content[marker] == ">" {
            isQuoted = true
            content = content[content.index(after: marker)...]
            if content.first == " " { content = content.dropFirst() }
        }
        return (isQuoted, content)
    }

    /// Leading whitespace in columns, tabs to the next multiple of 4.
    private static func indentation(of line: Substring) -> Int {
        var columns = 0
        for character in line {
            switch character {
            case " ": columns += 1
            case "\t": columns += 4 - columns % 4
            default: return columns
            }
        }
        return columns
    }

    /// The line without its first `columns` columns of indentation (fewer if it has fewer).
    private static func dropping(columns: Int, from line: Substring) -> Substring {
        var column = 0
        var index = line.startIndex
        while index < line.endIndex, column < columns {
            switch line[index] {
            case " ": column += 1
            case "\t":
                let width = 4 - column % 4
                // A tab straddling the margin leaves its remaining columns as spaces.
                if column + width > columns {
                    return Substring(String(repeating: " ", count: column + width - columns)) + line[line.index(after: index)...]
                }
                column += width
            default: return line[index...]
            }
            index = line.index(after: index)
        }
        return line[index...]
    }

    private static func fence(in trimmed: Substring) -> (marker: Character, length: Int)? {
        guard let marker = trimmed.first, marker == "`" || marker == "~" else { return nil }
        let length = trimmed.prefix { $0 == marker }.count
        guard length >= 3 else { return nil }
        // A backtick fence's info string may not contain a backtick (it would be inline code).
        if marker == "`", trimmed.dropFirst(length).contains("`") { return nil }
        return (marker, length)
    }

    private static func atxHeading(_ trimmed: Substring) -> (level: Int, text: Substring)? {
        let level = trimmed.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        var text = trimmed.dropFirst(level)
        guard text.isEmpty || text.first == " " || text.first == "\t" else { return nil }
        text = text.trimmingCharacters(in: .whitespaces)[...]
        // An optional closing sequence of `#`s, after a space.
        let closing = text.reversed().prefix { $0 == "#" }.count
        if closing == text.count {
            text = ""
        } else if closing > 0, text.dropLast(closing).last == " " {
            text = text.dropLast(closing).trimmingCharacters(in: .whitespaces)[...]
        }
        return (level, text)
    }

    private static func setextLevel(_ trimmed: Substring) -> Int? {
        let body = trimmed.trimmingCharacters(in: .whitespaces)
        guard let first = body.first, first == "=" || first == "-", body.allSatisfy({ $0 == first }) else { return nil }
        return first == "=" ? 1 : 2
    }

    private static func isThematicBreak(_ trimmed: Substring) -> Bool {
        guard let marker = trimmed.first, "-*_".contains(marker) else { return false }
        return trimmed.allSatisfy { $0 == marker || $0 == " " || $0 == "\t" } && trimmed.filter { $0 == marker }.count >= 3
    }

    private struct ListMarker {
        /// Characters of the marker and the spaces after it.
        let length: Int
        /// Where the item's content starts, in columns from the line's start.
        let contentColumn: Int
        /// A bullet, or an ordered item numbered 1, with content: what may interrupt a
        /// paragraph (else "2024. was a good year" would become a list).
        let mayInterruptParagraph: Bool
    }

    private static func listMarker(in line: Substring) -> ListMarker? {
        let indent = indentation(of: line)
        guard indent < 4 else { return nil }
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        let leading = line.count - trimmed.count
        let width: Int
        var isOne = false
        if let first = trimmed.first, "-+*".contains(first) {
            width = 1
        } else {
            let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
            guard (1...9).contains(digits.count), let delimiter = trimmed.dropFirst(digits.count).first, delimiter == "." || delimiter == ")" else {
                return nil
            }
            width = digits.count + 1
            isOne = Int(digits) == 1
        }
        let afterMarker = trimmed.dropFirst(width)
        guard afterMarker.isEmpty || afterMarker.first == " " || afterMarker.first == "\t" else { return nil }
        let spaces = min(afterMarker.prefix { $0 == " " }.count, 4)
        let isEmpty = afterMarker.allSatisfy(\.isWhitespace)
        let contentSpaces = isEmpty ? 1 : max(spaces, 1)
        return ListMarker(
            length: leading + width + (isEmpty ? afterMarker.count : spaces),
            contentColumn: indent + width + contentSpaces,
            mayInterruptParagraph: !isEmpty && (width == 1 || isOne)
        )
    }

    /// Whether `line` starts a block that ends a paragraph rather than continuing it.
    private static func startsBlock(_ line: Substring) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        return indentation(of: line) < 4
            && (fence(in: trimmed) != nil || atxHeading(trimmed) != nil || isThematicBreak(trimmed) || trimmed.first == ">")
    }

    /// The label, when the line is `[label]: destination "optional title"`: a link reference
    /// definition, which renders as nothing.
    private static func linkReferenceLabel(_ trimmed: Substring) -> String? {
        guard trimmed.first == "[", let close = trimmed.firstIndex(of: "]"), close > trimmed.index(after: trimmed.startIndex) else { return nil }
        let rest = trimmed[trimmed.index(after: close)...]
        guard rest.first == ":" else { return nil }
        let definition = rest.dropFirst().drop(while: \.isWhitespace)
        let destination = definition.prefix { !$0.isWhitespace }
        let title = definition.dropFirst(destination.count).trimmingCharacters(in: .whitespaces)
        guard !destination.isEmpty else { return nil }
        if let open = title.first {
            let closing: Character = open == "(" ? ")" : open
            guard "\"'(".contains(open), title.count >= 2, title.last == closing else { return nil }
        }
        return MarkdownInline.label(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
    }
}
