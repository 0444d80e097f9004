/// HTML character references (`&amp;`, `&#8212;`, `&#x2014;`) and the Windows-1252 code page
/// browsers read undeclared non-UTF-8 pages in.
///
/// Only the named references pages commonly use are known (HTML defines over 2,000); an unknown
/// one stays as written, which a reader can still make sense of.
enum HTMLCharacterReferences {
    static let named: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}",
        "copy": "©", "reg": "®", "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–",
        "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”", "laquo": "«", "raquo": "»",
        "euro": "€", "pound": "£", "yen": "¥", "cent": "¢", "sect": "§", "para": "¶",
        "middot": "·", "bull": "•", "deg": "°", "plusmn": "±", "times": "×", "divide": "÷",
        "frac12": "½", "frac14": "¼", "frac34": "¾",
    ]

    /// The longest known name, and more digits than any code point needs: past these a
    /// reference cannot be one, so the scan stops.
    private static let longestName = 6
    private static let longestNumber = 8

    /// `text` with its references decoded, as UTF-8.
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "&"), let (scalar, end) = reference(in: text, at: index) {
                output.append(contentsOf: String(scalar).utf8)
                index = end
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    /// The reference starting at the `&` at `start`, and where it ends.
    private static func reference(in text: ArraySlice<UInt8>, at start: Int) -> (Unicode.Scalar, Int)? {
        var index = start + 1
        guard index < text.endIndex else { return nil }
        if text[index] == UInt8(ascii: "#") {
            index += 1
            var radix = 10
            if index < text.endIndex, text[index] | 0x20 == UInt8(ascii: "x") {
                radix = 16
                index += 1
            }
            let digitsStart = index
            while index < text.endIndex, index - digitsStart < longestNumber, (Character(Unicode.Scalar(text[index])).hexDigitValue ?? radix) < radix
            {
                index += 1
            }
            guard index > digitsStart, let value = UInt32(String(decoding: text[digitsStart..<index], as: UTF8.self), radix: radix) else {
                return nil
            }
            // The semicolon is optional for numeric references, as browsers read them.
            if index < text.endIndex, text[index] == UInt8(ascii: ";") { index += 1 }
            return (scalar(forCodePoint: value), index)
        }
        let nameStart = index
        while index < text.endIndex, index - nameStart <= longestName, isAlphanumeric(text[index]) { index += 1 }
        guard index < text.endIndex, text[index] == UInt8(ascii: ";"),
            let scalar = named[String(decoding: text[nameStart..<index], as: UTF8.self)]
        else { return nil }
        return (scalar, index + 1)
    }

    /// What a numeric reference stands for: NUL, surrogates and values past Unicode are the
    /// replacement character; 128–159 (C1 controls no page means) are Windows-1252's characters.
    private static func scalar(forCodePoint value: UInt32) -> Unicode.Scalar {
        if (0x80...0x9F).contains(value) { return windows1252(UInt8(value)) }
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// The character a Windows-1252 byte stands for. It differs from Latin-1 only in 0x80–0x9F;
    /// the five bytes it leaves undefined keep their Latin-1 (control) meaning, as browsers do.
    static func windows1252(_ byte: UInt8) -> Unicode.Scalar {
        guard (0x80...0x9F).contains(byte) else { return Unicode.Scalar(byte) }
        let scalar = windows1252High[Int(byte - 0x80)]
        return scalar == "\u{0}" ? Unicode.Scalar(byte) : scalar
    }

    /// 0x80–0x9F; NUL marks the undefined ones.
    private static let windows1252High: [Unicode.Scalar] = [
        "€", "\u{0}", "‚", "ƒ", "„", "…", "†", "‡", "ˆ", "‰", "Š", "‹", "Œ", "\u{0}", "Ž", "\u{0}",
        "\u{0}", "‘", "’", "“", "”", "•", "–", "—", "˜", "™", "š", "›", "œ", "\u{0}", "ž", "Ÿ",
    ]
}
