public import CairnCore
public import Foundation

/// The BERT WordPiece tokenizer of all-MiniLM-L6-v2, id for id as sentence-transformers runs
/// it (Hugging Face's Rust `BertTokenizerFast` with the model's `tokenizer.json`).
///
/// Per text: the special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` are split out of the raw text
/// (case-sensitively) and become their ids. The rest is normalised scalar by scalar (controls
/// dropped, whitespace made a space, CJK ideographs made words of their own, accents stripped,
/// lowercased without context, Hangul decomposed into jamo), split on spaces and around
/// punctuation, and each word becomes its greedy longest-match word pieces, or `[UNK]` when it
/// has more than 100 scalars or cannot be matched. The character classes come from tables
/// derived from the official tokenizer (`scripts/generate-wordpiece-tables.py`), not from the
/// host's Unicode version.
public struct WordPieceTokenizer: Sendable {
    /// `[CLS]`, which starts every encoding.
    public let classificationID: Int32
    /// `[SEP]`, which ends every encoding.
    public let separatorID: Int32
    /// `[UNK]`, for words the vocabulary cannot spell.
    public let unknownID: Int32
    /// Entries in the vocabulary; ids run from 0 to `vocabularySize - 1`.
    public let vocabularySize: Int

    private let vocabulary: VocabularyTrie
    private let specialTokens: [(scalars: [UInt32], id: Int32)]
    private let tables: WordPieceCharacterTables

    /// Words longer than this, in scalars after normalisation, become `[UNK]`.
    private static let maximumWordLength = 100

    /// Loads `vocab.txt`: one token per line, the id being the line's 0-based number.
    public init(vocabularyFile: URL) throws(CairnError) {
        let text: String
        do {
            text = try String(contentsOf: vocabularyFile, encoding: .utf8)
        } catch {
            throw CairnError(.misconfigured, "The tokenizer vocabulary (vocab.txt) cannot be read.", underlying: error)
        }
        // Split on the byte, not on Characters, which are grapheme clusters.
        var tokens = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if tokens.last?.isEmpty == true { tokens.removeLast() }
        tables = try WordPieceCharacterTables.bundled.get()
        vocabulary = VocabularyTrie(tokens)
        vocabularySize = tokens.count
        var specialTokens: [(scalars: [UInt32], id: Int32)] = []
        for name in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] {
            guard let id = vocabulary.id(of: Array(name.utf8)) else {
                throw CairnError(.misconfigured, "The tokenizer vocabulary (vocab.txt) lacks the special token \(name).")
            }
            specialTokens.append((name.unicodeScalars.map(\.value), id))
        }
        self.specialTokens = specialTokens
        unknownID = specialTokens[1].id
        classificationID = specialTokens[2].id
        separatorID = specialTokens[3].id
    }

    /// The model's input ids for `text`: `[CLS]`, the first `maxLength - 2` word pieces, `[SEP]`.
    ///
    /// `maxLength` 256 is all-MiniLM-L6-v2's `max_seq_length`; the empty text gives `[CLS] [SEP]`.
    public func encode(_ text: String, maxLength: Int = 256) -> [Int32] {
        precondition(maxLength >= 2, "an encoding holds at least [CLS] and [SEP]")
        var ids = [classificationID]
        appendPieces(of: text, to: &ids, limit: maxLength - 1)
        ids.append(separatorID)
        return ids
    }

    /// How many word pieces `text` has, without `[CLS]`, `[SEP]` or truncation: the measure
    /// a text is sized in against the model's 256-id window.
    public func wordPieceCount(_ text: String) -> Int {
        var ids: [Int32] = []
        appendPieces(of: text, to: &ids, limit: .max)
        return ids.count
    }

    /// Appends the word pieces of `text` to `ids`, stopping once `ids` holds `limit` ids.
    private func appendPieces(of text: String, to ids: inout [Int32], limit: Int) {
        let scalars = text.unicodeScalars.map(\.value)
        var word = WordBuffer()
        var position = 0
        while position < scalars.count, ids.count < limit {
            let scalar = scalars[position]
            if scalar == 0x5B, let special = specialToken(in: scalars, at: position) {  // "["
                emit(&word, to: &ids)
                ids.append(special.id)
                position += special.scalars.count
                continue
            }
            position += 1
            switch scalar {
            case 0x61...0x7A, 0x30...0x39:  // a-z, 0-9: the common case, unchanged
                word.append(scalar)
            case 0x41...0x5A:  // A-Z
                word.append(scalar + 0x20)
            case _ where tables.removed.contains(scalar):
                break
            case _ where tables.whitespace.contains(scalar):
                emit(&word, to: &ids)
            case _ where Self.isCJKIdeograph(scalar):
                emit(&word, to: &ids)
                appendNormalized(scalar, to: &word, ids: &ids)
                emit(&word, to: &ids)
            case 0xAC00...0xD7A3:
                // Hangul syllables decompose (NFD) into leading, vowel and optional trailing jamo.
                let index = scalar - 0xAC00
                word.append(0x1100 + index / 588)
                word.append(0x1161 + (index % 588) / 28)
                if index % 28 != 0 { word.append(0x11A7 + index % 28) }
            default:
                appendNormalized(scalar, to: &word, ids: &ids)
            }
        }
        if ids.count < limit { emit(&word, to: &ids) }
        if ids.count > limit { ids.removeLast(ids.count - limit) }
    }

    /// Appends what `scalar` normalises to, making punctuation a word of its own.
    private func appendNormalized(_ scalar: UInt32, to word: inout WordBuffer, ids: inout [Int32]) {
        for output in tables.normalized[scalar] ?? [scalar] {
            if tables.punctuation.contains(output) {
                emit(&word, to: &ids)
                word.append(output)
                emit(&word, to: &ids)
            } else {
                word.append(output)
            }
        }
    }

    /// Ends the current word: appends its word pieces (or `[UNK]`) and empties it.
    private func emit(_ word: inout WordBuffer, to ids: inout [Int32]) {
        guard word.scalarCount > 0 else { return }
        defer { word.removeAll() }
        guard word.scalarCount <= Self.maximumWordLength else {
            ids.append(unknownID)
            return
        }
        let start = ids.count
        var offset = 0
        while offset < word.bytes.count {
            guard let match = vocabulary.longestMatch(in: word.bytes, from: offset) else {
                // One unmatched position makes the whole word unknown.
                ids.removeLast(ids.count - start)
                ids.append(unknownID)
                return
            }
            ids.append(match.id)
            offset = match.end
        }
    }

    private func specialToken(in scalars: [UInt32], at position: Int) -> (scalars: [UInt32], id: Int32)? {
        specialTokens.first { token in
            scalars.count - position >= token.scalars.count && scalars[position..<position + token.scalars.count].elementsEqual(token.scalars)
        }
    }

    /// The Rust tokenizer's CJK ranges; the sixth starts at U+2B920 there (U+2B820 in the Python one).
    private static func isCJKIdeograph(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF,
            0x2F800...0x2FA1F:
            true
        default:
            false
        }
    }
}

/// The word being assembled, as UTF-8 (what the vocabulary is matched on) and a scalar count.
private struct WordBuffer {
    var bytes: [UInt8] = []
    var scalarCount = 0

    mutating func append(_ scalar: UInt32) {
        scalarCount += 1
        // Every scalar reaching here came from a String or from validated tables.
        UTF8.encode(Unicode.Scalar(scalar)!) { bytes.append($0) }
    }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        scalarCount = 0
    }
}

/// The vocabulary as a byte trie, so the longest piece at a position is one walk down it.
///
/// Matching works on UTF-8 bytes: a vocabulary entry that is a byte prefix of the rest of a
/// word always ends on a scalar boundary, and bytes compare exactly where `String`
/// equality would treat canonically equivalent spellings as one.
struct VocabularyTrie: Sendable {
    /// Child of node `n` by byte `b`, keyed `n << 8 | b`; node 0 is the root.
    private var children: [UInt64: Int32] = [:]
    /// The token id that ends at each node, or -1.
    private var ids: [Int32] = [-1]
    /// The node reached by "##", where continuation pieces are looked up.
    private var continuationRoot: Int32 = -1

    init(_ tokens: [String]) {
        for (id, token) in tokens.enumerated() {
            var node: Int32 = 0
            for byte in token.utf8 {
                node = child(of: node, byte) ?? addChild(to: node, byte)
            }
            ids[Int(node)] = Int32(id)
        }
        continuationRoot = child(of: 0, 0x23).flatMap { child(of: $0, 0x23) } ?? -1
    }

    /// The id of `token`, spelled in UTF-8, if it is in the vocabulary.
    func id(of token: [UInt8]) -> Int32? {
        var node: Int32 = 0
        for byte in token {
            guard let next = child(of: node, byte) else { return nil }
            node = next
        }
        return ids[Int(node)] >= 0 ? ids[Int(node)] : nil
    }

    /// The longest vocabulary piece at `offset` of `word` (a `##` continuation piece unless
    /// `offset` is 0) and the offset after it.
    func longestMatch(in word: [UInt8], from offset: Int) -> (id: Int32, end: Int)? {
        var node: Int32 = offset == 0 ? 0 : continuationRoot
        var match: (id: Int32, end: Int)?
        var position = offset
        while node >= 0, position < word.count, let next = child(of: node, word[position]) {
            node = next
            position += 1
            if ids[Int(node)] >= 0 { match = (ids[Int(node)], position) }
        }
        return match
    }

    private func child(of node: Int32, _ byte: UInt8) -> Int32? {
        children[UInt64(node) << 8 | UInt64(byte)]
    }

    private mutating func addChild(to node: Int32, _ byte: UInt8) -> Int32 {
        let new = Int32(ids.count)
        ids.append(-1)
        children[UInt64(node) << 8 | UInt64(byte)] = new
        return new
    }
}
