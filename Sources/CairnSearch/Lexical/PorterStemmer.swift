/// Martin Porter's suffix-stripping algorithm (Porter 1980, "An algorithm for suffix
/// stripping"), exactly as his reference ANSI C implementation and Lucene's `PorterStemFilter`
/// run it: with the reference's two departures from the paper (`-bli` → `-ble` instead of
/// `-abli` → `-able`, and the extra `-logi` → `-log`), and words of one or two letters left alone.
///
/// Input is expected in lower case, as the analyzer leaves it. Letters other than `a e i o u y`
/// count as consonants, non-ASCII ones included; suffixes are ASCII, so a stem is always cut on
/// a scalar boundary and stays valid UTF-8.
public struct PorterStemmer: Sendable {
    public init() {}

    /// The stem of `word`: `"generalizations"` → `"gener"`, `"ponies"` → `"poni"`.
    public func stem(_ word: String) -> String {
        var bytes = Array(word.utf8)
        let length = bytes.withUnsafeMutableBufferPointer { Self.stem($0) }
        return String(decoding: bytes[..<length], as: UTF8.self)
    }

    /// Stems the UTF-8 word in `word` in place and returns the stem's length in bytes.
    ///
    /// A stem is never longer than its word (every rule that appends letters first removed at
    /// least as many), so the word's own storage is enough.
    static func stem(_ word: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard word.count > 2, let base = word.baseAddress else { return word.count }
        var stemmer = SuffixStripper(word: base, last: word.count - 1)
        stemmer.removePluralsAndParticiples()
        stemmer.turnTerminalYToI()
        stemmer.reduceDoubleSuffixes()
        stemmer.removeIcFulNess()
        stemmer.removeSuffixesOfLongStems()
        stemmer.removeFinalE()
        return stemmer.last + 1
    }
}

/// One word being stemmed: the reference implementation's `b`, `k` and `j`, with `k0` = 0.
private struct SuffixStripper {
    /// The word's bytes; only `word[0...last]` is the current stem.
    let word: UnsafeMutablePointer<UInt8>
    /// Index of the stem's last byte (`k`).
    var last: Int
    /// Index of the last byte before the suffix `endsWith` matched (`j`).
    var stemEnd = 0

    init(word: UnsafeMutablePointer<UInt8>, last: Int) {
        self.word = word
        self.last = last
    }

    /// `cons(i)`: `y` is a consonant at the start or after a vowel.
    func isConsonant(_ index: Int) -> Bool {
        switch word[index] {
        case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"), UInt8(ascii: "u"):
            false
        case UInt8(ascii: "y"):
            index == 0 || !isConsonant(index - 1)
        default:
            true
        }
    }

    /// `m()`: the number of vowel-consonant sequences in `word[0...stemEnd]`.
    func measure() -> Int {
        var count = 0
        var index = 0
        while index <= stemEnd, isConsonant(index) { index += 1 }
        while true {
            while index <= stemEnd, !isConsonant(index) { index += 1 }
            guard index <= stemEnd else { return count }
            count += 1
            while index <= stemEnd, isConsonant(index) { index += 1 }
            guard index <= stemEnd else { return count }
        }
    }

    /// `vowelinstem()`: whether `word[0...stemEnd]` has a vowel.
    func hasVowelInStem() -> Bool {
        guard stemEnd >= 0 else { return false }
        return (0...stemEnd).contains { !isConsonant($0) }
    }

    /// `doublec(j)`: the same consonant at `index - 1` and `index`.
    ///
    /// Restricted to ASCII, where the reference works on characters: two equal bytes of one
    /// multi-byte scalar must not be split.
    func endsWithDoubleConsonant(at index: Int) -> Bool {
        index >= 1 && word[index] < 0x80 && word[index] == word[index - 1] && isConsonant(index)
    }

    /// `cvc(i)`: consonant, vowel, consonant ending at `index`, the last not `w`, `x` or `y`
    /// (to restore the `e` of cav(e), lov(e), hop(e) but not of snow, box, tray).
    func endsWithShortSyllable(at index: Int) -> Bool {
        guard index >= 2, isConsonant(index), !isConsonant(index - 1), isConsonant(index - 2) else { return false }
        let letter = word[index]
        return letter != UInt8(ascii: "w") && letter != UInt8(ascii: "x") && letter != UInt8(ascii: "y")
    }

    /// `ends(s)`: whether the stem ends with `suffix`; if so, `stemEnd` marks what precedes it.
    mutating func endsWith(_ suffix: StaticString) -> Bool {
        let length = suffix.utf8CodeUnitCount
        let start = last - length + 1
        guard start >= 0 else { return false }
        let letters = suffix.utf8Start
        for offset in 0..<length where word[start + offset] != letters[offset] { return false }
        stemEnd = last - length
        return true
    }

    /// `setto(s)`: replaces the matched suffix with `replacement`.
    mutating func replaceSuffix(with replacement: StaticString) {
        let letters = replacement.utf8Start
        for offset in 0..<replacement.utf8CodeUnitCount { word[stemEnd + 1 + offset] = letters[offset] }
        last = stemEnd + replacement.utf8CodeUnitCount
    }

    /// Step 1ab: caresses → caress, ponies → poni, cats → cat; feed → feed, agreed → agree,
    /// plastered → plaster, motoring → motor, conflated → conflate, hopping → hop, filing → file.
    mutating func removePluralsAndParticiples() {
        if word[last] == UInt8(ascii: "s") {
            if endsWith("sses") {
                last -= 2
            } else if endsWith("ies") {
                replaceSuffix(with: "i")
            } else if word[last - 1] != UInt8(ascii: "s") {
                last -= 1
            }
        }
        if endsWith("eed") {
            if measure() > 0 { last -= 1 }
        } else if endsWith("ed") || endsWith("ing"), hasVowelInStem() {
            last = stemEnd
            if endsWith("at") {
                replaceSuffix(with: "ate")
            } else if endsWith("bl") {
                replaceSuffix(with: "ble")
            } else if endsWith("iz") {
                replaceSuffix(with: "ize")
            } else if endsWithDoubleConsonant(at: last) {
                let letter = word[last]
                if letter != UInt8(ascii: "l"), letter != UInt8(ascii: "s"), letter != UInt8(ascii: "z") { last -= 1 }
            } else if measure() == 1, endsWithShortSyllable(at: last) {
                // The failed matches above left `stemEnd` at `last`, so this measures the stem.
                replaceSuffix(with: "e")
            }
        }
    }

    /// Step 1c: happy → happi, sky → sky.
    mutating func turnTerminalYToI() {
        if endsWith("y"), hasVowelInStem() { word[last] = UInt8(ascii: "i") }
    }

    /// Step 2: relational → relate, digitizer → digitize, hopefulness → hopeful.
    ///
    /// Within a step the first suffix that matches ends it, even when its stem is too short
    /// to be replaced; `||` stops at that suffix.
    mutating func reduceDoubleSuffixes() {
        guard last > 0 else { return }
        switch word[last - 1] {
        case UInt8(ascii: "a"): _ = replace("ational", with: "ate") || replace("tional", with: "tion")
        case UInt8(ascii: "c"): _ = replace("enci", with: "ence") || replace("anci", with: "ance")
        case UInt8(ascii: "e"): _ = replace("izer", with: "ize")
        case UInt8(ascii: "l"):
            _ =
                replace("bli", with: "ble") || replace("alli", with: "al") || replace("entli", with: "ent") || replace("eli", with: "e")
                || replace("ousli", with: "ous")
        case UInt8(ascii: "o"): _ = replace("ization", with: "ize") || replace("ation", with: "ate") || replace("ator", with: "ate")
        case UInt8(ascii: "s"):
            _ =
                replace("alism", with: "al") || replace("iveness", with: "ive") || replace("fulness", with: "ful")
                || replace("ousness", with: "ous")
        case UInt8(ascii: "t"): _ = replace("aliti", with: "al") || replace("iviti", with: "ive") || replace("biliti", with: "ble")
        case UInt8(ascii: "g"): _ = replace("logi", with: "log")
        default: break
        }
    }

    /// Step 3: triplicate → triplic, formative → form, electrical → electric, goodness → good.
    mutating func removeIcFulNess() {
        switch word[last] {
        case UInt8(ascii: "e"): _ = replace("icate", with: "ic") || replace("ative", with: "") || replace("alize", with: "al")
        case UInt8(ascii: "i"): _ = replace("iciti", with: "ic")
        case UInt8(ascii: "l"): _ = replace("ical", with: "ic") || replace("ful", with: "")
        case UInt8(ascii: "s"): _ = replace("ness", with: "")
        default: break
        }
    }

    /// `r(s)` behind `ends(s)`: whether the stem ends with `suffix`, which is then replaced
    /// when what precedes it has a measure above 0.
    private mutating func replace(_ suffix: StaticString, with replacement: StaticString) -> Bool {
        guard endsWith(suffix) else { return false }
        if measure() > 0 { replaceSuffix(with: replacement) }
        return true
    }

    /// Step 4: revival → reviv, allowance → allow, adjustment → adjust, adoption → adopt,
    /// when what remains has a measure above 1.
    mutating func removeSuffixesOfLongStems() {
        guard last > 0 else { return }
        let matched: Bool
        switch word[last - 1] {
        case UInt8(ascii: "a"): matched = endsWith("al")
        case UInt8(ascii: "c"): matched = endsWith("ance") || endsWith("ence")
        case UInt8(ascii: "e"): matched = endsWith("er")
        case UInt8(ascii: "i"): matched = endsWith("ic")
        case UInt8(ascii: "l"): matched = endsWith("able") || endsWith("ible")
        // "ement" before "ment" before "ent": element etc. are not stripped before the m.
        case UInt8(ascii: "n"): matched = endsWith("ant") || endsWith("ement") || endsWith("ment") || endsWith("ent")
        // -ion only after s or t; "ou" takes care of -ous.
        case UInt8(ascii: "o"): matched = endsWith("ion") && stemEnd >= 0 && isSOrT(word[stemEnd]) || endsWith("ou")
        case UInt8(ascii: "s"): matched = endsWith("ism")
        case UInt8(ascii: "t"): matched = endsWith("ate") || endsWith("iti")
        case UInt8(ascii: "u"): matched = endsWith("ous")
        case UInt8(ascii: "v"): matched = endsWith("ive")
        case UInt8(ascii: "z"): matched = endsWith("ize")
        default: matched = false
        }
        if matched, measure() > 1 { last = stemEnd }
    }

    private func isSOrT(_ letter: UInt8) -> Bool {
        letter == UInt8(ascii: "s") || letter == UInt8(ascii: "t")
    }

    /// Step 5: probate → probat, rate → rate, cease → ceas; controll → control, roll → roll.
    mutating func removeFinalE() {
        stemEnd = last
        if word[last] == UInt8(ascii: "e") {
            let measure = measure()
            if measure > 1 || measure == 1 && !endsWithShortSyllable(at: last - 1) { last -= 1 }
        }
        if word[last] == UInt8(ascii: "l"), endsWithDoubleConsonant(at: last), measure() > 1 { last -= 1 }
    }
}
