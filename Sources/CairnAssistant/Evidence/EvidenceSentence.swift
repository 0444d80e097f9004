import CairnCore
import CairnSearch
import Foundation

/// A sentence of a retrieved passage, pinned to the page text it was cut from.
struct EvidenceSentence: Sendable, Equatable {
    let hit: SearchService.Hit
    /// Exactly as it stands on the page, line breaks included.
    let quote: String
    /// 1-based page.
    let page: Int
    /// Where ``quote`` sits in the page's text, in Unicode scalars.
    let span: Range<Int>
    /// Position among the passage's sentences, for reading order.
    let position: Int

    /// The quote with its line breaks and runs of spaces folded to single spaces, as it reads
    /// in an answer.
    var text: String { quote.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    /// Whether it reads as a sentence rather than a heading or a fragment: it ends as a
    /// sentence does. Headings ("3. Risk appetite") end without punctuation.
    var isComplete: Bool {
        guard let last = quote.unicodeScalars.last else { return false }
        return Self.terminators.contains(last) || (last == "\"" && quote.unicodeScalars.dropLast().last.map(Self.terminators.contains) == true)
    }

    static let terminators: Set<Unicode.Scalar> = [".", "!", "?"]
}

extension EvidenceSentence {
    /// The sentences of `hit`, page by page. A page break ends a sentence, so every quote lies
    /// on one page and can be cut back out of it.
    static func sentences(of hit: SearchService.Hit) throws -> [EvidenceSentence] {
        let spans = try JSONDecoder().decode([StoredSpan].self, from: Data(hit.spansJSON.utf8))
        // The passage is its page pieces joined by "\n" (DocumentChunk's contract).
        let scalars = Array(hit.text.unicodeScalars)
        var sentences: [EvidenceSentence] = []
        var offset = 0
        for span in spans {
            let length = span.end - span.start
            guard length >= 0, offset + length <= scalars.count else {
                throw EvidenceError.spansDisagreeWithText(hit.chunkID.description)
            }
            for range in SentenceBoundaries.ranges(in: scalars[offset..<offset + length]) {
                var quote = String.UnicodeScalarView()
                quote.append(contentsOf: scalars[range])
                let local = (range.lowerBound - offset)..<(range.upperBound - offset)
                sentences.append(
                    EvidenceSentence(
                        hit: hit,
                        quote: String(quote),
                        page: span.page,
                        span: (span.start + local.lowerBound)..<(span.start + local.upperBound),
                        position: sentences.count
                    )
                )
            }
            offset += length + 1
        }
        return sentences
    }

    /// A stored span, as `spansJSON` holds it.
    private struct StoredSpan: Decodable {
        let page: Int
        let start: Int
        let end: Int
    }
}

enum EvidenceError: Error, CustomStringConvertible {
    case spansDisagreeWithText(String)

    var description: String {
        switch self {
        case .spansDisagreeWithText(let chunk): "The page spans of passage \(chunk) do not cover its text."
        }
    }
}

/// Where sentences start and end in a run of text.
///
/// A sentence ends at `.`, `!` or `?` followed by white space and then a capital, a digit or
/// the end, unless the word before the full stop is a common abbreviation; and at a line break
/// followed by a numbered clause (`3.2 `), since policy headings and clauses often carry no
/// full stop before the next line.
enum SentenceBoundaries {
    static func ranges(in scalars: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = scalars.startIndex
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            var endsHere = false
            if EvidenceSentence.terminators.contains(scalar) {
                endsHere = followedBySentenceStart(scalars, after: index) && !abbreviation(scalars, before: index, from: start)
            } else if scalar == "\n" {
                // The break is trimmed off the sentence it ends.
                endsHere = startsNumberedClause(scalars, at: index + 1) || blankLineFollows(scalars, at: index + 1)
            }
            if endsHere {
                if let trimmed = trim(scalars, start..<(index + 1)) { ranges.append(trimmed) }
                start = index + 1
            }
            index += 1
        }
        if let trimmed = trim(scalars, start..<scalars.endIndex) { ranges.append(trimmed) }
        return ranges
    }

    private static func followedBySentenceStart(_ scalars: ArraySlice<Unicode.Scalar>, after index: Int) -> Bool {
        var next = index + 1
        // A closing quote or bracket stays with the sentence it closes.
        while next < scalars.endIndex, ["\"", "'", ")", "\u{201D}", "\u{2019}"].contains(scalars[next]) { next += 1 }
        guard next < scalars.endIndex else { return true }
        guard scalars[next].properties.isWhitespace else { return runTogether(scalars, stop: index, next: next) }
        while next < scalars.endIndex, scalars[next].properties.isWhitespace { next += 1 }
        guard next < scalars.endIndex else { return true }
        let first = scalars[next]
        return first.properties.isUppercase || first.properties.numericType != nil || first == "\"" || first == "\u{201C}"
    }

    /// Sentences run together without a space, as text extraction sometimes leaves them
    /// (`…disabilities.A line scan…`): a word of three or more lowercase letters, the stop, then a
    /// capital followed by a lowercase letter or a space. `U.S.A`, `e.g.The` and `v1.2` stay whole.
    private static func runTogether(_ scalars: ArraySlice<Unicode.Scalar>, stop: Int, next: Int) -> Bool {
        guard next == stop + 1, stop - 3 >= scalars.startIndex, next + 1 < scalars.endIndex else { return false }
        let before = scalars[(stop - 3)..<stop]
        guard before.allSatisfy(\.properties.isLowercase), scalars[next].properties.isUppercase else { return false }
        let after = scalars[next + 1]
        return after.properties.isLowercase || after == " "
    }

    /// `e.g.`, `i.e.`, `No.` and the like do not end a sentence, nor does the full stop of a
    /// section number that opens one (`4. Testing`).
    private static func abbreviation(_ scalars: ArraySlice<Unicode.Scalar>, before index: Int, from start: Int) -> Bool {
        var wordStart = index
        while wordStart > start, !scalars[wordStart - 1].properties.isWhitespace { wordStart -= 1 }
        var word = String.UnicodeScalarView()
        word.append(contentsOf: scalars[wordStart..<index])
        let opensSentence = scalars[start..<wordStart].allSatisfy(\.properties.isWhitespace)
        if opensSentence, !word.isEmpty, word.allSatisfy({ $0 == "." || ($0.isASCII && $0.properties.numericType != nil) }) { return true }
        return abbreviations.contains(String(word).lowercased())
    }

    private static let abbreviations: Set<String> = [
        "e.g", "i.e", "etc", "no", "nos", "mr", "mrs", "ms", "dr", "vs", "art", "sec", "cf", "approx", "incl",
    ]

    /// `3.2 ` or `12.10 ` at the start of a line.
    private static func startsNumberedClause(_ scalars: ArraySlice<Unicode.Scalar>, at index: Int) -> Bool {
        var position = index
        var digits = 0
        var sawDot = false
        while position < scalars.endIndex {
            let scalar = scalars[position]
            if scalar.properties.numericType != nil, scalar.isASCII {
                digits += 1
            } else if scalar == ".", digits > 0 {
                sawDot = true
            } else {
                break
            }
            position += 1
        }
        return digits > 0 && sawDot && position < scalars.endIndex && scalars[position] == " "
    }

    private static func blankLineFollows(_ scalars: ArraySlice<Unicode.Scalar>, at index: Int) -> Bool {
        var position = index
        while position < scalars.endIndex, scalars[position] == " " || scalars[position] == "\t" { position += 1 }
        return position < scalars.endIndex && scalars[position] == "\n"
    }

    private static func trim(_ scalars: ArraySlice<Unicode.Scalar>, _ range: Range<Int>) -> Range<Int>? {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, scalars[lower].properties.isWhitespace { lower += 1 }
        while upper > lower, scalars[upper - 1].properties.isWhitespace { upper -= 1 }
        return lower < upper ? lower..<upper : nil
    }
}
