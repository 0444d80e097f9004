import Foundation

/// Whether two printed values name the same thing, as a KYC analyst compares them: case,
/// diacritics, punctuation and word order do not matter; a typo costs a little.
public enum FieldComparison {
    /// 0…1: 1 for the same words in any order; otherwise one minus the edit distance between the
    /// normalised texts over the longer one's length.
    public static func similarity(_ left: String, _ right: String) -> Double {
        let (a, b) = (normalized(left), normalized(right))
        guard !a.isEmpty || !b.isEmpty else { return 1 }
        let distance = editDistance(Array(a), Array(b))
        return 1 - Double(distance) / Double(max(a.count, b.count))
    }

    /// Lower case, diacritics folded (é → e, ß → ss, ø → o), punctuation dropped, words sorted.
    static func normalized(_ text: String) -> String {
        let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        let transliterated = folded.map { character -> String in
            switch character {
            case "ß": "ss"
            case "ø": "o"
            case "æ": "ae"
            case "œ": "oe"
            case "ł": "l"
            case "đ": "d"
            case "þ": "th"
            default: String(character)
            }
        }.joined()
        let words = transliterated.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        return words.sorted().joined(separator: " ")
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
