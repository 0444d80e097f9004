import CairnCore
import CairnDocuments
public import CairnEmbed
public import CairnJobs
public import CairnStore
import Foundation
import Logging

/// The ingestion saga of one uploaded version: store → parse → chunk → embed → index → activate.
///
/// Each step persists what it produced (pages, chunks, vectors, the index change) and its
/// compensation removes it, so a crash resumes at the unfinished step and a failure leaves no
/// partial index behind. The version the document already serves keeps serving throughout;
/// the switch is the activate step's single transaction.
public struct IngestDocument: Workflow {
    public static let jobKind = "document.ingest"
    public var kind: String { Self.jobKind }
    /// Parsing failures are about the file, and retries are for the infrastructure.
    public var defaultMaxAttempts: Int { 3 }

    private let blobs: any BlobStore
    private let parser: DocumentParser
    private let chunker: Chunker
    private let embedder: (any SentenceEmbedder)?

    /// - Parameter embedder: `nil` indexes lexically only (the model is not installed).
    public init(blobs: any BlobStore, parser: DocumentParser, chunker: Chunker, embedder: (any SentenceEmbedder)?) {
        self.blobs = blobs
        self.parser = parser
        self.chunker = chunker
        self.embedder = embedder
    }

    /// Texts embedded per call: enough to keep the encoder's batches full, few enough that
    /// progress moves and the lease is renewed often.
    private static let embeddingBatch = 64

    public func steps(for job: JobContext) throws -> [WorkflowStep] {
        guard let versionID = DocumentVersionID(try job.payload(as: IngestionPayload.self).version) else {
            throw JobFailure.permanent("The job's payload names no valid version.")
        }
        let tenant = job.job.tenantID
        let documents = job.store.documents
        return [
            WorkflowStep("store") { job in
                let (_, version) = try await documents.ingestionTarget(versionID, tenant: tenant)
                guard let digest = BlobDigest(version.digest), try await blobs.contains(digest) else {
                    throw JobFailure.permanent("The uploaded file is no longer in the blob store.")
                }
                try await job.reportProgress(0.05, "Stored")
            },
            WorkflowStep(
                "parse",
                run: { job in
                    let (_, version) = try await documents.ingestionTarget(versionID, tenant: tenant)
                    guard let format = DocumentFormat(rawValue: version.format), let digest = BlobDigest(version.digest) else {
                        throw JobFailure.permanent("The version's format or digest is not one Cairn knows.")
                    }
                    let password = try await documents.openPassword(of: versionID, tenant: tenant)
                    let parsed = try await blobs.withLocalFile(digest) { url in
                        try await parser.parse(contentsOf: url, format: format, password: password)
                    }
                    guard parsed.pages.contains(where: { !$0.text.isEmpty }) else {
                        throw JobFailure.permanent("The document has no text, and none could be recognised in its images.")
                    }
                    let pages = parsed.pages.map { page in
                        DocumentRepository.PageRecord(
                            number: page.number,
                            text: page.text,
                            linesJSON: PageLines.json(page.lines),
                            source: page.source.rawValue,
                            width: page.width,
                            height: page.height
                        )
                    }
                    try await documents.storePages(pages, of: versionID, tenant: tenant)
                    try await job.reportProgress(0.3, "Parsed \(pages.count) page\(pages.count == 1 ? "" : "s")")
                },
                compensate: { _ in try await documents.removePages(of: versionID, tenant: tenant) }
            ),
            WorkflowStep(
                "chunk",
                run: { job in
                    let (_, version) = try await documents.ingestionTarget(versionID, tenant: tenant)
                    let pages = try await documents.pages(of: versionID, tenant: tenant).map { record in
                        ParsedPage(
                            number: record.number,
                            width: record.width,
                            height: record.height,
                            text: record.text,
                            lines: try PageLines.lines(record.linesJSON),
                            source: TextSource(rawValue: record.source) ?? .textLayer
                        )
                    }
                    let chunks = chunker.chunks(of: ParsedDocument(pages: pages)).map(Self.record)
                    try await documents.storeChunks(chunks, of: version, tenant: tenant)
                    try await job.reportProgress(0.4, "Cut \(chunks.count) passage\(chunks.count == 1 ? "" : "s")")
                },
                compensate: { _ in try await documents.removeChunks(of: versionID, tenant: tenant) }
            ),
            WorkflowStep("embed") { job in
                guard let embedder else {
                    job.logger.warning(
                        "No embedding model is loaded; the version is indexed for lexical search only",
                        metadata: ["version": "\(versionID)"]
                    )
                    return
                }
                let texts = try await documents.chunkTexts(of: versionID, tenant: tenant)
                var vectors: [(ChunkID, [Float])] = []
                vectors.reserveCapacity(texts.count)
                for start in stride(from: 0, to: texts.count, by: Self.embeddingBatch) {
                    let batch = texts[start..<min(start + Self.embeddingBatch, texts.count)]
                    let embedded = try await embedder.embed(batch.map(\.1))
                    vectors += zip(batch.map(\.0), embedded).map { ($0, $1) }
                    try await job.reportProgress(
                        0.4 + 0.5 * Double(vectors.count) / Double(max(texts.count, 1)),
                        "Embedded \(vectors.count) of \(texts.count) passages"
                    )
                }
                try await documents.storeEmbeddings(vectors, model: embedder.modelName, of: versionID, tenant: tenant)
            },
            WorkflowStep("index") { job in
                let (_, version) = try await documents.ingestionTarget(versionID, tenant: tenant)
                try await documents.announceIndexed(version, tenant: tenant)
                try await job.reportProgress(0.95, "Indexed")
            },
            WorkflowStep("activate") { job in
                let version = try await documents.activate(versionID, tenant: tenant)
                try await job.reportProgress(1, version.lifecycle == .approved ? "Approved and serving" : "Ready as a draft")
            },
        ]
    }

    public func workflowFailed(_ job: JobContext, reason: String) async throws {
        guard let versionID = DocumentVersionID(try job.payload(as: IngestionPayload.self).version) else { return }
        try await job.store.documents.markFailed(versionID, reason: reason, tenant: job.job.tenantID)
    }

    private static func record(_ chunk: DocumentChunk) -> DocumentRepository.ChunkRecord {
        let spans = chunk.spans.map { ["page": $0.page, "start": $0.range.lowerBound, "end": $0.range.upperBound] }
        let boxes = chunk.boxes.map { [Double($0.page), $0.box.x0, $0.box.y0, $0.box.x1, $0.box.y1] }
        return DocumentRepository.ChunkRecord(
            position: chunk.index,
            text: chunk.text,
            firstPage: chunk.pages.lowerBound,
            lastPage: chunk.pages.upperBound,
            spansJSON: Self.json(spans),
            boxesJSON: Self.json(boxes),
            headingPath: chunk.headingPath,
            wordPieces: chunk.wordPieces
        )
    }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("[]".utf8), as: UTF8.self)
    }
}

/// Removes a deleted document's chunks, pages and (when no other version shares them) blobs.
public struct PurgeDocument: JobHandler {
    public static let jobKind = "document.purge"
    public var kind: String { Self.jobKind }
    private let blobs: any BlobStore

    public init(blobs: any BlobStore) { self.blobs = blobs }

    private struct Payload: Decodable { let document: String }

    public func run(_ job: JobContext) async throws -> String? {
        guard let id = DocumentID(try job.payload(as: Payload.self).document) else {
            throw JobFailure.permanent("The job's payload names no valid document.")
        }
        let orphaned = try await job.store.documents.purge(id, tenant: job.job.tenantID)
        for digest in orphaned.compactMap(BlobDigest.init) { try await blobs.delete(digest) }
        return #"{"blobs_deleted":\#(orphaned.count)}"#
    }
}
