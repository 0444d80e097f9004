public import CairnCore
public import CairnStore
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
