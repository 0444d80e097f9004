public import CairnCore
public import CairnStore
public import Foundation
import SQLKit

/// A pipeline's golden cases: the set a version is scored on before it may serve.
public struct GoldenCases: Sendable {
    let database: any Database

    /// One stored golden case.
    public struct Entry: Sendable {
        public let name: String
        public let fileName: String
        public let blobDigest: String
        public let labels: JSONValue
        /// Overrides the document type's schema for this document, when given.
        public let fieldSchema: JSONValue?
    }

    /// Stores the documents of `set` (each streamed into `blobs`) with their labels and
    /// schemas as the pipeline's golden cases, replacing any of the same name; audited as
    /// `pipeline.golden.import`. Returns how many were stored.
    public func importSet(_ set: GoldenSet, into pipeline: String, blobs: any BlobStore, by principal: Principal) async throws -> Int {
        var prepared: [(item: GoldenSet.Item, blob: StoredBlob, labels: String, schema: String?)] = []
        for item in set.items {
            guard let labels = try? Data(contentsOf: item.labels), (try? JSONDecoder().decode(JSONValue.self, from: labels)) != nil else {
                throw CairnError(.invalidInput, "labels/\(item.labels.lastPathComponent) is not JSON.")
            }
            var schema: String?
            if let file = item.schema {
                let data = try Data(contentsOf: file)
                _ = try ExtractionSchema(json: data)
                schema = String(decoding: data, as: UTF8.self)
            }
            let handle = try FileHandle(forReadingFrom: item.document)
            defer { try? handle.close() }
            let blob = try await blobs.put(CaseIntake.chunks(of: handle), maximumBytes: 1 << 30)
            prepared.append((item, blob, String(decoding: labels, as: UTF8.self), schema))
        }
        let now = EpochMilliseconds.milliseconds(Date())
        let entries = prepared
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let pipelineID = try await Self.pipelineID(pipeline, tenant: principal.tenantID, in: transaction)
            for entry in entries {
                try await transaction.sql.raw(
                    "DELETE FROM golden_cases WHERE pipeline_id = \(bind: pipelineID) AND name = \(bind: entry.item.id)"
                ).run()
                try await transaction.sql.raw(
                    """
                    INSERT INTO golden_cases (id, pipeline_id, tenant_id, name, file_name, blob_digest, labels, field_schema, origin, created_at)
                    VALUES (\(bind: UUID().uuidString.lowercased()), \(bind: pipelineID), \(bind: principal.tenantID.description),
                            \(bind: entry.item.id), \(bind: entry.item.document.lastPathComponent), \(bind: entry.blob.digest.hex),
                            \(bind: entry.labels), \(bind: entry.schema), 'import', \(bind: now))
                    """
                ).run()
            }
            try await AuditLog.append(
                AuditRecord(
                    actor: principal.auditActor,
                    action: "pipeline.golden.import",
                    targetType: "pipeline",
                    targetID: pipelineID,
                    details: ["name": pipeline, "cases": String(entries.count), "folder": set.folder.lastPathComponent]
                ),
                tenantID: principal.tenantID,
                in: transaction
            )
        }
        return prepared.count
    }

    public func list(of pipeline: String, for principal: Principal) async throws -> [Entry] {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let pipelineID = try await Self.pipelineID(pipeline, tenant: principal.tenantID, in: transaction)
            return try await transaction.sql.raw("SELECT * FROM golden_cases WHERE pipeline_id = \(bind: pipelineID) ORDER BY name").all().map {
                row in
                Entry(
                    name: try row.string("name"),
                    fileName: try row.string("file_name"),
                    blobDigest: try row.string("blob_digest"),
                    labels: try JSONDecoder().decode(JSONValue.self, from: Data(try row.string("labels").utf8)),
                    fieldSchema: try row.decode(column: "field_schema", as: String?.self).flatMap {
                        try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
                    }
                )
            }
        }
    }

    static func pipelineID(_ name: String, tenant: TenantID, in transaction: Transaction) async throws -> String {
        guard
            let row = try await transaction.sql.raw(
                "SELECT id FROM pipelines WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
            ).first()
        else { throw CairnError(.notFound, "There is no pipeline named '\(name.prefix(64))'.") }
        return try row.string("id")
    }
}
