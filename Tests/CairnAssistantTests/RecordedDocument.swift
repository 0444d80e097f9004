import CairnCore
import CairnDocuments
import CairnJobs
import CairnStore
import Foundation

/// Records an approved, indexed document as ingestion would leave it, without parsing a file:
/// each of `pages` is one page and one chunk. `digestSeed` makes the stored blob's digest unique.
func recordApprovedDocument(
    title: String,
    pages: [String],
    policy: DocumentAccessPolicy = DocumentAccessPolicy(),
    collection: String,
    digestSeed: Int,
    in store: CairnStore,
    owner: Principal
) async throws -> DocumentID {
    let outcome = try await store.documents.upload(
        DocumentRepository.Upload(
            blob: StoredBlob(digest: BlobDigest(String(format: "%064x", digestSeed))!, size: 1, isNew: true),
            fileName: "\(title).txt",
            mediaType: "text/plain",
            format: "text",
            approve: true
        ),
        as: DocumentRepository.NewDocument(collection: collection, source: title, title: title, policy: policy),
        by: owner,
        ingestion: NewJob(kind: "document.ingest"),
        tenantQueueCap: nil
    )
    guard case .queued(let document, let version, _) = outcome else { throw CairnError(.internalFailure, "A fresh upload was not queued.") }
    try await store.documents.storePages(
        pages.enumerated().map {
            DocumentRepository.PageRecord(number: $0 + 1, text: $1, linesJSON: "[]", source: "text-layer", width: 612, height: 792)
        },
        of: version.id,
        tenant: owner.tenantID
    )
    let chunks = pages.enumerated().map { position, text in
        DocumentRepository.ChunkRecord(
            position: position,
            text: text,
            firstPage: position + 1,
            lastPage: position + 1,
            spansJSON: #"[{"end":\#(text.unicodeScalars.count),"page":\#(position + 1),"start":0}]"#,
            boxesJSON: "[]",
            headingPath: [],
            wordPieces: text.split(separator: " ").count
        )
    }
    try await store.documents.storeChunks(chunks, of: version, tenant: owner.tenantID)
    let (_, current) = try await store.documents.ingestionTarget(version.id, tenant: owner.tenantID)
    try await store.documents.announceIndexed(current, tenant: owner.tenantID)
    _ = try await store.documents.activate(version.id, tenant: owner.tenantID)
    return document.id
}
