import CairnCore

/// An amount of US dollars, held as an integer count of nanodollars.
///
/// Integers because budgets are compared and summed across thousands of calls: binary floating
/// point would drift, and a budget check that drifts can overspend. A nanodollar is fine enough
/// that a token's price (a price per million tokens given to the micro-dollar) costs a whole
/// number of them.
public struct USD: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var nanodollars: Int64

    public init(nanodollars: Int64) { self.nanodollars = nanodollars }

    public static let zero = USD(nanodollars: 0)

    /// `dollars` rounded to the nanodollar; `nil` when negative, not finite or absurdly large.
    public init?(dollars: Double) {
        guard dollars.isFinite, dollars >= 0, dollars < 1e9 else { return nil }
        nanodollars = Int64((dollars * 1e9).rounded())
    }

    public var dollars: Double { Double(nanodollars) / 1e9 }

    public static func + (lhs: USD, rhs: USD) -> USD { USD(nanodollars: lhs.nanodollars &+ rhs.nanodollars) }
    public static func - (lhs: USD, rhs: USD) -> USD { USD(nanodollars: lhs.nanodollars &- rhs.nanodollars) }
    public static func += (lhs: inout USD, rhs: USD) { lhs = lhs + rhs }
    public static func -= (lhs: inout USD, rhs: USD) { lhs = lhs - rhs }
    public static func < (lhs: USD, rhs: USD) -> Bool { lhs.nanodollars < rhs.nanodollars }

    /// Dollars with up to six decimals, e.g. `$0.000150`.
    public var description: String {
        let micros = (nanodollars + 500) / 1000
        let whole = micros / 1_000_000
        let fraction = String(micros % 1_000_000)
        return "$\(whole).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    public init(from decoder: any Decoder) throws {
        nanodollars = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanodollars)
    }
}

/// What a deployment charges per million input and output tokens.
public struct TokenPrice: Sendable, Hashable, Codable {
    public var inputPerMillion: USD
    public var outputPerMillion: USD

    public init(inputPerMillion: USD, outputPerMillion: USD) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }

    public static let free = TokenPrice(inputPerMillion: .zero, outputPerMillion: .zero)

    /// The cost of `input` prompt and `output` generated tokens, rounded up to the nanodollar
    /// so that many small calls never add up to less than they cost.
    public func cost(input: Int, output: Int) -> USD {
        func part(_ tokens: Int, _ perMillion: USD) -> Int64 {
            let (product, overflow) = Int64(max(0, tokens)).multipliedReportingOverflow(by: perMillion.nanodollars)
            if overflow { return .max / 4 }
            return (product + 999_999) / 1_000_000
        }
        return USD(nanodollars: part(input, inputPerMillion) + part(output, outputPerMillion))
    }
}
