public import CairnCore
public import Foundation

/// A five-field cron expression (minute, hour, day of month, month, day of week), in UTC.
///
/// Each field takes `*`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or a comma-separated
/// list of those. Days of the week run 0–6 from Sunday (7 is Sunday too). As in cron, when both
/// day fields are restricted a day matching either one fires.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    private let minutes: Set<Int>
    private let hours: Set<Int>
    private let daysOfMonth: Set<Int>
    private let months: Set<Int>
    private let daysOfWeek: Set<Int>
    private let dayOfMonthRestricted: Bool
    private let dayOfWeekRestricted: Bool

    public init(_ expression: String) throws(CairnError) {
        let fields = expression.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw CairnError(
                .invalidInput,
                "'\(expression.prefix(80))' is not a cron expression: it needs five fields (minute hour day-of-month month day-of-week)."
            )
        }
        description = fields.joined(separator: " ")
        minutes = try Self.parse(fields[0], name: "minute", in: 0...59)
        hours = try Self.parse(fields[1], name: "hour", in: 0...23)
        daysOfMonth = try Self.parse(fields[2], name: "day of month", in: 1...31)
        months = try Self.parse(fields[3], name: "month", in: 1...12)
        // 7 is Sunday as well as 0.
        daysOfWeek = Set(try Self.parse(fields[4], name: "day of week", in: 0...7).map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
        guard next(after: Date(timeIntervalSince1970: 0)) != nil else {
            throw CairnError(.invalidInput, "The cron expression '\(description)' never fires.")
        }
    }

    /// The first minute strictly after `date` that the expression matches; `nil` if none comes
    /// within the next eight years (only for impossible dates such as 31 February).
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let minute = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        var parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: minute)
        let horizon = (parts.year ?? 1970) + 8
        // Skips a whole month, day or hour at a time when that field does not match, so a
        // search takes a few hundred steps at most.
        while let candidate = calendar.date(from: parts), let year = parts.year, year <= horizon {
            parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: candidate)
            guard let month = parts.month, let day = parts.day, let hour = parts.hour, let minuteOfHour = parts.minute, let weekday = parts.weekday
            else { return nil }
            if !months.contains(month) {
                parts = DateComponents(year: parts.year, month: month + 1, day: 1, hour: 0, minute: 0)
            } else if !matchesDay(dayOfMonth: day, dayOfWeek: weekday - 1) {
                parts = DateComponents(year: parts.year, month: month, day: day + 1, hour: 0, minute: 0)
            } else if !hours.contains(hour) {
                parts = DateComponents(year: parts.year, month: month, day: day, hour: hour + 1, minute: 0)
            } else if !minutes.contains(minuteOfHour) {
                parts = DateComponents(year: parts.year, month: month, day: day, hour: hour, minute: minuteOfHour + 1)
            } else {
                return candidate
            }
        }
        return nil
    }

    private func matchesDay(dayOfMonth: Int, dayOfWeek: Int) -> Bool {
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(dayOfWeek)
        case (true, false): daysOfMonth.contains(dayOfMonth)
        case (false, true): daysOfWeek.contains(dayOfWeek)
        case (false, false): true
        }
    }

    private static func parse(_ field: String, name: String, in bounds: ClosedRange<Int>) throws(CairnError) -> Set<Int> {
        var values: Set<Int> = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(stepParts.count) else { throw invalid(field, name: name, bounds: bounds) }
            var step = 1
            if stepParts.count == 2 {
                guard let parsed = Int(stepParts[1]), parsed > 0 else { throw invalid(field, name: name, bounds: bounds) }
                step = parsed
            }
            let range: ClosedRange<Int>
            if stepParts[0] == "*" {
                range = bounds
            } else {
                let ends = stepParts[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                guard (1...2).contains(ends.count), let low = ends.first ?? nil, let high = ends.last ?? nil, low <= high,
                    bounds.contains(low), bounds.contains(high)
                else { throw invalid(field, name: name, bounds: bounds) }
                // `a/n` means from a to the end of the field, as in Vixie cron.
                range = low...(ends.count == 1 && stepParts.count == 2 ? bounds.upperBound : high)
            }
            values.formUnion(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return values
    }

    private static func invalid(_ field: String, name: String, bounds: ClosedRange<Int>) -> CairnError {
        CairnError(
            .invalidInput,
            "The cron \(name) field '\(field.prefix(40))' is not valid: use *, a number from \(bounds.lowerBound) to \(bounds.upperBound), a range a-b, a step */n, or a list of those."
        )
    }
}
