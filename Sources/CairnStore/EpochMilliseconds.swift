import CairnCore
import Foundation

/// Timestamps are stored as whole milliseconds since the Unix epoch (BIGINT) on both engines,
/// so a value reads back identically from SQLite and PostgreSQL and hashes the same in audit.
enum EpochMilliseconds {
    static func nowMilliseconds() -> Int64 {
        milliseconds(Date())
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// `duration` after `date`: lease expiries, retry times, key lifetimes.
    static func milliseconds(_ date: Date, plus duration: Duration) -> Int64 {
        milliseconds(date.addingTimeInterval(duration.inSeconds))
    }

    static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
