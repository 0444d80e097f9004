import Foundation

/// Markdown's inline markup stripped from one line, leaving the text a reader sees.
///
/// - Code spans: their content, literally (backslashes and markers inside kept).
/// - `[text](destination)`, `[text][label]`, `![alt](source)`, and `[label]` where the document
///   defines that label: the text or alt text.
/// - `<https://…>` and `<name@host>`: the address. Other tags (`<b>`, `</div>`, `<!-- -->`): nothing.
/// - `*` and `_` runs that pair up as emphasis (CommonMark's flanking rules, matched nearest
///   first): nothing; unpaired ones stay, so `2 * 3` and `snake_case` read as written.
/// - A backslash before ASCII punctuation: the punctuation; at the end of a line (a hard
///   break): nothing.
/// - Character references (`&amp;`, `&#169;`): the character, as in HTML.
///
/// Brackets, parentheses and code spans are paired in one pass each, and every other scan stops
/// where the next one starts, so no input makes it slower than linear.
struct MarkdownInline {
    /// The document's link reference definitions' labels, normalised (see ``label(_:)``).
    let referenceLabels: Set<String>

    /// The line's text as it reads, leading and trailing whitespace dropped.
    func plainText(_ line: some StringProtocol) -> String {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let scalars = Array(trimmed.unicodeScalars)
        guard scalars.contains(where: { "`*_[]<>\\!&".unicodeScalars.contains($0) }) else { return trimmed }
        return Stripper(scalars, referenceLabels: referenceLabels).run()
    }

    /// A link label as references match it: case-folded, runs of whitespace made one space.
    static func label(_ text: some StringProtocol) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    private struct Stripper {
        let scalars: [Unicode.Scalar]
        let referenceLabels: Set<String>
        /// For a backtick run that opens a code span, where its closing run ends.
        private var codeSpanEnds: [Int: (contentEnd: Int, end: Int)] = [:]
        /// Positions of escaped characters (the backslash is dropped, the character kept).
        private var escaped: Set<Int> = []
        private var bracketMatch: [Int: Int] = [:]
        private var parenthesisMatch: [Int: Int] = [:]

        private enum Piece {
            /// Text whose character references are still to be decoded.
            case text(String)
            /// Text taken as it is: a code span's, an escaped character.
            case literal(String)
            case delimiter(Int)
        }

        private struct Delimiter {
            let marker: Unicode.Scalar
            let count: Int
            let canOpen: Bool
            let canClose: Bool
            var isMatched = false
        }

        /// CommonMark's limit on a label's length; it also bounds the work of trying one.
        private static let longestLabel = 999

        init(_ scalars: [Unicode.Scalar], referenceLabels: Set<String>) {
            self.scalars = scalars
            self.referenceLabels = referenceLabels
            findCodeSpansAndEscapes()
            matchBrackets()
        }

        /// Code spans: each backtick run is closed by the next run of the same length.
        private mutating func findCodeSpansAndEscapes() {
            var runs: [Int: [Int]] = [:]
            var index = 0
            while index < scalars.count {
                if scalars[index] == "`" {
                    let start = index
                    while index < scalars.count, scalars[index] == "`" { index += 1 }
                    runs[index - start, default: []].append(start)
                } else {
                    index += 1
                }
            }
            var cursors: [Int: Int] = [:]
            index = 0
            while index < scalars.count {
                let scalar = scalars[index]
                if scalar == "\\", index + 1 < scalars.count, Self.asciiPunctuation.contains(scalars[index + 1]) {
                    escaped.insert(index + 1)
                    index += 2
                } else if scalar == "`" {
                    let start = index
                    while index < scalars.count, scalars[index] == "`" { index += 1 }
                    let length = index - start
                    // The next run of the same length after this one closes it.
                    let positions = runs[length]!
                    var cursor = cursors[length, default: 0]
                    while cursor < positions.count, positions[cursor] <= start { cursor += 1 }
                    cursors[length] = cursor
                    if cursor < positions.count {
                        let closing = positions[cursor]
                        codeSpanEnds[start] = (closing, closing + length)
                        index = closing + length
                    }
                } else {
                    index += 1
                }
            }
        }

        /// Brackets and parentheses paired innermost first, outside code spans and escapes.
        private mutating func matchBrackets() {
            var brackets: [Int] = []
            var parentheses: [Int] = []
            var index = 0
            while index < scalars.count {
                if let span = codeSpanEnds[index] {
                    index = span.end
                    continue
                }
                if !escaped.contains(index) {
                    switch scalars[index] {
                    case "[": brackets.append(index)
                    case "]": if let open = brackets.popLast() { bracketMatch[open] = index }
                    case "(": parentheses.append(index)
                    case ")": if let open = parentheses.popLast() { parenthesisMatch[open] = index }
                    default: break
                    }
                }
                index += 1
            }
        }

        func run() -> String {
            var pieces: [Piece] = []
            var delimiters: [Delimiter] = []
            var text = ""
            /// Where a link's text ends, and where its destination or label ends.
            var linkTextEnds: [Int: Int] = [:]
            var index = 0
            func flushText() {
                if !text.isEmpty { pieces.append(.text(text)) }
                text = ""
            }
            while index < scalars.count {
                let scalar = scalars[index]
                if let resume = linkTextEnds[index] {
                    index = resume
                    continue
                }
                if escaped.contains(index) {
                    flushText()
                    pieces.append(.literal(String(scalar)))
                    index += 1
                    continue
                }
                if let span = codeSpanEnds[index] {
                    flushText()
                    pieces.append(.literal(Self.codeSpanContent(scalars[(index + lengthOfRun(at: index))..<span.contentEnd])))
                    index = span.end
                    continue
                }
                switch scalar {
                case "\\" where index + 1 < scalars.count && escaped.contains(index + 1):
                    index += 1
                    continue
                case "\\" where index + 1 == scalars.count:
                    // A hard line break.
                    index += 1
                    continue
                case "!" where index + 1 < scalars.count && scalars[index + 1] == "[" && linkEnd(openingAt: index + 1) != nil:
                    linkTextEnds[bracketMatch[index + 1]!] = linkEnd(openingAt: index + 1)!
                    index += 2
                    continue
                case "[":
                    if let end = linkEnd(openingAt: index) {
                        linkTextEnds[bracketMatch[index]!] = end
                        index += 1
                        continue
                    }
                case "<":
                    if let (replacement, end) = angleBracket(at: index) {
                        text += replacement
                        index = end
                        continue
                    }
                case "*", "_":
                    let count = lengthOfRun(at: index)
                    flushText()
                    pieces.append(.delimiter(delimiters.count))
                    delimiters.append(delimiter(at: index, count: count))
                    index += count
                    continue
                default:
                    break
                }
                text.unicodeScalars.append(scalar)
                index += 1
            }
            flushText()
            Self.matchEmphasis(&delimiters)
            var result = ""
            for piece in pieces {
                switch piece {
                case .text(let text): result += String(decoding: HTMLCharacterReferences.decode(ArraySlice(text.utf8)), as: UTF8.self)
                case .literal(let text): result += text
                case .delimiter(let index) where !delimiters[index].isMatched:
                    result += String(repeating: String(delimiters[index].marker), count: delimiters[index].count)
                case .delimiter: break
                }
            }
            return result
        }

        /// Where an inline link, image or reference link whose text opens at `open` ends: just past
        /// its `)`, its label's `]`, or (a shortcut reference to a defined label) its own `]`.
        private func linkEnd(openingAt open: Int) -> Int? {
            guard let close = bracketMatch[open] else { return nil }
            if close + 1 < scalars.count {
                switch scalars[close + 1] {
                case "(": if let end = parenthesisMatch[close + 1] { return end + 1 }
                case "[": if let end = bracketMatch[close + 1] { return end + 1 }
                default: break
                }
            }
            guard !referenceLabels.isEmpty, close - open - 1 <= Self.longestLabel else { return nil }
            let label = String(String.UnicodeScalarView(scalars[(open + 1)..<close]))
            return referenceLabels.contains(MarkdownInline.label(label)) ? close + 1 : nil
        }

        /// An autolink's address, or nothing for an HTML tag or comment, and where it ends.
        private func angleBracket(at open: Int) -> (String, Int)? {
            // The scan stops at the next `<` as well as at `>`: a tag has no `<` inside, and so no
            // byte is scanned from two `<`s.
            guard let close = scalars[(open + 1)...].firstIndex(where: { $0 == ">" || $0 == "<" }), scalars[close] == ">" else { return nil }
            let inner = scalars[(open + 1)..<close]
            guard let first = inner.first else { return nil }
            if first.properties.isAlphabetic, first.isASCII, let colon = inner.firstIndex(of: ":"), colon > open + 2,
                inner[..<colon].allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || "0123456789+.-".unicodeScalars.contains($0)) }),
                !inner.contains(where: { $0.properties.isWhitespace })
            {
                return (String(String.UnicodeScalarView(inner)), close + 1)
            }
            if inner.contains("@"), !inner.contains(where: { $0.properties.isWhitespace }) {
                return (String(String.UnicodeScalarView(inner)), close + 1)
            }
            let isTag =
                (first.isASCII && first.properties.isAlphabetic)
                || (first == "/" && inner.dropFirst().first.map { $0.isASCII && $0.properties.isAlphabetic } == true)
                || inner.starts(with: "!--".unicodeScalars)
            return isTag ? ("", close + 1) : nil
        }

        private func delimiter(at start: Int, count: Int) -> Delimiter {
            let marker = scalars[start]
            let before: Unicode.Scalar = start > 0 ? scalars[start - 1] : " "
            let after: Unicode.Scalar = start + count < scalars.count ? scalars[start + count] : " "
            let beforeIsSpace = before.properties.isWhitespace
            let afterIsSpace = after.properties.isWhitespace
            let beforeIsPunctuation = Self.isPunctuation(before)
            let afterIsPunctuation = Self.isPunctuation(after)
            let leftFlanking = !afterIsSpace && (!afterIsPunctuation || beforeIsSpace || beforeIsPunctuation)
            let rightFlanking = !beforeIsSpace && (!beforeIsPunctuation || afterIsSpace || afterIsPunctuation)
            if marker == "_" {
                // `_` never emphasises inside a word (snake_case).
                return Delimiter(
                    marker: marker,
                    count: count,
                    canOpen: leftFlanking && (!rightFlanking || beforeIsPunctuation),
                    canClose: rightFlanking && (!leftFlanking || afterIsPunctuation)
                )
            }
            return Delimiter(marker: marker, count: count, canOpen: leftFlanking, canClose: rightFlanking)
        }

        /// Pairs each closer with the nearest open opener of the same marker.
        private static func matchEmphasis(_ delimiters: inout [Delimiter]) {
            var openers: [Unicode.Scalar: [Int]] = [:]
            for index in delimiters.indices {
                let delimiter = delimiters[index]
                if delimiter.canClose, let opener = openers[delimiter.marker]?.popLast() {
                    delimiters[opener].isMatched = true
                    delimiters[index].isMatched = true
                } else if delimiter.canOpen {
                    openers[delimiter.marker, default: []].append(index)
                }
            }
        }

        private func lengthOfRun(at start: Int) -> Int {
            var end = start
            while end < scalars.count, scalars[end] == scalars[start] { end += 1 }
            return end - start
        }

        /// A code span's text: one space each side is dropped when both are there (it lets a
        /// span start or end with a backtick).
        private static func codeSpanContent(_ content: ArraySlice<Unicode.Scalar>) -> String {
            var content = content
            if content.count >= 2, content.first == " ", content.last == " ", content.contains(where: { $0 != " " }) {
                content = content.dropFirst().dropLast()
            }
            return String(String.UnicodeScalarView(content))
        }

        /// What a backslash escapes.
        private static let asciiPunctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

        /// Punctuation as CommonMark's flanking rules mean it: Unicode's punctuation and symbols.
        private static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation,
                .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
                true
            default:
                false
            }
        }
    }
}
