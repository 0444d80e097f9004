/// International Bank Account Numbers (ISO 13616) and Business Identifier Codes (ISO 9362).
public enum BankIdentifiers {
    /// IBAN lengths by country, from the SWIFT IBAN registry; an unknown country is held only
    /// to the general 15…34 and the checksum.
    static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21,
        "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
        "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
        "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
        "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
        "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26,
        "UA": 29, "VG": 24, "XK": 20,
    ]

    /// Whether `text` (spaces allowed, any case) is an IBAN whose length fits its country and
    /// whose mod-97 check (ISO 7064) gives 1.
    public static func isValidIBAN(_ text: String) -> Bool {
        let compact = text.uppercased().filter { $0 != " " }
        guard (15...34).contains(compact.count), compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return false }
        let country = String(compact.prefix(2))
        guard country.allSatisfy(\.isLetter), compact.dropFirst(2).prefix(2).allSatisfy(\.isNumber) else { return false }
        if let length = ibanLengths[country], length != compact.count { return false }
        var remainder = 0
        for character in compact.dropFirst(4) + compact.prefix(4) {
            let value = character.wholeNumberValue ?? (Int(character.asciiValue!) - 55)
            remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97
        }
        return remainder == 1
    }

    /// IBANs in `text`, printed compact or in groups of four; only those whose check holds.
    public static func ibans(in text: String) -> [TextMatch<String>] {
        text.matches(of: /\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b/).compactMap { match in
            // The pattern runs on past the IBAN into a following word; take the longest valid prefix.
            let characters = Array(text[match.range])
            for end in stride(from: characters.count, through: 15, by: -1) where characters[end - 1] != " " {
                let candidate = String(characters[0..<end])
                if isValidIBAN(candidate) {
                    let upper = text.index(match.range.lowerBound, offsetBy: end)
                    return TextMatch(
                        value: candidate.filter { $0 != " " },
                        range: text.scalarOffsets(of: match.range.lowerBound..<upper),
                        confidence: 0.99
                    )
                }
            }
            return nil
        }
    }

    /// Whether `text` has a BIC's shape: bank (4 letters), country (an ISO 3166 code), location
    /// (2), and an optional branch (3).
    public static func isValidBIC(_ text: String) -> Bool {
        guard text.wholeMatch(of: /[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?/) != nil else { return false }
        let country = String(text.dropFirst(4).prefix(2))
        return ibanLengths[country] != nil || otherCountries.contains(country)
    }

    /// Countries without IBANs whose banks have BICs, the common ones in correspondent banking.
    static let otherCountries: Set<String> = [
        "US", "CA", "MX", "AR", "CL", "CO", "PE", "JP", "CN", "HK", "SG", "MY", "TH", "ID", "PH", "VN", "KR", "TW", "IN",
        "AU", "NZ", "ZA", "NG", "KE", "MA", "RU",
    ]

    /// BICs in `text`, only after a label that names one ("BIC", "SWIFT"): a bare eight-letter
    /// capitalised word is far more often a word than a bank.
    public static func bics(in text: String) -> [TextMatch<String>] {
        text.matches(of: /(?i:\b(?:bic|swift)(?:[ \t]*code)?[ \t]*[:\-]?[ \t]*)([A-Z0-9]{8}(?:[A-Z0-9]{3})?)\b/).compactMap { match in
            let code = String(match.output.1)
            guard isValidBIC(code) else { return nil }
            return TextMatch(value: code, range: text.scalarOffsets(of: match.output.1.startIndex..<match.output.1.endIndex), confidence: 0.9)
        }
    }
}
