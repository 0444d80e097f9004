import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// JSON in and out of request and response bodies.
enum JSONText {
    /// Decodes a request body; a body that does not fit `T` is a 400 naming the field at fault.
    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws(RequestRejection) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            throw RequestRejection(.badRequest, describe(error))
        } catch {
            throw RequestRejection(.badRequest, "The body is not valid JSON.")
        }
    }

    /// A response body.
    static func buffer(_ value: some Encodable) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ByteBuffer(bytes: try encoder.encode(value))
    }

    /// Compact text with sorted keys, so that synthesised arguments and documents are deterministic.
    static func string(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "Missing required field '\(path(context.codingPath + [key]))'."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "Field '\(path(context.codingPath))' has the wrong type."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The body is not valid JSON." }
            return "Field '\(path(context.codingPath))' is invalid: \(context.debugDescription)."
        @unknown default:
            return "The body could not be read."
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

extension ByteBuffer {
    /// Wraps JSON bodies in one server-sent event: `event: name` when named, then `data: …`.
    init(serverSentEvent data: ByteBuffer, named name: String? = nil) {
        self.init()
        reserveCapacity(data.readableBytes + (name?.utf8.count ?? 0) + 16)
        if let name { writeString("event: \(name)\n") }
        writeStaticString("data: ")
        writeImmutableBuffer(data)
        writeStaticString("\n\n")
    }
}

/// Whitespace-separated words: the mock's tokens.
enum Words {
    /// How many words `text` holds.
    static func count(_ text: some StringProtocol) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let isWhitespace = scalar.properties.isWhitespace
            if !isWhitespace && !inWord { count += 1 }
            inWord = !isWhitespace
        }
        return count
    }

    /// `text` up to the end of its `limit`th word; `nil` when it has no more words than that.
    static func prefix(_ text: String, words limit: Int) -> String? {
        var count = 0
        var inWord = false
        var lastWordEnd = text.startIndex
        var index = text.unicodeScalars.startIndex
        while index < text.unicodeScalars.endIndex {
            let isWhitespace = text.unicodeScalars[index].properties.isWhitespace
            if !isWhitespace && !inWord {
                count += 1
                if count > limit { return String(text[..<lastWordEnd]) }
            }
            if isWhitespace && inWord { lastWordEnd = index }
            inWord = !isWhitespace
            text.unicodeScalars.formIndex(after: &index)
        }
        return nil
    }

    /// `text` cut before each word but the first, so that each piece holds one word and the whitespace
    /// before it and the pieces join back into `text`: how providers stream a reply.
    static func pieces(_ text: String) -> [Substring] {
        var pieces: [Substring] = []
        var pieceStart = text.startIndex
        var inWord = false
        var lastWordEnd: String.Index?
        var index = text.unicodeScalars.startIndex
        while index < text.unicodeScalars.endIndex {
            let isWhitespace = text.unicodeScalars[index].properties.isWhitespace
            if !isWhitespace && !inWord, let end = lastWordEnd {
                pieces.append(text[pieceStart..<end])
                pieceStart = end
            }
            if isWhitespace && inWord { lastWordEnd = index }
            inWord = !isWhitespace
            text.unicodeScalars.formIndex(after: &index)
        }
        if pieceStart < text.endIndex || pieces.isEmpty { pieces.append(text[pieceStart...]) }
        return pieces
    }

    /// `text` in pieces of `length` characters: how providers stream tool arguments, mid-token.
    static func fragments(_ text: String, length: Int) -> [Substring] {
        var fragments: [Substring] = []
        var start = text.startIndex
        while start < text.endIndex {
            let end = text.index(start, offsetBy: length, limitedBy: text.endIndex) ?? text.endIndex
            fragments.append(text[start..<end])
            start = end
        }
        return fragments
    }
}
