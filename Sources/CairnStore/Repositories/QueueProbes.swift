public import CairnCore
public import Foundation
import SQLKit

/// The side effect of the queue probe job kinds: one row per effect key and tenant.
///
/// Writing is idempotent by key (a re-run after a crash bumps `writes` instead of adding a
/// row), which is exactly the contract real handlers are held to; chaos tests and operators
/// count these rows to prove no job was lost or applied twice.
public struct QueueProbes: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Records the effect `key` for `job`'s tenant.
    public func recordEffect(_ key: String, for job: Job, now: Date = Date()) async throws {
        try TextRules.validate(key, field: "A probe effect key", maximumLength: 200)
        try await database.transaction(.tenant(job.tenantID)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO queue_probe_effects (tenant_id, effect_key, writes, job_id, created_at)
                VALUES (\(bind: job.tenantID.description), \(bind: key), 1, \(bind: job.id.description), \(bind: EpochMilliseconds.milliseconds(now)))
                ON CONFLICT (tenant_id, effect_key) DO UPDATE SET writes = queue_probe_effects.writes + 1
                """
            ).run()
        }
    }

    /// Effect key → how many times it was written, for the principal's tenant.
    public func effects(for principal: Principal) async throws -> [String: Int] {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var effects: [String: Int] = [:]
            for row in try await transaction.sql.raw(
                "SELECT effect_key, writes FROM queue_probe_effects WHERE tenant_id = \(bind: principal.tenantID.description)"
            ).all() {
                effects[try row.string("effect_key")] = Int(try row.int64("writes"))
            }
            return effects
        }
    }
}

/// Which node runs each recurring schedule, and the last slot it fired.
///
/// A node holds a schedule by lease, like a worker holds a job: it must renew before the lease
/// expires, and another node takes over when it does not. Firing a slot is recorded in the same
/// row, so a slot fires once even across a takeover.
public struct RecurringSchedules: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Takes or renews the lease on `name` for `owner`. Returns the last slot fired when the
    /// lease is `owner`'s, `nil` when another node holds it. A schedule never fired reports 0.
    public func acquire(_ name: String, owner: String, leaseFor lease: Duration, now: Date = Date()) async throws -> Int64? {
        let at = EpochMilliseconds.milliseconds(now)
        let expires = EpochMilliseconds.milliseconds(now.addingTimeInterval(JobRepository.seconds(lease)))
        return try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw(
                "INSERT INTO recurring_schedules (name, last_slot) VALUES (\(bind: name), 0) ON CONFLICT (name) DO NOTHING"
            ).run()
            return try await transaction.sql.raw(
                """
                UPDATE recurring_schedules SET lease_owner = \(bind: owner), lease_expires_at = \(bind: expires)
                WHERE name = \(bind: name) AND (lease_owner IS NULL OR lease_owner = \(bind: owner) OR lease_expires_at < \(bind: at))
                RETURNING last_slot
                """
            ).first()?.decode(column: "last_slot", as: Int64.self)
        }
    }

    /// Records that `owner` fired `slot`, and runs `fire` in the same transaction, but only while
    /// `owner` still holds the lease and the slot is newer than the last one fired.
    public func fire(
        _ name: String,
        slot: Int64,
        owner: String,
        _ fire: @Sendable (Transaction) async throws -> Void
    ) async throws -> Bool {
        try await database.transaction(.platform) { transaction in
            let claimed = try await transaction.sql.raw(
                """
                UPDATE recurring_schedules SET last_slot = \(bind: slot)
                WHERE name = \(bind: name) AND lease_owner = \(bind: owner) AND last_slot < \(bind: slot)
                RETURNING name
                """
            ).all()
            guard !claimed.isEmpty else { return false }
            try await fire(transaction)
            return true
        }
    }

    /// Gives the lease up (graceful shutdown), so another node takes over at once.
    public func release(_ name: String, owner: String) async throws {
        try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw(
                "UPDATE recurring_schedules SET lease_owner = NULL, lease_expires_at = NULL WHERE name = \(bind: name) AND lease_owner = \(bind: owner)"
            ).run()
        }
    }
}
