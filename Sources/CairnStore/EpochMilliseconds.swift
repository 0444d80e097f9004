import CairnCore
package import Foundation

/// Timestamps are stored as whole milliseconds since the Unix epoch (BIGINT) on both engines,
/// so a value reads back identically from SQLite and PostgreSQL and hashes the same in audit.
package enum EpochMilliseconds {
    package static func nowMilliseconds() -> Int64 {
        milliseconds(Date())
    }

    /// To the nearest millisecond, so that a date read from a stored value turns back into that
    /// value: rounding down turned some (1,700 ms → 1.7 s → 1,699.99…) into the millisecond
    /// before, and a page cursor built from one then skipped the rows stored at it.
    package static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// `duration` after `date`: lease expiries, retry times, key lifetimes.
    package static func milliseconds(_ date: Date, plus duration: Duration) -> Int64 {
        milliseconds(date.addingTimeInterval(duration.inSeconds))
    }

    package static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
