/// Turns text into index terms the way Lucene's `EnglishAnalyzer` does, which is what Pyserini
/// runs for its BEIR BM25 baselines (nDCG@10 0.679 on SciFact): StandardTokenizer,
/// EnglishPossessiveFilter, LowerCaseFilter, StopFilter over the 33 English stop words,
/// PorterStemFilter. "The bank's Fees were RAISED in 2024" gives `bank fee were rais 2024`.
///
/// Words follow StandardTokenizer's reading of the Unicode word-boundary rules (UAX #29):
/// runs of letters and digits are words (`covid19`); an apostrophe or full stop between two
/// letters stays inside the word (`don't`, `u.s.a`), as does an apostrophe, full stop, comma
/// or semicolon between two digits (`3.14`, `1,000`); underscores join (`account_id`); each CJK
/// ideograph and hiragana is a word of its own, katakana runs are words; everything else
/// separates, hyphens included (`state-of-the-art` is `state art` once stop words are gone).
///
/// Where this departs from Lucene, on purpose:
/// - Latin letters with diacritics fold to their base letters (é → e, ß → ss, ø → o, ł → l,
///   U+00C0–U+017F) and combining diacritical marks (U+0300–U+036F) are dropped, so text in
///   either Unicode normal form folds alike. Lucene's English analyzer keeps accents, so
///   `café` and `cafe` would be different terms; bank documents spell names and borrowed words
///   both ways and people type queries without accents. Only accented words change, and
///   English corpora such as BEIR's have few. Other scripts keep their marks.
/// - Typographic apostrophes (’ ‘ ＇) become `'`, so `o’neil` and `o'neil` are one term.
/// - A colon separates (`note:the`), where UAX #29 lets it join letters for Swedish (`c:a`).
/// - Format characters (soft hyphen, zero-width joiners) vanish from inside words instead of
///   staying in them; emoji separate instead of becoming terms.
/// - A word is cut every 255 scalars, where Lucene cuts every 255 UTF-16 units.
///
/// The analyzer reads UTF-8 bytes and Unicode scalars, never `Character`s, and assembles each
/// word in one reusable buffer: it runs over about a million chunks when an index is built.
public struct TextAnalyzer: Sendable {
    /// Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`, removed after lowercasing.
    public static let englishStopWords = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of", "on",
        "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
    ]

    public init() {}

    /// The terms of `text` in order, repeats kept.
    public func terms(in text: String) -> [String] {
        var terms: [String] = []
        forEachTerm(in: text) { terms.append(String(decoding: $0, as: UTF8.self)) }
        return terms
    }

    /// Calls `body` with the UTF-8 bytes of each term of `text`, in order; the bytes are only
    /// valid during the call.
    func forEachTerm(in text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        text.withUTF8 { input in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: WordAssembler.capacity) { storage in
                var word = WordAssembler(buffer: storage.baseAddress!)
                var position = 0
                while position < input.count {
                    let lead = input[position]
                    if lead < 0x80 {
                        position += 1
                        word.addASCII(lead, body)
                        continue
                    }
                    // The bytes come from a String, so they are valid UTF-8.
                    let width = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                    var scalar = UInt32(lead) & (0x7F >> width)
                    for offset in 1..<width { scalar = scalar << 6 | UInt32(input[position + offset] & 0x3F) }
                    word.addScalar(scalar, encoded: UnsafeBufferPointer(rebasing: input[position..<position + width]), body)
                    position += width
                }
                word.endWord(body)
            }
        }
    }
}

/// The kind of the last scalar written to a word, which decides what may continue it.
private enum WordElement {
    case none
    case letter
    case digit
    case katakana
    /// An underscore (or another connector punctuation), which joins whatever it stands between.
    case connector
}

/// Which neighbours a punctuation character must have to stay inside a word.
private enum InfixRule {
    /// Apostrophes and full stops: `don't`, `u.s.a`, `3.14`.
    case lettersOrDigits
    /// The middle dot: Catalan `col·lecció`.
    case letters
    /// Commas and semicolons: `1,000`.
    case digits

    func joins(_ before: WordElement, _ after: WordElement) -> Bool {
        switch self {
        case .lettersOrDigits: before == after && (after == .letter || after == .digit)
        case .letters: before == .letter && after == .letter
        case .digits: before == .digit && after == .digit
        }
    }
}

/// The word being read, in a buffer owned by the caller, and the filters it goes through once
/// it ends: possessive removal, stop words, the Porter stemmer.
private struct WordAssembler {
    /// Bytes of the buffer: a word is cut long before it fills (255 scalars of at most 12
    /// bytes each once lowercased).
    static let capacity = 4096
    static let maximumScalars = 255

    let buffer: UnsafeMutablePointer<UInt8>
    var length = 0
    var scalarCount = 0
    var lastElement = WordElement.none
    /// A punctuation scalar seen after the word, written only if the next element joins it; 0
    /// when there is none.
    var pendingInfix: UInt32 = 0
    var pendingRule = InfixRule.lettersOrDigits

    init(buffer: UnsafeMutablePointer<UInt8>) {
        self.buffer = buffer
    }

    @inline(__always)
    mutating func addASCII(_ byte: UInt8, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"):
            begin(.letter, body)
            append(byte)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"):
            begin(.letter, body)
            append(byte | 0x20)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            begin(.digit, body)
            append(byte)
        case UInt8(ascii: "'"), UInt8(ascii: "."):
            addInfix(UInt32(byte), rule: .lettersOrDigits, body)
        case UInt8(ascii: ","), UInt8(ascii: ";"):
            addInfix(UInt32(byte), rule: .digits, body)
        case UInt8(ascii: "_"):
            addConnector(body)
        default:
            endWord(body)
        }
    }

    mutating func addScalar(_ scalar: UInt32, encoded: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch scalar {
        case 0xC0...0x17F:
            let folded = LatinFolding.table[Int(scalar - 0xC0)]
            guard folded != 0 else { return endWord(body) }  // × and ÷
            begin(.letter, body)
            append(UInt8(truncatingIfNeeded: folded))
            if folded > 0xFF { append(UInt8(truncatingIfNeeded: folded >> 8)) }
        case 0x300...0x36F:
            break  // combining diacritical marks: folded away
        case 0x2018, 0x2019, 0xFF07:
            addInfix(UInt32(UInt8(ascii: "'")), rule: .lettersOrDigits, body)
        case 0x2024, 0xFE52, 0xFF0E:
            addInfix(UInt32(UInt8(ascii: ".")), rule: .lettersOrDigits, body)
        case 0xB7, 0x387, 0x5F4, 0x2027, 0xFE13:
            addInfix(scalar, rule: .letters, body)
        case 0x37E, 0x589, 0x60C, 0x60D, 0x66C, 0xFE50, 0xFE54, 0xFF0C, 0xFF1B:
            addInfix(scalar, rule: .digits, body)
        case 0x203F, 0x2040, 0x2054, 0xFE33, 0xFE34, 0xFE4D...0xFE4F, 0xFF3F:
            addConnector(body)
        case 0x3040...0x309F:
            addStandalone(encoded, body)  // hiragana
        case 0x30A1...0x30FA, 0x30FC...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F:
            begin(.katakana, body)
            append(encoded)
        default:
            addOther(Unicode.Scalar(scalar)!, encoded: encoded, body)
        }
    }

    /// Scalars outside the ranges handled by value, classified by their Unicode properties.
    private mutating func addOther(_ scalar: Unicode.Scalar, encoded: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let properties = scalar.properties
        if properties.isIdeographic {
            addStandalone(encoded, body)
        } else if properties.isAlphabetic {
            // Includes the vowel signs of Indic scripts, which are marks but letters to UAX #29.
            begin(.letter, body)
            if properties.changesWhenLowercased {
                for byte in properties.lowercaseMapping.utf8 { append(byte) }
            } else {
                append(encoded)
            }
        } else {
            switch properties.generalCategory {
            case .decimalNumber:
                begin(.digit, body)
                append(encoded)
            case .nonspacingMark, .spacingMark, .enclosingMark:
                // Belongs to the scalar before it; dropped when that one was not in a word.
                guard length > 0, pendingInfix == 0, scalarCount < Self.maximumScalars else { return }
                scalarCount += 1
                append(encoded)
            case .format:
                break
            default:
                endWord(body)
            }
        }
    }

    /// Prepares for a letter, digit or katakana: ends the current word unless the element
    /// continues it, and writes a pending infix that it joins.
    @inline(__always)
    private mutating func begin(_ element: WordElement, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if length > 0 {
            if scalarCount + (pendingInfix != 0 ? 2 : 1) > Self.maximumScalars {
                endWord(body)
            } else if pendingInfix != 0 {
                if pendingRule.joins(lastElement, element) {
                    appendScalar(pendingInfix)
                    scalarCount += 1
                } else {
                    endWord(body)
                }
            } else if !Self.joinsDirectly(lastElement, element) {
                endWord(body)
            }
        }
        pendingInfix = 0
        lastElement = element
        scalarCount += 1
    }

    private static func joinsDirectly(_ before: WordElement, _ after: WordElement) -> Bool {
        switch (before, after) {
        case (.letter, .letter), (.letter, .digit), (.digit, .letter), (.digit, .digit), (.katakana, .katakana), (.connector, _): true
        default: false
        }
    }

    private mutating func addInfix(_ scalar: UInt32, rule: InfixRule, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard length > 0 else { return }
        guard pendingInfix == 0, lastElement == .letter || lastElement == .digit else { return endWord(body) }
        pendingInfix = scalar
        pendingRule = rule
    }

    private mutating func addConnector(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard length > 0 else { return }  // a word does not start with an underscore
        guard pendingInfix == 0, scalarCount < Self.maximumScalars else { return endWord(body) }
        lastElement = .connector
        scalarCount += 1
        append(UInt8(ascii: "_"))
    }

    /// An ideograph or hiragana: a word by itself.
    private mutating func addStandalone(_ encoded: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        endWord(body)
        append(encoded)
        endWord(body)
    }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        buffer[length] = byte
        length += 1
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        for byte in bytes { append(byte) }
    }

    private mutating func appendScalar(_ scalar: UInt32) {
        // Infixes are scalars listed above, all valid.
        UTF8.encode(Unicode.Scalar(scalar)!) { append($0) }
    }

    /// Runs the finished word through the filters and hands the term, if any, to `body`.
    mutating func endWord(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        defer {
            length = 0
            scalarCount = 0
            lastElement = .none
            pendingInfix = 0
        }
        var end = length
        while end > 0, buffer[end - 1] == UInt8(ascii: "_") { end -= 1 }
        // EnglishPossessiveFilter: a trailing 's (the apostrophe already normalised).
        if end >= 2, buffer[end - 2] == UInt8(ascii: "'"), buffer[end - 1] == UInt8(ascii: "s") { end -= 2 }
        guard end > 0, !StopWords.contains(UnsafeBufferPointer(start: buffer, count: end)) else { return }
        end = PorterStemmer.stem(UnsafeMutableBufferPointer(start: buffer, count: end))
        body(UnsafeBufferPointer(start: buffer, count: end))
    }
}

/// The stop words packed into integers (bytes, then the length in the top byte), sorted, so a
/// lookup is a few integer comparisons rather than a hash of a string.
private enum StopWords {
    static let maximumLength = 5
    static let keys: [UInt64] = TextAnalyzer.englishStopWords.map { key(Array($0.utf8)[...]) }.sorted()

    static func contains(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
        guard word.count <= maximumLength else { return false }
        let key = key(word[...])
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < keys.count && keys[low] == key
    }

    private static func key<Bytes: Collection<UInt8>>(_ word: Bytes) -> UInt64 {
        var key = UInt64(word.count) << 56
        for (index, byte) in word.enumerated() { key |= UInt64(byte) << (8 * UInt64(index)) }
        return key
    }
}

/// What each scalar of Latin-1 Supplement and Latin Extended-A letters (U+00C0–U+017F) folds
/// to: one or two lowercase ASCII letters packed low byte first, 0 for × and ÷.
private enum LatinFolding {
    static let table: [UInt16] = {
        let folds = [
            "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",  // U+00C0
            "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",  // U+00D0
            "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",  // U+00E0
            "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",  // U+00F0
            "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",  // U+0100
            "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",  // U+0110
            "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",  // U+0120
            "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",  // U+0130
            "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",  // U+0140
            "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",  // U+0150
            "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",  // U+0160
            "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",  // U+0170
        ]
        precondition(folds.count == 0x180 - 0xC0, "one fold per scalar from U+00C0 to U+017F")
        return folds.map { fold in
            fold.utf8.reversed().reduce(0) { packed, byte in packed << 8 | UInt16(byte) }
        }
    }()
}
