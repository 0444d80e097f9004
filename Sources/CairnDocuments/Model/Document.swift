public import CairnCore
public import CairnJobs
public import Foundation

/// Identifies a collection of documents.
public typealias CollectionID = EntityID<DocumentCollection>
/// Identifies a document across its versions.
public typealias DocumentID = EntityID<Document>
/// Identifies one uploaded version of a document.
public typealias DocumentVersionID = EntityID<DocumentVersion>
/// Identifies a chunk (a passage of one version) in the index and in citations.
public typealias ChunkID = EntityID<StoredChunk>

/// A named set of documents with the access policy new documents get unless they say otherwise.
public struct DocumentCollection: Sendable, Equatable {
    public let id: CollectionID
    public let tenantID: TenantID
    public let name: String
    public let description: String
    public let defaultPolicy: DocumentAccessPolicy
    public let createdAt: Date
    public let createdBy: String

    public init(
        id: CollectionID,
        tenantID: TenantID,
        name: String,
        description: String,
        defaultPolicy: DocumentAccessPolicy,
        createdAt: Date,
        createdBy: String
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.description = description
        self.defaultPolicy = defaultPolicy
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// Whether a document serves at all. A retired document serves no version and is never
/// searchable again; deleting one retires it and purges its chunks and blobs.
public enum DocumentState: String, Sendable, CaseIterable, Codable {
    case active
    case retired
}

/// A document: what it is and who may read it. Its text lives in its versions.
public struct Document: Sendable, Equatable {
    public let id: DocumentID
    public let tenantID: TenantID
    public let collectionID: CollectionID
    public let title: String
    /// Where the document came from (a path, a URL, a system's record id). Unique within a
    /// collection: uploading to the same source adds a version of the same document.
    public let source: String
    public let tags: [String]
    public let policy: DocumentAccessPolicy
    public let state: DocumentState
    /// The approved version that serves searches, if any.
    public let activeVersionID: DocumentVersionID?
    public let createdAt: Date
    public let createdBy: String
    public let updatedAt: Date

    public init(
        id: DocumentID,
        tenantID: TenantID,
        collectionID: CollectionID,
        title: String,
        source: String,
        tags: [String],
        policy: DocumentAccessPolicy,
        state: DocumentState,
        activeVersionID: DocumentVersionID?,
        createdAt: Date,
        createdBy: String,
        updatedAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.collectionID = collectionID
        self.title = title
        self.source = source
        self.tags = tags
        self.policy = policy
        self.state = state
        self.activeVersionID = activeVersionID
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.updatedAt = updatedAt
    }
}

/// Where a version's processing stands.
public enum VersionProcessing: String, Sendable, CaseIterable, Codable {
    /// Queued or running through the ingestion saga.
    case processing
    /// Parsed, chunked, embedded and indexed.
    case ready
    /// Ingestion failed; `failure` says why in one sentence.
    case failed
    /// Its chunks and pages were removed (the document was deleted, or it was superseded and purged).
    case purged
}

/// A version's place in the approval lifecycle: `draft` → `approved` → `retired`.
///
/// Only the approved version a document serves (its active version) is searchable by
/// non-curators; curators may search ready drafts explicitly. Approving a version retires the
/// one it replaces.
public enum VersionLifecycle: String, Sendable, CaseIterable, Codable {
    case draft
    case approved
    case retired
}

/// One upload of a document's bytes.
public struct DocumentVersion: Sendable, Equatable {
    public let id: DocumentVersionID
    public let documentID: DocumentID
    /// 1 for the first upload, then counting up.
    public let number: Int
    /// SHA-256 of the bytes, hex: the blob's address.
    public let digest: String
    public let byteSize: Int64
    public let fileName: String
    public let mediaType: String?
    /// The format parsing found (`pdf`, `docx`, `html`, `markdown`, `text`).
    public let format: String
    public let processing: VersionProcessing
    public let lifecycle: VersionLifecycle
    /// Approve and activate as soon as it is ready (the uploader held the approval permission).
    public let approveWhenReady: Bool
    /// The ingestion job.
    public let jobID: JobID?
    public let failure: String?
    public let pageCount: Int?
    public let chunkCount: Int?
    /// The embedding model its chunk vectors come from; `nil` when indexed lexically only.
    public let embeddingModel: String?
    public let createdAt: Date
    public let createdBy: String
    public let readyAt: Date?
    public let approvedAt: Date?
    public let approvedBy: String?
    public let retiredAt: Date?

    public init(
        id: DocumentVersionID,
        documentID: DocumentID,
        number: Int,
        digest: String,
        byteSize: Int64,
        fileName: String,
        mediaType: String?,
        format: String,
        processing: VersionProcessing,
        lifecycle: VersionLifecycle,
        approveWhenReady: Bool,
        jobID: JobID?,
        failure: String?,
        pageCount: Int?,
        chunkCount: Int?,
        embeddingModel: String?,
        createdAt: Date,
        createdBy: String,
        readyAt: Date?,
        approvedAt: Date?,
        approvedBy: String?,
        retiredAt: Date?
    ) {
        self.id = id
        self.documentID = documentID
        self.number = number
        self.digest = digest
        self.byteSize = byteSize
        self.fileName = fileName
        self.mediaType = mediaType
        self.format = format
        self.processing = processing
        self.lifecycle = lifecycle
        self.approveWhenReady = approveWhenReady
        self.jobID = jobID
        self.failure = failure
        self.pageCount = pageCount
        self.chunkCount = chunkCount
        self.embeddingModel = embeddingModel
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.readyAt = readyAt
        self.approvedAt = approvedAt
        self.approvedBy = approvedBy
        self.retiredAt = retiredAt
    }
}

/// A stored passage of a version, as retrieval and citations read it.
public struct StoredChunk: Sendable, Equatable {
    public let id: ChunkID
    public let documentID: DocumentID
    public let versionID: DocumentVersionID
    /// Position within the version, from 0.
    public let position: Int
    public let text: String
    public let firstPage: Int
    public let lastPage: Int
    /// JSON: `[{"page": n, "start": s, "end": e}]`, Unicode-scalar ranges of each page's text.
    public let spansJSON: String
    public let headingPath: [String]
    /// Unit-length float32 vector, or `nil` when indexed lexically only.
    public let embedding: [Float]?

    public init(
        id: ChunkID,
        documentID: DocumentID,
        versionID: DocumentVersionID,
        position: Int,
        text: String,
        firstPage: Int,
        lastPage: Int,
        spansJSON: String,
        headingPath: [String],
        embedding: [Float]?
    ) {
        self.id = id
        self.documentID = documentID
        self.versionID = versionID
        self.position = position
        self.text = text
        self.firstPage = firstPage
        self.lastPage = lastPage
        self.spansJSON = spansJSON
        self.headingPath = headingPath
        self.embedding = embedding
    }
}

extension Document {
    /// Whether `principal` may see this document at all: its access policy admits them, and it
    /// serves an approved version, unless they may read drafts (curators).
    public func isVisible(to principal: Principal) -> Bool {
        guard policy.admits(principal) else { return false }
        return principal.has(.readDraftDocuments) || (state == .active && activeVersionID != nil)
    }
}
