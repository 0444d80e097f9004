import Foundation

/// Splits an HTML page (as UTF-8 bytes) into text and tags, tolerantly and in one pass.
///
/// Attributes are skipped (quoted values included, so a `>` inside one does not end the tag);
/// comments, doctypes and processing instructions yield nothing; CDATA yields its text. The
/// content of a raw-text element (`script`, `style`, …) is skipped up to its end tag without
/// being read as markup. Every scan moves forward and never revisits a byte, so hostile input
/// (a 20 MB attribute, an unclosed comment, thousands of scripts) costs linear time.
struct HTMLTokenizer {
    enum Token: Equatable {
        /// Text, character references not yet decoded.
        case text(Range<Int>)
        /// CDATA's text, taken literally.
        case literalText(Range<Int>)
        case startTag(name: String, selfClosing: Bool)
        case endTag(name: String)
    }

    private let bytes: [UInt8]
    private var position = 0

    /// Element names longer than this are no element Cairn knows; their tags yield nothing.
    private static let longestName = 64

    /// Elements whose content is not markup. All of them are dropped from the main text, so
    /// their content is skipped rather than returned.
    static let rawTextElements: Set<String> = ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func next() -> Token? {
        while position < bytes.count {
            let start = position
            guard let open = index(of: UInt8(ascii: "<"), from: start) else {
                position = bytes.count
                return .text(start..<bytes.count)
            }
            if open > start {
                position = open
                return .text(start..<open)
            }
            if let token = markup(at: open) { return token }
        }
        return nil
    }

    /// Reads the markup starting with the `<` at `open` and moves past it; `nil` when it yields
    /// no token (a comment, a doctype).
    private mutating func markup(at open: Int) -> Token? {
        let next = open + 1 < bytes.count ? bytes[open + 1] : 0
        switch next {
        case UInt8(ascii: "!"):
            if matches("<!--", at: open) {
                position = end(of: "-->", from: open + 4)
                return nil
            }
            if matches("<![CDATA[", at: open) {
                let contentStart = open + 9
                position = end(of: "]]>", from: contentStart)
                let isClosed = position - contentStart >= 3 && bytes[(position - 3)..<position].elementsEqual("]]>".utf8)
                return .literalText(contentStart..<(isClosed ? position - 3 : position))
            }
            position = end(of: ">", from: open + 2)
            return nil
        case UInt8(ascii: "?"):
            position = end(of: ">", from: open + 2)
            return nil
        case UInt8(ascii: "/"):
            guard open + 2 < bytes.count, Self.isLetter(bytes[open + 2]) else {
                // `</>` is nothing; `</ 3` and the like are bogus comments.
                position = end(of: ">", from: open + 2)
                return nil
            }
            let (name, nameEnd) = self.name(from: open + 2)
            position = end(of: ">", from: nameEnd)
            return name.map { .endTag(name: $0) }
        case _ where Self.isLetter(next):
            return startTag(at: open)
        default:
            position = open + 1
            return .text(open..<(open + 1))
        }
    }

    private mutating func startTag(at open: Int) -> Token? {
        let (name, nameEnd) = self.name(from: open + 1)
        var index = nameEnd
        var selfClosing = false
        scan: while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: ">"):
                break scan
            case UInt8(ascii: "="):
                index += 1
                while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
                if index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                    let quote = bytes[index]
                    index = self.index(of: quote, from: index + 1).map { $0 + 1 } ?? bytes.count
                }
            case UInt8(ascii: "/"):
                selfClosing = index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: ">")
                index += 1
            default:
                index += 1
            }
        }
        // A tag the file ends inside is no tag.
        guard index < bytes.count, let name else {
            position = min(index + 1, bytes.count)
            return nil
        }
        position = index + 1
        if Self.rawTextElements.contains(name) { skipRawText(of: name) }
        return .startTag(name: name, selfClosing: selfClosing)
    }

    /// Moves to the end tag closing the raw-text element `name` (or the end of the file).
    private mutating func skipRawText(of name: String) {
        let name = Array(name.utf8)
        var index = position
        while let open = self.index(of: UInt8(ascii: "<"), from: index) {
            let nameStart = open + 2
            if nameStart + name.count <= bytes.count, bytes[open + 1] == UInt8(ascii: "/"),
                zip(bytes[nameStart..<(nameStart + name.count)], name).allSatisfy({ Self.lowercased($0) == $1 }),
                nameStart + name.count == bytes.count || Self.endsName(bytes[nameStart + name.count])
            {
                position = open
                return
            }
            index = open + 1
        }
        position = bytes.count
    }

    /// The lowercased element name starting at `start` (`nil` when too long to be one Cairn
    /// knows), and where it ends.
    private func name(from start: Int) -> (String?, Int) {
        var end = start
        while end < bytes.count, !Self.endsName(bytes[end]) { end += 1 }
        guard end - start <= Self.longestName else { return (nil, end) }
        return (String(decoding: bytes[start..<end].map(Self.lowercased), as: UTF8.self), end)
    }

    /// The position just past the first `terminator` at or after `start`, or the end of the file.
    private func end(of terminator: StaticString, from start: Int) -> Int {
        let pattern = UnsafeBufferPointer(start: terminator.utf8Start, count: terminator.utf8CodeUnitCount)
        var index = start
        while let candidate = self.index(of: pattern[0], from: index) {
            if candidate + pattern.count <= bytes.count, bytes[candidate..<(candidate + pattern.count)].elementsEqual(pattern) {
                return candidate + pattern.count
            }
            index = candidate + 1
        }
        return bytes.count
    }

    /// The first `byte` at or after `start`, found with `memchr`: the scans that skip comments,
    /// attribute values and scripts spend their time here.
    private func index(of byte: UInt8, from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        return bytes.withUnsafeBytes { buffer in
            memchr(buffer.baseAddress! + start, Int32(byte), buffer.count - start).map { buffer.baseAddress!.distance(to: $0) }
        }
    }

    private func matches(_ prefix: StaticString, at index: Int) -> Bool {
        let pattern = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        return index + pattern.count <= bytes.count && zip(bytes[index...], pattern).allSatisfy { Self.lowercased($0) == Self.lowercased($1) }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(lowercased(byte))
    }

    private static func endsName(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }
}
