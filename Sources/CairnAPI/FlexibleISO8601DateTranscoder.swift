import CairnCore
public import Foundation
package import OpenAPIRuntime

/// Accepts RFC 3339 timestamps with or without fractional seconds; writes them with milliseconds.
package struct FlexibleISO8601DateTranscoder: DateTranscoder {
    package init() {}

    package func encode(_ date: Date) throws -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// 1970-01-01 to 9999-12-31: every instant Cairn stores fits in integer milliseconds.
    private static let representable = Date(timeIntervalSince1970: 0)...Date(timeIntervalSince1970: 253_402_300_799)

    package func decode(_ text: String) throws -> Date {
        let parsed = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
        if let date = parsed {
            guard Self.representable.contains(date) else {
                throw CairnError(.invalidInput, "'\(text.prefix(40))' lies outside the years 1970–9999.")
            }
            return date
        }
        // A CairnError, not a DecodingError: the decoder cannot say where the date sat, and a
        // DecodingError without a path would read as "the body is not JSON".
        throw CairnError(.invalidInput, "'\(text.prefix(40))' is not an RFC 3339 timestamp such as 2026-11-25T09:30:00Z.")
    }
}
