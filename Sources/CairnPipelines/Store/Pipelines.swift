public import CairnCore
import CairnStore
import Crypto
import Foundation
import SQLKit

/// The tenant's pipeline registry. Versions are only ever inserted: no statement here updates
/// or deletes one, so what ran a case can always be read back as it was.
public struct Pipelines: Sendable {
    let database: any Database

    /// Whether a version may start a pipeline, follow an existing one's, or either.
    public enum VersionPlace: Sendable {
        /// The first version of a new pipeline: one of that name is a conflict.
        case newPipeline
        /// The next version of an existing pipeline: none of that name is not found.
        case existingPipeline
        /// Whichever applies (the CLI's `create`).
        case either
    }

    /// Stores `source` as the next version of the pipeline `name` (creating the pipeline on its
    /// first version, which then serves: there is nothing to compare it against). Audited as
    /// `pipeline.version.create`.
    ///
    /// Throws `CairnError`: `invalidInput` for a bad name or definition, `conflict` or `notFound`
    /// when `place` rules out what exists.
    public func createVersion(of name: String, source: String, place: VersionPlace = .either, by principal: Principal) async throws -> Pipeline {
        guard Pipeline.isValidName(name) else {
            throw CairnError(.invalidInput, "'\(name.prefix(64))' cannot name a pipeline: use a lower-case letter, then letters, digits, _ and -.")
        }
        _ = try PipelineDefinition(text: source)
        let checksum = SHA256.hash(data: Data(source.utf8)).map { String(format: "%02x", $0) }.joined()
        let now = EpochMilliseconds.milliseconds(Date())
        let tenant = principal.tenantID.description
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var pipelineID: String
            var number = 1
            if let row = try await transaction.sql.raw(
                "SELECT id FROM pipelines WHERE tenant_id = \(bind: tenant) AND name = \(bind: name)\(transaction.rowLockClause)"
            ).first() {
                if case .newPipeline = place { throw CairnError(.conflict, "A pipeline named '\(name)' exists; add a version to it instead.") }
                pipelineID = try row.string("id")
                let last =
                    try await transaction.sql.raw(
                        "SELECT MAX(version) AS last FROM pipeline_versions WHERE pipeline_id = \(bind: pipelineID)"
                    ).first().flatMap { try $0.optionalInt64("last") } ?? 0
                number = Int(last) + 1
            } else {
                if case .existingPipeline = place { throw CairnError(.notFound, "There is no pipeline named '\(name)'.") }
                pipelineID = PipelineID().description
                try await transaction.sql.raw(
                    """
                    INSERT INTO pipelines (id, tenant_id, name, active_version, created_at)
                    VALUES (\(bind: pipelineID), \(bind: tenant), \(bind: name), 1, \(bind: now))
                    """
                ).run()
            }
            try await transaction.sql.raw(
                """
                INSERT INTO pipeline_versions (pipeline_id, tenant_id, version, source, checksum, created_by, created_at)
                VALUES (\(bind: pipelineID), \(bind: tenant), \(bind: number), \(bind: source), \(bind: checksum),
                        \(bind: principal.auditActor), \(bind: now))
                """
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: "pipeline.version.create",
                    targetType: "pipeline",
                    targetID: pipelineID,
                    details: ["name": name, "version": String(number), "checksum": checksum]
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
        }
        return try await get(name, for: principal)
    }

    /// Makes `version` the one that serves; audited as `pipeline.promote` with `details` (the
    /// scores, and an override's reason). Only `PipelinePromotion` calls it, after the gate.
    func activate(_ name: String, version: Int, details: [String: String], by principal: Principal) async throws -> Pipeline {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let pipelineID = try await GoldenCases.pipelineID(name, tenant: principal.tenantID, in: transaction)
            try await transaction.sql.raw("UPDATE pipelines SET active_version = \(bind: version) WHERE id = \(bind: pipelineID)").run()
            try await AuditLog.append(
                AuditRecord(actor: principal.auditActor, action: "pipeline.promote", targetType: "pipeline", targetID: pipelineID, details: details),
                tenantID: principal.tenantID,
                in: transaction
            )
        }
        return try await get(name, for: principal)
    }

    /// The pipeline named `name` with all its versions.
    public func get(_ name: String, for principal: Principal) async throws -> Pipeline {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT * FROM pipelines WHERE tenant_id = \(bind: principal.tenantID.description) AND name = \(bind: name)"
                ).first()
            else { throw CairnError(.notFound, "There is no pipeline named '\(name.prefix(64))'.") }
            return try await Self.pipeline(row, in: transaction)
        }
    }

    /// The tenant's pipelines by name, each with its versions.
    public func list(for principal: Principal) async throws -> [Pipeline] {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            var pipelines: [Pipeline] = []
            for row in try await transaction.sql.raw(
                "SELECT * FROM pipelines WHERE tenant_id = \(bind: principal.tenantID.description) ORDER BY name"
            ).all() {
                pipelines.append(try await Self.pipeline(row, in: transaction))
            }
            return pipelines
        }
    }

    private static func pipeline(_ row: any SQLRow, in transaction: Transaction) async throws -> Pipeline {
        let id = try row.string("id")
        let versions = try await transaction.sql.raw(
            "SELECT * FROM pipeline_versions WHERE pipeline_id = \(bind: id) ORDER BY version"
        ).all().map { version in
            Pipeline.Version(
                number: Int(try version.int64("version")),
                source: try version.string("source"),
                checksum: try version.string("checksum"),
                createdBy: try version.string("created_by"),
                createdAt: EpochMilliseconds.date(milliseconds: try version.int64("created_at"))
            )
        }
        return Pipeline(
            id: try row.entityID("id"),
            name: try row.string("name"),
            activeVersion: try row.optionalInt64("active_version").map(Int.init),
            createdAt: EpochMilliseconds.date(milliseconds: try row.int64("created_at")),
            versions: versions
        )
    }
}
