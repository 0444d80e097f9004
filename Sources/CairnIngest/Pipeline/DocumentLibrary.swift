public import CairnCore
public import CairnDocuments
public import CairnJobs
public import CairnStore
import Foundation

/// Where uploads come in: the bytes stream to the blob store under a size limit, the content's
/// format is checked against what the client declared, and the upload is recorded with its
/// ingestion job. The server and the CLI both go through here.
public struct DocumentLibrary: Sendable {
    public let store: CairnStore
    public let blobs: any BlobStore
    /// The largest file accepted, in bytes.
    public let maximumUploadBytes: Int
    /// Waiting jobs one tenant may have (uploads queue ingestion jobs).
    public let tenantQueueCap: Int?

    public init(store: CairnStore, blobs: any BlobStore, maximumUploadBytes: Int, tenantQueueCap: Int?) {
        self.store = store
        self.blobs = blobs
        self.maximumUploadBytes = maximumUploadBytes
        self.tenantQueueCap = tenantQueueCap
    }

    /// A file as it arrives.
    public struct IncomingFile<Bytes: AsyncSequence> where Bytes.Element == [UInt8] {
        public var bytes: Bytes
        public var fileName: String
        public var mediaType: String?

        public init(bytes: Bytes, fileName: String, mediaType: String?) {
            self.bytes = bytes
            self.fileName = fileName
            self.mediaType = mediaType
        }
    }

    /// Stores the file and records it as a new document (or a new version of the one at the
    /// same source), queueing its ingestion.
    public func upload<Bytes>(
        _ file: IncomingFile<Bytes>,
        as new: DocumentRepository.NewDocument,
        approve: Bool,
        password: String?,
        by principal: Principal
    ) async throws -> DocumentRepository.UploadOutcome {
        try await record(file, approve: approve, password: password) { upload in
            try await store.documents.upload(upload, as: new, by: principal, ingestion: Self.ingestionJob, tenantQueueCap: tenantQueueCap)
        }
    }

    /// Stores the file and records it as a new version of document `id`.
    public func uploadVersion<Bytes>(
        _ file: IncomingFile<Bytes>,
        of id: DocumentID,
        approve: Bool,
        password: String?,
        by principal: Principal
    ) async throws -> DocumentRepository.UploadOutcome {
        try await record(file, approve: approve, password: password) { upload in
            try await store.documents.uploadVersion(upload, of: id, by: principal, ingestion: Self.ingestionJob, tenantQueueCap: tenantQueueCap)
        }
    }

    /// Retires the document and queues the purge of its content.
    public func delete(_ id: DocumentID, by principal: Principal) async throws -> (Document, Job) {
        try await store.documents.delete(id, by: principal, purge: NewJob(kind: PurgeDocument.jobKind))
    }

    private static var ingestionJob: NewJob {
        NewJob(kind: IngestDocument.jobKind, maxAttempts: 3)
    }

    private func record<Bytes>(
        _ file: IncomingFile<Bytes>,
        approve: Bool,
        password: String?,
        _ register: (DocumentRepository.Upload) async throws -> DocumentRepository.UploadOutcome
    ) async throws -> DocumentRepository.UploadOutcome {
        let fileName = Self.baseName(file.fileName)
        try TextRules.validate(fileName, field: "A file name", maximumLength: 255)
        let blob = try await blobs.put(file.bytes, maximumBytes: maximumUploadBytes)
        do {
            guard blob.size > 0 else { throw CairnError(.invalidInput, "The file is empty.") }
            let format = try await blobs.withLocalFile(blob.digest) { url in
                try DocumentFormat.detect(fileAt: url, declaredName: fileName, declaredMediaType: file.mediaType)
            }
            let upload = DocumentRepository.Upload(
                blob: blob,
                fileName: fileName,
                mediaType: file.mediaType,
                format: format.rawValue,
                approve: approve,
                password: password
            )
            return try await register(upload)
        } catch {
            // A blob this upload created and nothing refers to goes again; one that existed
            // before belongs to another version.
            if blob.isNew { try? await blobs.delete(blob.digest) }
            throw error
        }
    }

    /// The last path component: clients send paths, and only the name is the file's.
    private static func baseName(_ name: String) -> String {
        String(name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "")
    }
}
