import CairnCore
import Foundation

/// JSON equality and hashing as `enum`, `const` and `uniqueItems` define them, and the compact
/// renderings that messages quote.
extension JSONValue {
    /// Equal as JSON: numbers by value (1 == 1.0), strings by Unicode code points (Swift's `==`
    /// would also equate canonically equivalent strings), objects whatever their key order.
    func isJSONEqual(to other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let left), .bool(let right)): return left == right
        case (.number(let left), .number(let right)): return left == right
        case (.string(let left), .string(let right)): return left.unicodeScalars.elementsEqual(right.unicodeScalars)
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.isJSONEqual(to: $1) }
        case (.object(let left), .object(let right)):
            guard left.count == right.count else { return false }
            return left.allSatisfy { key, value in right[key].map { value.isJSONEqual(to: $0) } ?? false }
        default: return false
        }
    }

    /// A hash consistent with `isJSONEqual(to:)`.
    func hashJSON(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0)
        case .bool(let value):
            hasher.combine(1)
            hasher.combine(value)
        case .number(let value):
            hasher.combine(2)
            // 0.0 and -0.0 are equal, so they must hash alike.
            hasher.combine(value == 0 ? 0 : value)
        case .string(let value):
            hasher.combine(3)
            Self.hashScalars(of: value, into: &hasher)
        case .array(let values):
            hasher.combine(4)
            hasher.combine(values.count)
            for value in values { value.hashJSON(into: &hasher) }
        case .object(let members):
            hasher.combine(5)
            // Summing per-member hashes makes the result independent of key order.
            var sum = 0
            for (key, value) in members {
                var memberHasher = Hasher()
                Self.hashScalars(of: key, into: &memberHasher)
                value.hashJSON(into: &memberHasher)
                sum &+= memberHasher.finalize()
            }
            hasher.combine(sum)
        }
    }

    /// Compact JSON for messages, cut at about `limit` characters.
    func renderedForMessage(limit: Int = 60) -> String {
        var text = ""
        appendRendering(to: &text, limit: limit)
        return text.count > limit ? text.prefix(limit) + "…" : text
    }

    /// Stops adding once `text` is past `limit` (UTF-8 bytes, which a native string counts in
    /// constant time), so rendering a huge value costs no more than rendering its start.
    private func appendRendering(to text: inout String, limit: Int) {
        switch self {
        case .null: text += "null"
        case .bool(let value): text += value ? "true" : "false"
        case .number(let value): text += JSONSchemaNumber.text(value)
        case .string(let value): text += Self.quoted(String(value.unicodeScalars.prefix(limit)))
        case .array(let values):
            text += "["
            for (index, value) in values.enumerated() {
                guard text.utf8.count <= limit else { break }
                if index > 0 { text += "," }
                value.appendRendering(to: &text, limit: limit)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                guard text.utf8.count <= limit else { break }
                if index > 0 { text += "," }
                text += Self.quoted(key) + ":"
                members[key]?.appendRendering(to: &text, limit: limit)
            }
            text += "}"
        }
    }

    private static func quoted(_ string: String) -> String {
        var text = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20: text += String(format: "\\u%04x", scalar.value)
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }

    private static func hashScalars(of string: String, into hasher: inout Hasher) {
        hasher.combine(string.unicodeScalars.count)
        for scalar in string.unicodeScalars { hasher.combine(scalar.value) }
    }
}

/// JSON Pointers (RFC 6901), for instance and keyword locations.
enum JSONSchemaPointer {
    /// `tokens` as a pointer: `["a", "b/c"]` is "/a/b~1c"; no tokens is "".
    static func string(_ tokens: some Sequence<String>) -> String {
        var pointer = ""
        for token in tokens {
            pointer += "/"
            for character in token {
                switch character {
                case "~": pointer += "~0"
                case "/": pointer += "~1"
                default: pointer.append(character)
                }
            }
        }
        return pointer
    }
}

/// Numbers as JSON Schema compares and messages spell them.
enum JSONSchemaNumber {
    /// A number as a person writes it: `3` rather than `3.0`.
    static func text(_ number: Double) -> String {
        if number.rounded(.towardZero) == number, abs(number) < 1e15 { return String(Int64(number)) }
        return "\(number)"
    }

    /// Whether `value` is an integer multiple of `divisor` (> 0).
    static func isMultiple(_ value: Double, of divisor: Double) -> Bool {
        let quotient = value / divisor
        guard quotient.isFinite else {
            // Only a huge value overflows the quotient, and huge doubles are all integers: multiples
            // of any divisor that divides 1 (0.5, 0.25, …).
            let reciprocal = 1 / divisor
            return JSONSchemaType.integer.matches(.number(value)) && reciprocal.isFinite && reciprocal.rounded(.towardZero) == reciprocal
        }
        if quotient.rounded(.towardZero) == quotient { return true }
        // Binary floating point cannot represent most decimal fractions (0.0075 / 0.0001 is
        // 74.99999999999999), so divide again in decimal, starting from the shortest decimal
        // spelling of each double.
        guard let decimalValue = Decimal(string: "\(value)"), let decimalDivisor = Decimal(string: "\(divisor)") else { return false }
        var decimalQuotient = decimalValue / decimalDivisor
        guard !decimalQuotient.isNaN else { return false }
        var whole = Decimal()
        NSDecimalRound(&whole, &decimalQuotient, 0, .down)
        return whole == decimalQuotient
    }
}
