import CairnCore
import CairnJobs
import Foundation
import Testing

@Suite("Cron schedules")
struct CronScheduleTests {
    private static func utc(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test(
        "The next firing time follows cron's rules, in UTC",
        arguments: [
            ("*/15 * * * *", "2026-11-25T10:07:30Z", "2026-11-25T10:15:00Z"),
            ("15 3 * * *", "2026-11-25T03:15:00Z", "2026-11-26T03:15:00Z"),
            ("15 3 * * *", "2026-12-31T23:59:00Z", "2027-01-01T03:15:00Z"),
            ("0 9 * * 1-5", "2026-11-27T09:00:00Z", "2026-11-30T09:00:00Z"),  // Friday → Monday
            ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            ("0 12 1 * 0", "2026-11-25T00:00:00Z", "2026-11-29T12:00:00Z"),  // day 1 OR a Sunday
            ("30 6 * * 7", "2026-11-25T00:00:00Z", "2026-11-29T06:30:00Z"),  // 7 is Sunday too
            ("5,10-12 0 * * *", "2026-11-25T00:10:00Z", "2026-11-25T00:11:00Z"),
        ]
    )
    func next(expression: String, after: String, expected: String) throws {
        let schedule = try CronSchedule(expression)
        #expect(schedule.next(after: Self.utc(after)) == Self.utc(expected))
    }

    @Test(
        "Malformed and impossible expressions are refused with a plain sentence",
        arguments: ["", "* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * 13 *", "0 0 31 2 *", "1,,2 * * * *"]
    )
    func refused(expression: String) {
        #expect(throws: CairnError.self) { try CronSchedule(expression) }
        do {
            _ = try CronSchedule(expression)
        } catch {
            #expect(error.code == .invalidInput && error.message.hasSuffix("."))
        }
    }
}
