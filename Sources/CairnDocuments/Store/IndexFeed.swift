public import CairnCore
import CairnJobs
public import CairnStore
import Foundation
import SQLKit

/// What index replicas read: the per-tenant change feed, and the documents and chunks it points at.
///
/// A replica loads a tenant once (`head`, then `documents(nil…)` and their chunks) and then
/// applies `changes(after:)`: each names a document whose served versions may have changed,
/// and the replica reloads that document's state. Re-reading a document is idempotent, so a
/// change seen twice (one that committed between the head read and the full load) is harmless.
public struct IndexFeed: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// A change to what a document serves.
    public struct Change: Sendable, Equatable {
        public let sequence: Int64
        public let documentID: DocumentID
    }

    /// A document as an index replica needs it: who may see it, and which versions it holds
    /// in the index.
    public struct IndexedDocument: Sendable, Equatable {
        public let id: DocumentID
        public let collectionID: CollectionID
        public let title: String
        public let tags: [String]
        public let policy: DocumentAccessPolicy
        /// The approved version that serves everyone the policy admits.
        public let servedVersion: DocumentVersionID?
        /// A ready draft newer than the served version, which curators may search explicitly.
        public let draftVersion: DocumentVersionID?
        /// Version numbers, for hits.
        public let versionNumbers: [DocumentVersionID: Int]

        /// The versions whose chunks belong in the index.
        public var indexedVersions: [DocumentVersionID] { [servedVersion, draftVersion].compactMap { $0 } }
    }

    /// The sequence number of the tenant's latest change (0 before any).
    public func head(tenant: TenantID) async throws -> Int64 {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw("SELECT index_head_seq FROM tenants WHERE id = \(bind: tenant.description)")
                .first()?.decode(column: "index_head_seq", as: Int64.self) ?? 0
        }
    }

    /// Changes after `sequence`, oldest first.
    public func changes(tenant: TenantID, after sequence: Int64, limit: Int = 1000) async throws -> [Change] {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                """
                SELECT seq, document_id FROM index_changes WHERE tenant_id = \(bind: tenant.description) AND seq > \(bind: sequence)
                ORDER BY seq LIMIT \(bind: limit)
                """
            ).all().map { Change(sequence: try $0.int64("seq"), documentID: try $0.entityID("document_id")) }
        }
    }

    /// The index state of the given documents (every document of the tenant for `nil`).
    /// Documents that no longer exist are absent.
    ///
    /// Documents and their versions are read in one statement, so in one snapshot: read in two,
    /// an approval committing between them would show the old served version already retired
    /// and the document serving nothing (PostgreSQL's READ COMMITTED gives each statement its
    /// own snapshot).
    public func documents(_ ids: [DocumentID]?, tenant: TenantID) async throws -> [IndexedDocument] {
        try await database.transaction(.tenant(tenant)) { transaction in
            let t = tenant.description
            let select: SQLQueryString = """
                SELECT d.*, v.id AS version_id, v.number AS version_number, v.lifecycle AS version_lifecycle
                FROM documents d LEFT JOIN document_versions v
                ON v.document_id = d.id AND v.tenant_id = d.tenant_id AND v.processing = 'ready' AND v.lifecycle <> 'retired'
                WHERE d.tenant_id = \(bind: t)
                """
            var rows: [any SQLRow] = []
            if let ids {
                for batch in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
                    rows += try await transaction.sql.raw(select + " AND d.id IN (\(SQLList(batch.map { SQLBind($0.description) })))").all()
                }
            } else {
                rows = try await transaction.sql.raw(select).all()
            }
            var documents: [DocumentID: Document] = [:]
            var order: [DocumentID] = []
            var versionsByDocument: [DocumentID: [(id: DocumentVersionID, number: Int, lifecycle: String)]] = [:]
            for row in rows {
                let document = try DocumentRepository.document(row)
                if documents.updateValue(document, forKey: document.id) == nil { order.append(document.id) }
                if let versionID = try row.decode(column: "version_id", as: String?.self).flatMap(DocumentVersionID.init) {
                    versionsByDocument[document.id, default: []].append(
                        (versionID, Int(try row.int64("version_number")), try row.string("version_lifecycle"))
                    )
                }
            }
            return order.compactMap { id in
                guard let document = documents[id] else { return nil }
                let candidates = document.state == .active ? versionsByDocument[id] ?? [] : []
                let served = candidates.first { $0.id == document.activeVersionID && $0.lifecycle == VersionLifecycle.approved.rawValue }
                let draft = candidates.filter { $0.lifecycle == VersionLifecycle.draft.rawValue && $0.number > (served?.number ?? 0) }.max {
                    $0.number < $1.number
                }
                return IndexedDocument(
                    id: document.id,
                    collectionID: document.collectionID,
                    title: document.title,
                    tags: document.tags,
                    policy: document.policy,
                    servedVersion: served?.id,
                    draftVersion: draft?.id,
                    versionNumbers: Dictionary(uniqueKeysWithValues: [served, draft].compactMap { $0 }.map { ($0.id, $0.number) })
                )
            }
        }
    }

    /// The chunks of the given versions, with their vectors.
    public func chunks(ofVersions ids: [DocumentVersionID], tenant: TenantID) async throws -> [StoredChunk] {
        guard !ids.isEmpty else { return [] }
        return try await database.transaction(.tenant(tenant)) { transaction in
            var chunks: [StoredChunk] = []
            for batch in stride(from: 0, to: ids.count, by: 500).map({ ids[$0..<min($0 + 500, ids.count)] }) {
                let list = SQLList(batch.map { SQLBind($0.description) })
                chunks += try await transaction.sql.raw(
                    """
                    SELECT id, document_id, version_id, position, text, first_page, last_page, spans, heading_path, embedding FROM chunks
                    WHERE tenant_id = \(bind: tenant.description) AND version_id IN (\(list)) ORDER BY version_id, position
                    """
                ).all().map { row in
                    StoredChunk(
                        id: try row.entityID("id"),
                        documentID: try row.entityID("document_id"),
                        versionID: try row.entityID("version_id"),
                        position: Int(try row.int64("position")),
                        text: try row.string("text"),
                        firstPage: Int(try row.int64("first_page")),
                        lastPage: Int(try row.int64("last_page")),
                        spansJSON: try row.string("spans"),
                        headingPath: try row.list("heading_path"),
                        embedding: try row.decode(column: "embedding", as: Data?.self).map(EmbeddingCoding.vector)
                    )
                }
            }
            return chunks
        }
    }
}
