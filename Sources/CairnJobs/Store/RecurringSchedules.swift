import CairnCore
import CairnStore
public import Foundation
import SQLKit

/// The leases that let exactly one node at a time run each recurring task.
///
/// A schedule is a row; a node runs it only after winning a conditional UPDATE that sets it as
/// the lease owner while the schedule is due and nobody else holds an unexpired lease. The
/// UPDATE is atomic on both engines, so two nodes can never both win. A node that dies mid-run
/// stops renewing, and once its lease expires another node takes the run over.
public struct RecurringSchedules: Sendable {
    let database: any Database

    /// One schedule as stored.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let schedule: String
        public let nextRunAt: Date
        public let leaseOwner: String?
        public let lastStartedAt: Date?
        public let lastFinishedAt: Date?
        public let lastError: String?
    }

    /// Adds a schedule, first due at `firstRun`. An existing one keeps its next run unless its
    /// expression changed (an operator edited it), in which case `firstRun` replaces it.
    public func register(_ name: String, schedule: String, firstRun: Date) async throws {
        let next = EpochMilliseconds.milliseconds(firstRun)
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO recurring_schedules (name, schedule, next_run_at) VALUES (\(bind: name), \(bind: schedule), \(bind: next))
                ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule,
                    next_run_at = CASE WHEN recurring_schedules.schedule = excluded.schedule THEN recurring_schedules.next_run_at ELSE excluded.next_run_at END
                """
            ).run()
        }
    }

    /// Takes the run of `name` for `owner` if it is due and unleased (or its lease expired).
    public func acquire(_ name: String, owner: String, leaseFor lease: Duration, now: Date = Date()) async throws -> Bool {
        let at = EpochMilliseconds.milliseconds(now)
        let expires = EpochMilliseconds.milliseconds(now, plus: lease)
        return try await database.transaction(.platform) { transaction in
            try await !transaction.sql.raw(
                """
                UPDATE recurring_schedules SET lease_owner = \(bind: owner), lease_expires_at = \(bind: expires), last_started_at = \(bind: at)
                WHERE name = \(bind: name) AND next_run_at <= \(bind: at) AND (lease_owner IS NULL OR lease_expires_at < \(bind: at))
                RETURNING name
                """
            ).all().isEmpty
        }
    }

    /// Extends `owner`'s lease; `false` if it is no longer theirs.
    public func renew(_ name: String, owner: String, leaseFor lease: Duration, now: Date = Date()) async throws -> Bool {
        let expires = EpochMilliseconds.milliseconds(now, plus: lease)
        return try await database.transaction(.platform) { transaction in
            try await !transaction.sql.raw(
                """
                UPDATE recurring_schedules SET lease_expires_at = \(bind: expires)
                WHERE name = \(bind: name) AND lease_owner = \(bind: owner)
                RETURNING name
                """
            ).all().isEmpty
        }
    }

    /// Ends `owner`'s run: records how it went and when the schedule is next due.
    public func finish(_ name: String, owner: String, nextRun: Date, error: String?, now: Date = Date()) async throws {
        let at = EpochMilliseconds.milliseconds(now)
        let next = EpochMilliseconds.milliseconds(nextRun)
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw(
                """
                UPDATE recurring_schedules SET lease_owner = NULL, lease_expires_at = NULL, last_finished_at = \(bind: at),
                       last_error = \(bind: error), next_run_at = \(bind: next)
                WHERE name = \(bind: name) AND lease_owner = \(bind: owner)
                """
            ).run()
        }
    }

    /// Every schedule, by name.
    public func all() async throws -> [Entry] {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw("SELECT * FROM recurring_schedules ORDER BY name").all().map { row in
                Entry(
                    name: try row.string("name"),
                    schedule: try row.string("schedule"),
                    nextRunAt: try row.date("next_run_at"),
                    leaseOwner: try row.decode(column: "lease_owner", as: String?.self),
                    lastStartedAt: try row.optionalDate("last_started_at"),
                    lastFinishedAt: try row.optionalDate("last_finished_at"),
                    lastError: try row.decode(column: "last_error", as: String?.self)
                )
            }
        }
    }
}
