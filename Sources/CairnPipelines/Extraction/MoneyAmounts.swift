import Foundation

/// An amount of money as printed, with its currency when the text names one.
public struct MoneyAmount: Sendable, Equatable {
    public let amount: Double
    /// ISO 4217, when a code or symbol stood beside the number.
    public let currency: String?
}

/// Amounts of money in text: `$4.11`, `USD 4.11`, `1.234,56 €`, `RM 9.00`, `4,11 EUR`.
public enum MoneyAmounts {
    static let symbols: [String: String] = [
        "$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "CHF": "CHF", "RM": "MYR", "Fr.": "CHF", "kr": "SEK", "zł": "PLN",
    ]
    static let codes: Set<String> = [
        "USD", "EUR", "GBP", "CHF", "JPY", "CNY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "MYR", "SGD", "HKD",
        "INR", "ZAR", "BRL", "MXN", "TRY", "AED", "SAR",
    ]

    /// Every amount in `text` with two decimals or a currency beside it: a bare integer is a
    /// count or a reference more often than money.
    /// Space between the parts is horizontal only: an amount never runs onto the next line.
    public static func amounts(in text: String) -> [TextMatch<MoneyAmount>] {
        let pattern =
            /(?<before>US\$|[$€£¥]|\b[A-Z]{3}\b|\bRM\b|\bFr\.)?[ \t]?(?<number>-?\d{1,3}(?:[ ,.'’]\d{3})*(?:[.,]\d{1,2})?|-?\d+(?:[.,]\d{1,2})?)(?:[ \t]?(?<after>[€£]|\b[A-Z]{3}\b|zł|\bkr\b))?/
        return text.matches(of: pattern).compactMap { match in
            func currency(_ text: Substring?) -> String? { text.flatMap { symbols[String($0)] ?? (codes.contains(String($0)) ? String($0) : nil) } }
            // A word after the number that is no currency ("GST") is not part of the amount.
            let after = currency(match.output.after)
            let end = after == nil ? match.output.number.endIndex : match.range.upperBound
            if match.output.before != nil, currency(match.output.before) == nil { return nil }
            let currency = currency(match.output.before) ?? after
            guard let amount = number(String(match.output.number)) else { return nil }
            let hasCents = match.output.number.range(of: #"[.,]\d{2}$"#, options: .regularExpression) != nil
            guard currency != nil || hasCents else { return nil }
            // Digits glued to letters or to more digits (a date, a reference) are not money.
            let number = match.output.number
            if number.startIndex > text.startIndex, "0123456789.,".contains(text[text.index(before: number.startIndex)]) { return nil }
            if end < text.endIndex, text[end].isLetter || text[end].isNumber { return nil }
            return TextMatch(
                value: MoneyAmount(amount: amount, currency: currency),
                range: text.scalarOffsets(of: match.range.lowerBound..<end),
                confidence: currency == nil ? 0.7 : 0.9
            )
        }
    }

    /// Reads `1,234.56`, `1.234,56`, `1 234,56`, `1'234.56` and `4,11`: the last separator
    /// followed by one or two digits is the decimal mark.
    static func number(_ text: String) -> Double? {
        let negative = text.hasPrefix("-")
        let digits = negative ? String(text.dropFirst()) : text
        var integer = digits
        var fraction = ""
        if let mark = digits.lastIndex(where: { $0 == "." || $0 == "," }), digits.distance(from: mark, to: digits.endIndex) <= 3 {
            integer = String(digits[..<mark])
            fraction = String(digits[digits.index(after: mark)...])
        }
        let whole = integer.filter(\.isNumber)
        guard !whole.isEmpty, let value = Double(whole + "." + (fraction.isEmpty ? "0" : fraction)) else { return nil }
        return negative ? -value : value
    }
}
