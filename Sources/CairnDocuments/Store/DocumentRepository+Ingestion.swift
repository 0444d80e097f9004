public import CairnCore
public import CairnJobs
import CairnStore
import Foundation
import SQLKit

/// The ingestion saga's writes. Each step persists its output, so an attempt resumed after a
/// crash finds what the finished steps produced; each compensation removes it again.
///
/// These run in the job's tenant scope with no principal: the saga acts for the uploader,
/// who was authorised when the upload was recorded.
extension DocumentRepository {
    /// The version an ingestion job processes, with its document.
    public func ingestionTarget(_ id: DocumentVersionID, tenant: TenantID) async throws -> (Document, DocumentVersion) {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard
                let version = try await Self.fetchVersion(id, tenant: tenant, in: transaction),
                let document = try await Self.fetchDocument(version.documentID, tenant: tenant, in: transaction)
            else { throw CairnError(.notFound, "Version \(id) no longer exists.") }
            return (document, version)
        }
    }

    /// A page as the parse step stores it.
    public struct PageRecord: Sendable {
        public let number: Int
        public let text: String
        /// The page's lines (ranges, boxes, blocks, font sizes) as JSON, for the chunk step.
        public let linesJSON: String
        public let source: String
        public let width: Double
        public let height: Double

        public init(number: Int, text: String, linesJSON: String, source: String, width: Double, height: Double) {
            self.number = number
            self.text = text
            self.linesJSON = linesJSON
            self.source = source
            self.width = width
            self.height = height
        }
    }

    /// A chunk as the chunk step stores it (vectors come in the embed step).
    public struct ChunkRecord: Sendable {
        public let id: ChunkID
        public let position: Int
        public let text: String
        public let firstPage: Int
        public let lastPage: Int
        public let spansJSON: String
        public let boxesJSON: String
        public let headingPath: [String]
        public let wordPieces: Int

        public init(
            id: ChunkID = ChunkID(),
            position: Int,
            text: String,
            firstPage: Int,
            lastPage: Int,
            spansJSON: String,
            boxesJSON: String,
            headingPath: [String],
            wordPieces: Int
        ) {
            self.id = id
            self.position = position
            self.text = text
            self.firstPage = firstPage
            self.lastPage = lastPage
            self.spansJSON = spansJSON
            self.boxesJSON = boxesJSON
            self.headingPath = headingPath
            self.wordPieces = wordPieces
        }
    }

    /// Parse step: the version's page texts, replacing any an earlier attempt left.
    public func storePages(_ pages: [PageRecord], of id: DocumentVersionID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.deletePages(of: id, tenant: tenant, in: transaction)
            for batch in stride(from: 0, to: pages.count, by: 200).map({ pages[$0..<min($0 + 200, pages.count)] }) {
                var statement: SQLQueryString =
                    "INSERT INTO document_pages (version_id, tenant_id, number, text, lines, source, width, height) VALUES"
                for (index, page) in batch.enumerated() {
                    statement += index == 0 ? " " : ", "
                    statement +=
                        "(\(bind: id.description), \(bind: tenant.description), \(bind: page.number), \(bind: page.text), \(bind: page.linesJSON), \(bind: page.source), \(bind: page.width), \(bind: page.height))"
                }
                try await transaction.sql.raw(statement).run()
            }
            // The password was needed to read the file once; it is not kept past that.
            try await transaction.sql.raw(
                "UPDATE document_versions SET page_count = \(bind: pages.count), open_password = NULL WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: id.description)"
            ).run()
        }
    }

    /// The version's stored pages, in order (for the chunk step).
    public func pages(of id: DocumentVersionID, tenant: TenantID) async throws -> [PageRecord] {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                "SELECT * FROM document_pages WHERE tenant_id = \(bind: tenant.description) AND version_id = \(bind: id.description) ORDER BY number"
            ).all().map { row in
                PageRecord(
                    number: Int(try row.int64("number")),
                    text: try row.string("text"),
                    linesJSON: try row.string("lines"),
                    source: try row.string("source"),
                    width: try row.decode(column: "width", as: Double.self),
                    height: try row.decode(column: "height", as: Double.self)
                )
            }
        }
    }

    /// Parse step's compensation.
    public func removePages(of id: DocumentVersionID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.deletePages(of: id, tenant: tenant, in: transaction)
        }
    }

    /// Chunk step: the version's chunks without vectors, replacing any an earlier attempt left.
    public func storeChunks(_ chunks: [ChunkRecord], of version: DocumentVersion, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.deleteChunks(of: version.id, tenant: tenant, in: transaction)
            for batch in stride(from: 0, to: chunks.count, by: 100).map({ chunks[$0..<min($0 + 100, chunks.count)] }) {
                var statement: SQLQueryString = """
                    INSERT INTO chunks (id, tenant_id, document_id, version_id, position, text, first_page, last_page, spans, boxes,
                                        heading_path, word_pieces) VALUES
                    """
                for (index, chunk) in batch.enumerated() {
                    statement += index == 0 ? " " : ", "
                    statement += """
                        (\(bind: chunk.id.description), \(bind: tenant.description), \(bind: version.documentID.description),
                         \(bind: version.id.description), \(bind: chunk.position), \(bind: chunk.text), \(bind: chunk.firstPage),
                         \(bind: chunk.lastPage), \(bind: chunk.spansJSON), \(bind: chunk.boxesJSON),
                         \(bind: JSONText.encode(chunk.headingPath)), \(bind: chunk.wordPieces))
                        """
                }
                try await transaction.sql.raw(statement).run()
            }
            try await transaction.sql.raw(
                "UPDATE document_versions SET chunk_count = \(bind: chunks.count) WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: version.id.description)"
            ).run()
        }
    }

    /// Chunk step's compensation; replicas that loaded the chunks drop them.
    public func removeChunks(of id: DocumentVersionID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.deleteChunks(of: id, tenant: tenant, in: transaction)
            if let version = try await Self.fetchVersion(id, tenant: tenant, in: transaction) {
                try await Self.recordIndexChange(of: version.documentID, "version.unindexed", tenant: tenant, in: transaction)
            }
        }
    }

    /// The password an upload gave for opening the file, until the parse step has used it.
    public func openPassword(of id: DocumentVersionID, tenant: TenantID) async throws -> String? {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                "SELECT open_password FROM document_versions WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: id.description)"
            ).first()?.decode(column: "open_password", as: String?.self)
        }
    }

    /// The chunk texts of a version, in order, for the embed step.
    public func chunkTexts(of id: DocumentVersionID, tenant: TenantID) async throws -> [(ChunkID, String)] {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                "SELECT id, text FROM chunks WHERE tenant_id = \(bind: tenant.description) AND version_id = \(bind: id.description) ORDER BY position"
            ).all().map { (try $0.entityID("id"), try $0.string("text")) }
        }
    }

    /// Embed step: the vectors of the version's chunks, by chunk id, and the model they come from.
    public func storeEmbeddings(_ vectors: [(ChunkID, [Float])], model: String, of id: DocumentVersionID, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            for (chunk, vector) in vectors {
                try await transaction.sql.raw(
                    "UPDATE chunks SET embedding = \(bind: EmbeddingCoding.data(vector)) WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: chunk.description)"
                ).run()
            }
            try await transaction.sql.raw(
                "UPDATE document_versions SET embedding_model = \(bind: model) WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: id.description)"
            ).run()
        }
    }

    /// Index step: tells index replicas the version's chunks are there to load.
    public func announceIndexed(_ version: DocumentVersion, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.recordIndexChange(of: version.documentID, "version.indexed", tenant: tenant, in: transaction)
        }
    }

    /// Activate step: the version is ready; if its uploader approved it, it becomes the
    /// approved version the document serves and the one it replaces is retired — one
    /// transaction, so searches switch from the old version to the new at once.
    public func activate(_ id: DocumentVersionID, tenant: TenantID) async throws -> DocumentVersion {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard
                let version = try await Self.fetchVersion(id, tenant: tenant, in: transaction),
                let document = try await Self.fetchDocument(version.documentID, tenant: tenant, locking: true, in: transaction)
            else { throw CairnError(.notFound, "Version \(id) no longer exists.") }
            guard version.processing == .processing || version.processing == .ready else {
                throw CairnError(
                    .conflict,
                    "Version \(version.number) of document \(document.id) is \(version.processing.rawValue); it cannot be activated."
                )
            }
            let now = EpochMilliseconds.nowMilliseconds()
            try await transaction.sql.raw(
                "UPDATE document_versions SET processing = 'ready', ready_at = \(bind: now) WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: id.description)"
            ).run()
            if version.approveWhenReady, document.state == .active {
                try await Self.makeActive(version, of: document, by: version.createdBy, tenant: tenant, in: transaction)
            } else {
                try await Self.recordIndexChange(of: document.id, "version.ready", tenant: tenant, in: transaction)
            }
            guard let updated = try await Self.fetchVersion(id, tenant: tenant, in: transaction) else {
                throw CairnError(.internalFailure, "An activated version could not be read back.")
            }
            return updated
        }
    }

    /// The saga gave up on the version: recorded with its one-sentence reason.
    public func markFailed(_ id: DocumentVersionID, reason: String, tenant: TenantID) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                """
                UPDATE document_versions SET processing = 'failed', failure = \(bind: String(reason.prefix(1000)))
                WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: id.description) AND processing = 'processing'
                """
            ).run()
            if let version = try await Self.fetchVersion(id, tenant: tenant, in: transaction) {
                try await Self.recordIndexChange(of: version.documentID, "version.failed", tenant: tenant, in: transaction)
            }
        }
    }

    // MARK: Lifecycle

    /// Approves the document's newest ready draft: it becomes the served version and the
    /// version it replaces is retired.
    public func approve(_ id: DocumentID, by principal: Principal) async throws -> Document {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let tenant = principal.tenantID
            guard let document = try await Self.fetchDocument(id, tenant: tenant, locking: true, in: transaction), document.policy.admits(principal)
            else {
                throw Self.notFound(id)
            }
            guard document.state == .active else { throw CairnError(.conflict, "Document \(id) is retired; it cannot be approved.") }
            guard
                let draft = try await transaction.sql.raw(
                    """
                    SELECT * FROM document_versions WHERE tenant_id = \(bind: tenant.description) AND document_id = \(bind: id.description)
                    AND processing = 'ready' AND lifecycle = 'draft' ORDER BY number DESC LIMIT 1
                    """
                ).first().map(Self.version)
            else {
                throw CairnError(.conflict, "Document \(id) has no ready draft version to approve.")
            }
            // A draft older than the served version was overtaken by a later approval; approving
            // it would roll the document back.
            if let served = document.activeVersionID, let current = try await Self.fetchVersion(served, tenant: tenant, in: transaction),
                draft.number < current.number
            {
                throw CairnError(.conflict, "Document \(id) has no ready draft newer than the version it serves (\(current.number)).")
            }
            try await Self.makeActive(draft, of: document, by: principal.auditActor, tenant: tenant, in: transaction)
            return try await Self.fetchDocument(id, tenant: tenant, in: transaction) ?? document
        }
    }

    /// Retires the document: no version of it serves or is searchable again.
    public func retire(_ id: DocumentID, by principal: Principal) async throws -> Document {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await Self.retire(id, by: principal, action: "document.retire", in: transaction)
        }
    }

    /// Deletes the document: retires it and queues the purge of its chunks, pages and blobs.
    public func delete(_ id: DocumentID, by principal: Principal, purge: NewJob) async throws -> (Document, Job) {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let wasActive = try await Self.fetchDocument(id, tenant: principal.tenantID, in: transaction)?.state == .active
            let document = try await Self.retire(id, by: principal, action: "document.delete", in: transaction)
            var job = purge
            job.payload = #"{"document":"\#(id.description)"}"#
            job.idempotencyKey = "purge:\(id.description)"
            if let queued = try await JobRepository.insert([job], tenant: principal.tenantID.description, cap: nil, now: Date(), in: transaction)
                .first
            {
                // Retiring audited the deletion of an active document; a retired one is
                // audited here, once, when its purge is first queued.
                if !wasActive {
                    try await AuditLog.append(
                        AuditRecord(
                            actor: principal.auditActor,
                            action: "document.delete",
                            targetType: "document",
                            targetID: id.description,
                            details: ["title": String(document.title.prefix(200))]
                        ),
                        tenantID: principal.tenantID,
                        in: transaction
                    )
                }
                return (document, queued)
            }
            // Deleted before: the purge job queued then is the one.
            guard
                let key = job.idempotencyKey,
                let earlier = try await JobRepository.keyed(kind: job.kind, idempotencyKey: key, tenant: principal.tenantID, in: transaction)
            else { throw CairnError(.internalFailure, "The purge job could not be queued.") }
            return (document, earlier)
        }
    }

    /// Removes a retired document's chunks and pages and marks its versions purged. Returns
    /// the blob digests no version in the tenant refers to any more, for the caller to delete.
    public func purge(_ id: DocumentID, tenant: TenantID) async throws -> [String] {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard let document = try await Self.fetchDocument(id, tenant: tenant, locking: true, in: transaction) else { return [] }
            guard document.state == .retired else {
                throw CairnError(.conflict, "Document \(id) is not retired; only retired documents are purged.")
            }
            let t = tenant.description
            try await transaction.sql.raw("DELETE FROM chunks WHERE tenant_id = \(bind: t) AND document_id = \(bind: id.description)").run()
            try await transaction.sql.raw(
                "DELETE FROM document_pages WHERE tenant_id = \(bind: t) AND version_id IN (SELECT id FROM document_versions WHERE tenant_id = \(bind: t) AND document_id = \(bind: id.description))"
            ).run()
            let digests = try await transaction.sql.raw(
                "SELECT DISTINCT digest FROM document_versions WHERE tenant_id = \(bind: t) AND document_id = \(bind: id.description) AND processing <> 'purged'"
            ).all().map { try $0.string("digest") }
            try await transaction.sql.raw(
                "UPDATE document_versions SET processing = 'purged' WHERE tenant_id = \(bind: t) AND document_id = \(bind: id.description)"
            ).run()
            try await Self.recordIndexChange(of: id, "document.purged", tenant: tenant, in: transaction)
            var orphaned: [String] = []
            for digest in digests {
                let users =
                    try await transaction.sql.raw(
                        "SELECT COUNT(*) AS n FROM document_versions WHERE tenant_id = \(bind: t) AND digest = \(bind: digest) AND processing <> 'purged'"
                    ).first()?.decode(column: "n", as: Int.self) ?? 0
                if users == 0 { orphaned.append(digest) }
            }
            return orphaned
        }
    }

    // MARK: Shared steps

    private static func retire(_ id: DocumentID, by principal: Principal, action: String, in transaction: Transaction) async throws -> Document {
        let tenant = principal.tenantID
        guard let document = try await fetchDocument(id, tenant: tenant, locking: true, in: transaction), document.policy.admits(principal) else {
            throw notFound(id)
        }
        guard document.state == .active else { return document }
        let now = EpochMilliseconds.nowMilliseconds()
        let t = tenant.description
        try await transaction.sql.raw(
            "UPDATE documents SET state = 'retired', active_version_id = NULL, updated_at = \(bind: now) WHERE tenant_id = \(bind: t) AND id = \(bind: id.description)"
        ).run()
        try await transaction.sql.raw(
            """
            UPDATE document_versions SET lifecycle = 'retired', retired_at = \(bind: now)
            WHERE tenant_id = \(bind: t) AND document_id = \(bind: id.description) AND lifecycle <> 'retired'
            """
        ).run()
        try await AuditLog.append(
            AuditRecord(
                actor: principal.auditActor,
                action: action,
                targetType: "document",
                targetID: id.description,
                details: ["title": String(document.title.prefix(200))]
            ),
            tenantID: tenant,
            in: transaction
        )
        try await recordIndexChange(of: id, "document.retired", tenant: tenant, in: transaction)
        return try await fetchDocument(id, tenant: tenant, in: transaction) ?? document
    }

    /// Approves `version`, makes it the document's served version and retires the one it replaces.
    private static func makeActive(
        _ version: DocumentVersion,
        of document: Document,
        by actor: String,
        tenant: TenantID,
        in transaction: Transaction
    ) async throws {
        let now = EpochMilliseconds.nowMilliseconds()
        let t = tenant.description
        try await transaction.sql.raw(
            """
            UPDATE document_versions SET lifecycle = 'retired', retired_at = \(bind: now)
            WHERE tenant_id = \(bind: t) AND document_id = \(bind: document.id.description) AND id <> \(bind: version.id.description)
            AND lifecycle = 'approved'
            """
        ).run()
        try await transaction.sql.raw(
            """
            UPDATE document_versions SET lifecycle = 'approved', approved_at = \(bind: now), approved_by = \(bind: actor)
            WHERE tenant_id = \(bind: t) AND id = \(bind: version.id.description)
            """
        ).run()
        try await transaction.sql.raw(
            "UPDATE documents SET active_version_id = \(bind: version.id.description), updated_at = \(bind: now) WHERE tenant_id = \(bind: t) AND id = \(bind: document.id.description)"
        ).run()
        try await AuditLog.append(
            AuditRecord(
                actor: actor,
                action: "document.version.approve",
                targetType: "document",
                targetID: document.id.description,
                details: ["version": String(version.number), "replaces": document.activeVersionID?.description ?? ""]
            ),
            tenantID: tenant,
            in: transaction
        )
        try await recordIndexChange(of: document.id, "version.activated", tenant: tenant, in: transaction)
    }

    private static func deletePages(of id: DocumentVersionID, tenant: TenantID, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            "DELETE FROM document_pages WHERE tenant_id = \(bind: tenant.description) AND version_id = \(bind: id.description)"
        ).run()
    }

    private static func deleteChunks(of id: DocumentVersionID, tenant: TenantID, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM chunks WHERE tenant_id = \(bind: tenant.description) AND version_id = \(bind: id.description)")
            .run()
    }

    /// Appends to the tenant's index change feed. The sequence number is taken by updating
    /// the tenant row, whose lock the transaction then holds to its end, so the tenant's
    /// changes commit in sequence order (see migration 6). Call it last in a transaction: the
    /// lock serialises the tenant's index changes while held.
    static func recordIndexChange(of document: DocumentID, _ change: String, tenant: TenantID, in transaction: Transaction) async throws {
        guard
            let seq = try await transaction.sql.raw(
                "UPDATE tenants SET index_head_seq = index_head_seq + 1 WHERE id = \(bind: tenant.description) RETURNING index_head_seq"
            ).first()?.decode(column: "index_head_seq", as: Int64.self)
        else { throw CairnError(.notFound, "The tenant no longer exists.") }
        try await transaction.sql.raw(
            """
            INSERT INTO index_changes (tenant_id, seq, document_id, change, recorded_at)
            VALUES (\(bind: tenant.description), \(bind: seq), \(bind: document.description), \(bind: change), \(bind: EpochMilliseconds.nowMilliseconds()))
            """
        ).run()
    }
}

/// Vectors are stored as little-endian float32 bytes: compact, and bit-identical on both
/// engines, which identical ranking across deployments depends on.
enum EmbeddingCoding {
    static func data(_ vector: [Float]) -> Data {
        var data = Data(capacity: vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func vector(_ data: Data) throws -> [Float] {
        guard data.count % 4 == 0 else { throw CairnError(.integrityViolation, "A stored embedding is not a whole number of float32 values.") }
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
