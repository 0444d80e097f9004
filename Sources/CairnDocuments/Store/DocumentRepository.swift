public import CairnCore
public import CairnJobs
public import CairnStore
import Foundation
import SQLKit

/// Collections, documents and their versions, on either engine.
///
/// Reads are filtered by the caller's access: a principal sees a document only if its policy
/// admits them and, unless they may read drafts, only while it serves an approved version.
/// Everything else answers `notFound`, so a hidden document cannot be told from a missing one.
/// Every lifecycle change is written with its audit event and its index change in one
/// transaction.
public struct DocumentRepository: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    // MARK: Collections

    /// Creates a collection in the principal's tenant; names are unique per tenant.
    public func createCollection(
        by principal: Principal,
        name: String,
        description: String,
        defaultPolicy: DocumentAccessPolicy
    ) async throws -> DocumentCollection {
        try TextRules.validate(name, field: "A collection name", maximumLength: 100)
        guard description.unicodeScalars.count <= 2000 else {
            throw CairnError(.invalidInput, "A collection description is at most 2,000 characters.")
        }
        try defaultPolicy.validate()
        let collection = DocumentCollection(
            id: CollectionID(),
            tenantID: principal.tenantID,
            name: name,
            description: description,
            defaultPolicy: defaultPolicy,
            createdAt: EpochMilliseconds.date(milliseconds: EpochMilliseconds.nowMilliseconds()),
            createdBy: principal.auditActor
        )
        do {
            try await database.transaction(.tenant(principal.tenantID)) { transaction in
                try await transaction.sql.raw(
                    """
                    INSERT INTO collections (id, tenant_id, name, description, classification, entities, branches, group_names, created_at, created_by)
                    VALUES (\(bind: collection.id.description), \(bind: principal.tenantID.description), \(bind: name), \(bind: description),
                            \(bind: defaultPolicy.classification.rawValue), \(bind: JSONText.encode(defaultPolicy.entities)),
                            \(bind: JSONText.encode(defaultPolicy.branches)), \(bind: JSONText.encode(defaultPolicy.groups)),
                            \(bind: EpochMilliseconds.milliseconds(collection.createdAt)), \(bind: principal.auditActor))
                    """
                ).run()
                try await AuditLog.append(
                    AuditRecord(
                        actor: principal.auditActor,
                        action: "collection.create",
                        targetType: "collection",
                        targetID: collection.id.description,
                        details: ["name": name, "classification": defaultPolicy.classification.rawValue]
                    ),
                    tenantID: principal.tenantID,
                    in: transaction
                )
            }
        } catch let error where isUniqueViolation(error) {
            throw CairnError(.conflict, "A collection named '\(name)' already exists.")
        }
        return collection
    }

    /// The collection called `name` in the principal's tenant.
    public func collection(named name: String, for principal: Principal) async throws -> DocumentCollection {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard
                let row = try await transaction.sql.raw(
                    "SELECT * FROM collections WHERE tenant_id = \(bind: principal.tenantID.description) AND name = \(bind: name)"
                ).first()
            else { throw CairnError(.notFound, "There is no collection named '\(name.prefix(100))'.") }
            return try Self.collection(row)
        }
    }

    /// Every collection of the principal's tenant, by name.
    public func collections(for principal: Principal) async throws -> [DocumentCollection] {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            try await transaction.sql.raw("SELECT * FROM collections WHERE tenant_id = \(bind: principal.tenantID.description) ORDER BY name")
                .all().map(Self.collection)
        }
    }

    // MARK: Uploads

    /// What an upload adds: the stored bytes and what is known about them.
    public struct Upload: Sendable {
        public var blob: StoredBlob
        public var fileName: String
        public var mediaType: String?
        /// The format the content was detected as.
        public var format: String
        /// Approve and activate the version once it is ready (needs the approval permission).
        public var approve: Bool
        /// Opens an encrypted PDF; kept only until the file has been parsed.
        public var password: String?

        public init(blob: StoredBlob, fileName: String, mediaType: String?, format: String, approve: Bool, password: String? = nil) {
            self.blob = blob
            self.fileName = fileName
            self.mediaType = mediaType
            self.format = format
            self.approve = approve
            self.password = password
        }
    }

    /// Describes a new document; `nil` fields take defaults (title: the file name; policy: the collection's).
    public struct NewDocument: Sendable {
        public var collection: String
        public var source: String?
        public var title: String?
        public var tags: [String]
        public var policy: DocumentAccessPolicy?

        public init(collection: String, source: String? = nil, title: String? = nil, tags: [String] = [], policy: DocumentAccessPolicy? = nil) {
            self.collection = collection
            self.source = source
            self.title = title
            self.tags = tags
            self.policy = policy
        }
    }

    /// What an upload did.
    public enum UploadOutcome: Sendable {
        /// A new version was recorded and its ingestion job queued.
        case queued(Document, DocumentVersion, Job)
        /// The bytes equal the document's latest version: nothing was created.
        case unchanged(Document, DocumentVersion)
    }

    /// Records an upload as a new document, or as a new version of the document already at
    /// the same source in the collection, and queues its ingestion — in one transaction with
    /// the audit event, so an upload is either wholly recorded or not at all. Bytes identical to
    /// the latest version change nothing.
    public func upload(
        _ upload: Upload,
        as new: NewDocument,
        by principal: Principal,
        ingestion: NewJob,
        tenantQueueCap: Int?
    ) async throws -> UploadOutcome {
        try Self.validate(upload, by: principal)
        let source = new.source ?? upload.fileName
        try TextRules.validate(source, field: "A document source", maximumLength: 1000)
        if let title = new.title { try TextRules.validate(title, field: "A document title", maximumLength: 500) }
        try TextRules.validate(new.tags, field: "tags", maximumCount: 50)
        try new.policy?.validate()
        let tenant = principal.tenantID.description
        do {
            return try await database.transaction(.tenant(principal.tenantID)) { transaction in
                guard
                    let collectionRow = try await transaction.sql.raw(
                        "SELECT * FROM collections WHERE tenant_id = \(bind: tenant) AND name = \(bind: new.collection)"
                    ).first()
                    // A field of the upload, not the resource at its route: a flaw in the request (422).
                else { throw CairnError(.invalidInput, "There is no collection named '\(new.collection.prefix(100))' to upload into.") }
                let collection = try Self.collection(collectionRow)
                let existing = try await transaction.sql.raw(
                    "SELECT * FROM documents WHERE tenant_id = \(bind: tenant) AND collection_id = \(bind: collection.id.description) AND source = \(bind: source)\(transaction.rowLockClause)"
                ).first().map(Self.document)
                let document: Document
                if let existing {
                    guard existing.state == .active else {
                        throw CairnError(.conflict, "The document at '\(source.prefix(200))' was retired; upload under another source.")
                    }
                    document = existing
                } else {
                    document = try await Self.insertDocument(
                        collection: collection,
                        source: source,
                        title: new.title ?? upload.fileName,
                        tags: new.tags,
                        policy: new.policy ?? collection.defaultPolicy,
                        by: principal,
                        in: transaction
                    )
                }
                return try await Self.addVersion(
                    upload,
                    to: document,
                    by: principal,
                    ingestion: ingestion,
                    tenantQueueCap: tenantQueueCap,
                    in: transaction
                )
            }
        } catch let error where isUniqueViolation(error) {
            throw CairnError(.conflict, "Another upload to '\(source.prefix(200))' is being recorded; try again.")
        }
    }

    /// Records new bytes for an existing document (`POST /v1/documents/{id}/versions`).
    public func uploadVersion(
        _ upload: Upload,
        of id: DocumentID,
        by principal: Principal,
        ingestion: NewJob,
        tenantQueueCap: Int?
    ) async throws -> UploadOutcome {
        try Self.validate(upload, by: principal)
        do {
            return try await database.transaction(.tenant(principal.tenantID)) { transaction in
                guard let document = try await Self.fetchDocument(id, tenant: principal.tenantID, locking: true, in: transaction) else {
                    throw Self.notFound(id)
                }
                guard document.state == .active else {
                    throw CairnError(.conflict, "Document \(id) is retired; it takes no new versions.")
                }
                return try await Self.addVersion(
                    upload,
                    to: document,
                    by: principal,
                    ingestion: ingestion,
                    tenantQueueCap: tenantQueueCap,
                    in: transaction
                )
            }
        } catch let error where isUniqueViolation(error) {
            throw CairnError(.conflict, "Another version of document \(id) is being recorded; try again.")
        }
    }

    private static func validate(_ upload: Upload, by principal: Principal) throws(CairnError) {
        try TextRules.validate(upload.fileName, field: "A file name", maximumLength: 255)
        if let password = upload.password { try TextRules.validate(password, field: "A password", maximumLength: 200) }
        if let mediaType = upload.mediaType { try TextRules.validate(mediaType, field: "A media type", maximumLength: 200) }
        if upload.approve, !principal.has(.approveDocuments) {
            throw CairnError(.forbidden, "Approving on upload needs the 'documents.approve' permission.")
        }
    }

    private static func insertDocument(
        collection: DocumentCollection,
        source: String,
        title: String,
        tags: [String],
        policy: DocumentAccessPolicy,
        by principal: Principal,
        in transaction: Transaction
    ) async throws -> Document {
        let now = EpochMilliseconds.nowMilliseconds()
        let document = Document(
            id: DocumentID(),
            tenantID: principal.tenantID,
            collectionID: collection.id,
            title: title,
            source: source,
            tags: tags,
            policy: policy,
            state: .active,
            activeVersionID: nil,
            createdAt: EpochMilliseconds.date(milliseconds: now),
            createdBy: principal.auditActor,
            updatedAt: EpochMilliseconds.date(milliseconds: now)
        )
        try await transaction.sql.raw(
            """
            INSERT INTO documents (id, tenant_id, collection_id, title, source, tags, classification, entities, branches, group_names, state,
                                   active_version_id, created_at, created_by, updated_at)
            VALUES (\(bind: document.id.description), \(bind: principal.tenantID.description), \(bind: collection.id.description),
                    \(bind: title), \(bind: source), \(bind: JSONText.encode(tags)), \(bind: policy.classification.rawValue),
                    \(bind: JSONText.encode(policy.entities)), \(bind: JSONText.encode(policy.branches)), \(bind: JSONText.encode(policy.groups)),
                    'active', NULL, \(bind: now), \(bind: principal.auditActor), \(bind: now))
            """
        ).run()
        try await AuditLog.append(
            AuditRecord(
                actor: principal.auditActor,
                action: "document.create",
                targetType: "document",
                targetID: document.id.description,
                details: ["collection": collection.name, "source": String(source.prefix(200)), "classification": policy.classification.rawValue]
            ),
            tenantID: principal.tenantID,
            in: transaction
        )
        return document
    }

    private static func addVersion(
        _ upload: Upload,
        to document: Document,
        by principal: Principal,
        ingestion: NewJob,
        tenantQueueCap: Int?,
        in transaction: Transaction
    ) async throws -> UploadOutcome {
        let tenant = principal.tenantID.description
        let latest = try await transaction.sql.raw(
            "SELECT * FROM document_versions WHERE tenant_id = \(bind: tenant) AND document_id = \(bind: document.id.description) ORDER BY number DESC LIMIT 1"
        ).first().map(Self.version)
        // The same bytes again change nothing — unless their last ingestion failed (a password
        // given this time) or was purged: then they are processed anew as a new version.
        if let latest, latest.digest == upload.blob.digest.hex, latest.processing != .purged, latest.processing != .failed {
            return .unchanged(document, latest)
        }
        let versionID = DocumentVersionID()
        var job = ingestion
        job.payload = IngestionPayload(version: versionID).json
        if let cap = tenantQueueCap { try await JobRepository.checkCapacity(adding: 1, tenant: tenant, cap: cap, in: transaction) }
        guard let queued = try await JobRepository.insert([job], tenant: tenant, cap: nil, now: Date(), in: transaction).first else {
            throw CairnError(.internalFailure, "The ingestion job could not be queued.")
        }
        let now = EpochMilliseconds.nowMilliseconds()
        let number = (latest?.number ?? 0) + 1
        try await transaction.sql.raw(
            """
            INSERT INTO document_versions (id, tenant_id, document_id, number, digest, byte_size, file_name, media_type, format, processing,
                                           lifecycle, approve_when_ready, open_password, job_id, created_at, created_by)
            VALUES (\(bind: versionID.description), \(bind: tenant), \(bind: document.id.description), \(bind: number),
                    \(bind: upload.blob.digest.hex), \(bind: upload.blob.size), \(bind: upload.fileName), \(bind: upload.mediaType),
                    \(bind: upload.format), 'processing', 'draft', \(bind: upload.approve ? 1 : 0), \(bind: upload.password), \(bind: queued.id.description),
                    \(bind: now), \(bind: principal.auditActor))
            """
        ).run()
        try await AuditLog.append(
            AuditRecord(
                actor: principal.auditActor,
                action: "document.version.upload",
                targetType: "document",
                targetID: document.id.description,
                details: ["version": String(number), "sha256": upload.blob.digest.hex, "bytes": String(upload.blob.size), "format": upload.format]
            ),
            tenantID: principal.tenantID,
            in: transaction
        )
        guard let version = try await fetchVersion(versionID, tenant: principal.tenantID, in: transaction) else {
            throw CairnError(.internalFailure, "A recorded version could not be read back.")
        }
        return .queued(document, version, queued)
    }

    // MARK: Reading

    /// Documents the principal may see, newest first, optionally in one collection.
    public func list(
        for principal: Principal,
        collection: String? = nil,
        limit: Int = 100,
        after cursor: String? = nil
    ) async throws -> Page<Document> {
        try PageCursor.validate(limit: limit)
        if let collection { try TextRules.validate(collection, field: "A collection name", maximumLength: 100) }
        let position = try NewestFirstPosition(cursor: cursor)
        let tenant = principal.tenantID.description
        let seesDrafts = principal.has(.readDraftDocuments)
        // Access is decided per row in Swift (the policy's list rules), so the page is filled
        // by reading on until `limit + 1` visible rows are found.
        var visible: [Document] = []
        var resumeAt = position
        while visible.count <= limit {
            let after = resumeAt
            let batch = try await database.transaction(.tenant(principal.tenantID)) { transaction in
                var query: SQLQueryString = "SELECT d.* FROM documents d"
                if let collection {
                    query += " JOIN collections c ON c.id = d.collection_id AND c.name = \(bind: collection)"
                }
                query += " WHERE d.tenant_id = \(bind: tenant)"
                if !seesDrafts { query += " AND d.state = 'active' AND d.active_version_id IS NOT NULL" }
                if let after {
                    query +=
                        " AND (d.created_at < \(bind: after.createdAt) OR (d.created_at = \(bind: after.createdAt) AND d.id > \(bind: after.id)))"
                }
                query += " ORDER BY d.created_at DESC, d.id LIMIT \(bind: 200)"
                return try await transaction.sql.raw(query).all().map(Self.document)
            }
            visible += batch.filter { $0.policy.admits(principal) }
            guard batch.count == 200, let last = batch.last else { break }
            resumeAt = NewestFirstPosition(createdAt: EpochMilliseconds.milliseconds(last.createdAt), id: last.id.description)
        }
        return Page(fetched: visible, limit: limit) { NewestFirstPosition.position(createdAt: $0.createdAt, id: $0.id.description) }
    }

    /// One document with its versions (newest first), if the principal may see it.
    public func detail(_ id: DocumentID, for principal: Principal) async throws -> (Document, [DocumentVersion]) {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            guard let document = try await Self.fetchDocument(id, tenant: principal.tenantID, in: transaction), document.isVisible(to: principal)
            else {
                throw Self.notFound(id)
            }
            var versions = try await transaction.sql.raw(
                "SELECT * FROM document_versions WHERE tenant_id = \(bind: principal.tenantID.description) AND document_id = \(bind: id.description) ORDER BY number DESC"
            ).all().map(Self.version)
            if !principal.has(.readDraftDocuments) { versions = versions.filter { $0.id == document.activeVersionID } }
            return (document, versions)
        }
    }

    /// A stored page of a version, if the principal may see the version.
    public func page(_ number: Int, of versionID: DocumentVersionID, for principal: Principal) async throws -> StoredPage {
        try await database.transaction(.tenant(principal.tenantID)) { transaction in
            let tenant = principal.tenantID.description
            guard
                let version = try await Self.fetchVersion(versionID, tenant: principal.tenantID, in: transaction),
                let document = try await Self.fetchDocument(version.documentID, tenant: principal.tenantID, in: transaction),
                document.isVisible(to: principal),
                principal.has(.readDraftDocuments) || document.activeVersionID == versionID,
                let row = try await transaction.sql.raw(
                    "SELECT * FROM document_pages WHERE tenant_id = \(bind: tenant) AND version_id = \(bind: versionID.description) AND number = \(bind: number)"
                ).first()
            else { throw CairnError(.notFound, "Page \(number) of version \(versionID) does not exist.") }
            return StoredPage(
                number: Int(try row.int64("number")),
                text: try row.string("text"),
                source: try row.string("source"),
                width: try row.decode(column: "width", as: Double.self),
                height: try row.decode(column: "height", as: Double.self)
            )
        }
    }

    static func notFound(_ id: DocumentID) -> CairnError {
        CairnError(.notFound, "Document \(id) does not exist.")
    }

    // MARK: Rows

    package static func fetchDocument(
        _ id: DocumentID,
        tenant: TenantID,
        locking: Bool = false,
        in transaction: Transaction
    ) async throws -> Document? {
        try await transaction.sql.raw(
            "SELECT * FROM documents WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: id.description)\(locking ? transaction.rowLockClause : "")"
        ).first().map(Self.document)
    }

    static func fetchVersion(_ id: DocumentVersionID, tenant: TenantID, in transaction: Transaction) async throws -> DocumentVersion? {
        try await transaction.sql.raw(
            "SELECT * FROM document_versions WHERE tenant_id = \(bind: tenant.description) AND id = \(bind: id.description)"
        ).first().map(Self.version)
    }

    static func policy(_ row: any SQLRow) throws -> DocumentAccessPolicy {
        guard let classification = Classification(rawValue: try row.string("classification")) else {
            throw CairnError(.integrityViolation, "A stored classification is not one Cairn knows.")
        }
        return DocumentAccessPolicy(
            classification: classification,
            entities: try row.list("entities"),
            branches: try row.list("branches"),
            groups: try row.list("group_names")
        )
    }

    static func collection(_ row: any SQLRow) throws -> DocumentCollection {
        DocumentCollection(
            id: try row.entityID("id"),
            tenantID: try row.entityID("tenant_id"),
            name: try row.string("name"),
            description: try row.string("description"),
            defaultPolicy: try policy(row),
            createdAt: try row.date("created_at"),
            createdBy: try row.string("created_by")
        )
    }

    static func document(_ row: any SQLRow) throws -> Document {
        guard let state = DocumentState(rawValue: try row.string("state")) else {
            throw CairnError(.integrityViolation, "A stored document state is not one Cairn knows.")
        }
        return Document(
            id: try row.entityID("id"),
            tenantID: try row.entityID("tenant_id"),
            collectionID: try row.entityID("collection_id"),
            title: try row.string("title"),
            source: try row.string("source"),
            tags: try row.list("tags"),
            policy: try policy(row),
            state: state,
            activeVersionID: try row.decode(column: "active_version_id", as: String?.self).flatMap(DocumentVersionID.init),
            createdAt: try row.date("created_at"),
            createdBy: try row.string("created_by"),
            updatedAt: try row.date("updated_at")
        )
    }

    static func version(_ row: any SQLRow) throws -> DocumentVersion {
        guard
            let processing = VersionProcessing(rawValue: try row.string("processing")),
            let lifecycle = VersionLifecycle(rawValue: try row.string("lifecycle"))
        else { throw CairnError(.integrityViolation, "A stored version state is not one Cairn knows.") }
        return DocumentVersion(
            id: try row.entityID("id"),
            documentID: try row.entityID("document_id"),
            number: Int(try row.int64("number")),
            digest: try row.string("digest"),
            byteSize: try row.int64("byte_size"),
            fileName: try row.string("file_name"),
            mediaType: try row.decode(column: "media_type", as: String?.self),
            format: try row.string("format"),
            processing: processing,
            lifecycle: lifecycle,
            approveWhenReady: try row.int64("approve_when_ready") != 0,
            jobID: try row.decode(column: "job_id", as: String?.self).flatMap(JobID.init),
            failure: try row.decode(column: "failure", as: String?.self),
            pageCount: try row.optionalInt64("page_count").map(Int.init),
            chunkCount: try row.optionalInt64("chunk_count").map(Int.init),
            embeddingModel: try row.decode(column: "embedding_model", as: String?.self),
            createdAt: try row.date("created_at"),
            createdBy: try row.string("created_by"),
            readyAt: try row.optionalDate("ready_at"),
            approvedAt: try row.optionalDate("approved_at"),
            approvedBy: try row.decode(column: "approved_by", as: String?.self),
            retiredAt: try row.optionalDate("retired_at")
        )
    }
}

/// A page's text as stored with its version.
public struct StoredPage: Sendable, Equatable {
    public let number: Int
    public let text: String
    /// `text-layer` or `ocr`.
    public let source: String
    public let width: Double
    public let height: Double
}

/// What an ingestion job carries: the version to process. Everything else is read from the
/// database, so a replayed job sees the version as it is now.
public struct IngestionPayload: Codable, Sendable {
    public let version: String

    public init(version: DocumentVersionID) { self.version = version.description }

    var json: String { #"{"version":"\#(version)"}"# }
}
