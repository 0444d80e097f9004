import Foundation

/// A kind of personal data the detector finds.
public enum PIIKind: String, Sendable, CaseIterable {
    case email
    case phone
    case iban
    case cardNumber = "card-number"
    case nationalID = "national-id"
}

/// Personal data found in a text: what it is and where, in UTF-16 offsets (as Foundation's
/// regular expressions and most clients count).
public struct PIIFinding: Sendable, Equatable {
    public let kind: PIIKind
    public let range: Range<Int>
    public let text: String
}

/// Finds e-mail addresses, phone numbers, IBANs, payment card numbers and national ids (UK
/// National Insurance numbers, US Social Security numbers) in free text.
///
/// A pattern only proposes a candidate; a validator decides. An IBAN must have its country's
/// length and pass ISO 13616's mod-97 check; a card number must pass Luhn and start like a
/// card scheme's number; a National Insurance number must use the letters HMRC issues; a Social
/// Security number must avoid the never-issued areas, groups and serials. Look-alikes — a
/// reference number that fails its checksum — are left alone, so redaction does not eat the
/// policy numbers, dates and amounts an answer is about.
public struct PIIDetector: Sendable {
    public init() {}

    public func findings(in text: String) -> [PIIFinding] {
        // Most log lines and passages hold neither a digit nor an at sign: nothing to look for.
        guard text.utf8.contains(where: { (0x30...0x39).contains($0) || $0 == UInt8(ascii: "@") }) else { return [] }
        let utf16 = text.utf16
        var found: [PIIFinding] = []
        // Most specific first: a later kind never claims characters an earlier one holds (a
        // card number is not also a phone number).
        for (kind, pattern, isValid) in Self.detectors {
            let matches = pattern.matches(in: text, range: NSRange(location: 0, length: utf16.count))
            for match in matches {
                let range = match.range.location..<(match.range.location + match.range.length)
                guard !found.contains(where: { $0.range.overlaps(range) }) else { continue }
                let start = utf16.index(utf16.startIndex, offsetBy: range.lowerBound)
                let end = utf16.index(start, offsetBy: range.count)
                let candidate = String(text[start..<end])
                if isValid(candidate) { found.append(PIIFinding(kind: kind, range: range, text: candidate)) }
            }
        }
        return found.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// `text` with every finding replaced by `[REDACTED:<kind>]`.
    public func redacted(_ text: String) -> String {
        let findings = findings(in: text)
        guard !findings.isEmpty else { return text }
        var result = ""
        var position = 0
        let utf16 = Array(text.utf16)
        for finding in findings {
            result += String(decoding: utf16[position..<finding.range.lowerBound], as: UTF16.self)
            result += "[REDACTED:\(finding.kind.rawValue)]"
            position = finding.range.upperBound
        }
        result += String(decoding: utf16[position...], as: UTF16.self)
        return result
    }

    // MARK: - Detectors

    private typealias Detector = (PIIKind, NSRegularExpression, @Sendable (String) -> Bool)

    // The patterns are constants, checked by the tests; a typo would fail every one of them.
    private static let detectors: [Detector] = [
        // IBANs are written in groups of four, or not grouped at all.
        (.iban, try! NSRegularExpression(pattern: #"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"#), { isIBAN($0) }),
        (.cardNumber, try! NSRegularExpression(pattern: #"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"#), { isCardNumber($0) }),
        (
            .nationalID,
            try! NSRegularExpression(pattern: #"\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b|(?<![0-9-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9-])"#),
            { isNationalID($0) }
        ),
        (
            .email,
            try! NSRegularExpression(pattern: #"\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"#),
            { _ in true }
        ),
        (
            .phone,
            try! NSRegularExpression(
                pattern: #"(?<![0-9+])(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{1,5}\)[ .-]?)?[0-9]{2,5}(?:[ .-]?[0-9]{2,5}){1,4}(?![0-9])"#
            ),
            { isPhone($0) }
        ),
    ]

    /// IBAN lengths by country (ISO 13616 registry), for the countries a European bank sees most.
    static let ibanLengths: [String: Int] = [
        "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18,
        "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20,
        "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
        "AE": 23, "SA": 24, "TR": 26, "IL": 23, "QA": 29, "UA": 29,
    ]

    static func isIBAN(_ candidate: String) -> Bool {
        let compact = candidate.filter { $0 != " " }
        guard let length = ibanLengths[String(compact.prefix(2))], compact.count == length else { return false }
        // Move the first four characters to the end, letters to 10…35, and take mod 97 piecewise.
        var remainder = 0
        for character in compact.dropFirst(4) + compact.prefix(4) {
            guard let value = character.isNumber ? character.wholeNumberValue : character.asciiValue.map({ Int($0) - 55 }) else { return false }
            remainder = (value < 10 ? remainder * 10 + value : remainder * 100 + value) % 97
        }
        return remainder == 1
    }

    static func isCardNumber(_ candidate: String) -> Bool {
        let digits = candidate.compactMap(\.wholeNumberValue)
        guard (13...19).contains(digits.count) else { return false }
        // Visa 4; Mastercard 51–55 and 2221–2720; American Express 34, 37; Discover 6011, 65;
        // JCB 35; Diners 36, 38; UnionPay 62; Maestro 50, 56–58.
        let prefix2 = digits[0] * 10 + digits[1]
        let prefix4 = prefix2 * 100 + digits[2] * 10 + digits[3]
        let scheme =
            digits[0] == 4 || (51...55).contains(prefix2) || (2221...2720).contains(prefix4) || [34, 37, 35, 36, 38, 62, 65, 50].contains(prefix2)
            || (56...58).contains(prefix2) || prefix4 == 6011
        guard scheme else { return false }
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }

    static func isNationalID(_ candidate: String) -> Bool {
        let compact = candidate.filter { $0 != " " }
        if compact.contains("-") {
            // US SSN: area not 000, 666 or 900–999; group not 00; serial not 0000.
            let parts = compact.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3 else { return false }
            return parts[0] != 0 && parts[0] != 666 && parts[0] < 900 && parts[1] != 0 && parts[2] != 0
        }
        // UK National Insurance number: D, F, I, Q, U and V never appear in the prefix, nor O as
        // its second letter; some prefixes are never issued.
        let letters = Array(compact.prefix(2))
        let forbidden: Set<Character> = ["D", "F", "I", "Q", "U", "V"]
        guard letters.count == 2, !forbidden.contains(letters[0]), !forbidden.contains(letters[1]), letters[1] != "O" else { return false }
        return !["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(String(letters))
    }

    /// International numbers (`+44 20 7946 0958`) carry 8–15 digits (E.164); national ones
    /// must start with a trunk 0 and carry 10–11 digits, so amounts, dates and clause numbers
    /// are not phones.
    static func isPhone(_ candidate: String) -> Bool {
        let digits = candidate.filter(\.isNumber)
        if candidate.hasPrefix("+") { return (8...15).contains(digits.count) }
        return digits.hasPrefix("0") && (10...11).contains(digits.count)
    }
}
