import CairnCore
import CairnDocuments
import CairnEmbed
import CairnJobs
import CairnStore
import CairnTestSupport
import Foundation
import Logging

@testable import CairnSearch

/// Deterministic unit vectors derived from a text's words, so vector and hybrid search can run
/// without the real model: each word (lowercased, split at anything but letters and digits)
/// adds a signed weight to two of 16 components chosen by its FNV-1a hash. Texts sharing words
/// point in similar directions; the same text always gives the bit-identical vector.
struct HashingTestEmbedder: SentenceEmbedder {
    var modelName: String { "hashing-test-16" }
    var dimension: Int { 16 }

    func embed(_ texts: [String]) async throws -> [[Float]] { texts.map(vector(for:)) }

    func vector(for text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: dimension)
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in word.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            let weight = 1 + Float((hash >> 40) & 0xFF) / 256
            vector[Int(hash % UInt64(dimension))] += hash >> 63 == 0 ? weight : -weight
            vector[Int((hash >> 16) % UInt64(dimension))] += 0.5 * weight
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else {
            // No words (or words cancelling out): a fixed unit vector, never a zero or NaN one.
            vector[0] = 1
            return vector
        }
        return vector.map { $0 / norm }
    }
}

extension SeededGenerator {
    /// A UUID drawn from the generator: chunk ids that are the same on every run and engine.
    mutating func uuid() -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &self) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }
}

/// A made-up blob digest, different on every call: the repository records digests and never
/// reads the blob.
func uniqueDigest() -> BlobDigest {
    let hex = (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased()
    return BlobDigest(hex)!
}

/// How far a version is taken through the ingestion saga's repository calls.
enum SagaStep: Int, Comparable, CaseIterable, Sendable {
    case upload
    case pages
    case chunks
    case embeddings
    case announce
    case activate

    static func < (lhs: SagaStep, rhs: SagaStep) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Records documents and versions with the repository calls `IngestDocument` makes for one
/// version (upload → storePages → storeChunks → storeEmbeddings → announceIndexed → activate),
/// with chunk texts given directly instead of parsed from a file.
struct SagaRecorder: Sendable {
    let store: CairnStore
    /// Uploads, approves and retires: an admin cleared for every policy the tests write.
    let owner: Principal
    let collection: String
    let embedder = HashingTestEmbedder()

    var tenant: TenantID { owner.tenantID }

    /// Creates the tenant `name`, its owner and collection `library`.
    static func make(_ store: CairnStore, tenant name: String, pools: [String]) async throws -> SagaRecorder {
        let admin = try await makeTenant(store, name)
        let owner = Principal(
            tenantID: admin.tenantID,
            tenantName: admin.tenantName,
            subject: "owner",
            roles: [.admin],
            groups: pools,
            attributes: AccessAttributes(entities: pools, branches: pools, clearance: .restricted),
            credential: .apiKey(APIKeyID())
        )
        _ = try await store.documents.createCollection(by: owner, name: "library", description: "", defaultPolicy: DocumentAccessPolicy())
        return SagaRecorder(store: store, owner: owner, collection: "library")
    }

    /// Chunk records for `texts`, in order, with the given ids (fresh ones when nil).
    static func chunkRecords(_ texts: [String], ids: [ChunkID]? = nil) -> [DocumentRepository.ChunkRecord] {
        texts.enumerated().map { position, text in
            DocumentRepository.ChunkRecord(
                id: ids?[position] ?? ChunkID(),
                position: position,
                text: text,
                firstPage: 1,
                lastPage: 1,
                spansJSON: #"[{"end":\#(text.unicodeScalars.count),"page":1,"start":0}]"#,
                boxesJSON: "[]",
                headingPath: [],
                wordPieces: text.split(separator: " ").count
            )
        }
    }

    /// A new document at `source` with its first version, taken through the saga up to `step`.
    func ingestDocument(
        source: String,
        policy: DocumentAccessPolicy,
        chunks: [DocumentRepository.ChunkRecord],
        approve: Bool,
        through step: SagaStep = .activate
    ) async throws -> (Document, DocumentVersion) {
        let outcome = try await store.documents.upload(
            upload(approve: approve),
            as: DocumentRepository.NewDocument(collection: collection, source: source, policy: policy),
            by: owner,
            ingestion: NewJob(kind: "document.ingest"),
            tenantQueueCap: nil
        )
        guard case .queued(let document, let version, _) = outcome else { throw CairnError(.internalFailure, "A fresh upload was not queued.") }
        return (document, try await run(version, chunks: chunks, from: .pages, through: step))
    }

    /// A new version of `document`, taken through the saga up to `step`.
    func ingestVersion(
        of document: DocumentID,
        chunks: [DocumentRepository.ChunkRecord],
        approve: Bool,
        through step: SagaStep = .activate
    ) async throws -> DocumentVersion {
        let version = try await uploadVersion(of: document, approve: approve)
        return try await run(version, chunks: chunks, from: .pages, through: step)
    }

    /// Records new bytes for `document` (the saga's `upload`).
    func uploadVersion(of document: DocumentID, approve: Bool, digest: BlobDigest = uniqueDigest()) async throws -> DocumentVersion {
        let outcome = try await store.documents.uploadVersion(
            upload(approve: approve, digest: digest),
            of: document,
            by: owner,
            ingestion: NewJob(kind: "document.ingest"),
            tenantQueueCap: nil
        )
        guard case .queued(_, let version, _) = outcome else { throw CairnError(.internalFailure, "A new version was not queued.") }
        return version
    }

    func upload(approve: Bool, digest: BlobDigest = uniqueDigest()) -> DocumentRepository.Upload {
        DocumentRepository.Upload(
            blob: StoredBlob(digest: digest, size: 1024, isNew: true),
            fileName: "document.txt",
            mediaType: "text/plain",
            format: "text",
            approve: approve
        )
    }

    /// Runs the saga's steps `first...last` for `version`; returns the version as the last step left it.
    @discardableResult
    func run(
        _ version: DocumentVersion,
        chunks: [DocumentRepository.ChunkRecord],
        from first: SagaStep,
        through last: SagaStep
    ) async throws -> DocumentVersion {
        var version = version
        for step in SagaStep.allCases where step >= first && step <= last {
            try await perform(step, on: &version, chunks: chunks)
        }
        return version
    }

    /// One saga step, as `IngestDocument` calls the repository for it.
    func perform(_ step: SagaStep, on version: inout DocumentVersion, chunks: [DocumentRepository.ChunkRecord]) async throws {
        let documents = store.documents
        switch step {
        case .upload:
            break
        case .pages:
            let text = chunks.map(\.text).joined(separator: "\n")
            try await documents.storePages(
                [DocumentRepository.PageRecord(number: 1, text: text, linesJSON: "[]", source: "text-layer", width: 612, height: 792)],
                of: version.id,
                tenant: tenant
            )
        case .chunks:
            try await documents.storeChunks(chunks, of: version, tenant: tenant)
        case .embeddings:
            let texts = try await documents.chunkTexts(of: version.id, tenant: tenant)
            let vectors = try await embedder.embed(texts.map(\.1))
            try await documents.storeEmbeddings(Array(zip(texts.map(\.0), vectors)), model: embedder.modelName, of: version.id, tenant: tenant)
        case .announce:
            let (_, current) = try await documents.ingestionTarget(version.id, tenant: tenant)
            try await documents.announceIndexed(current, tenant: tenant)
        case .activate:
            version = try await documents.activate(version.id, tenant: tenant)
        }
    }
}

/// A search service over `store` with the hashing embedder, as the server wires one.
func makeSearchService(_ store: CairnStore) -> SearchService {
    let embedder = HashingTestEmbedder()
    let index = SearchIndex(feed: store.indexFeed, dimension: embedder.dimension, logger: Logger(label: "cairn.test.search"))
    return SearchService(store: store, index: index, embedder: embedder)
}

/// A principal of `owner`'s tenant, authenticated by an API key, with the given roles and attributes.
func searcher(
    of owner: Principal,
    roles: Set<Role>,
    clearance: Classification = .restricted,
    entities: [String] = [],
    branches: [String] = [],
    groups: [String] = []
) -> Principal {
    Principal(
        tenantID: owner.tenantID,
        tenantName: owner.tenantName,
        subject: "searcher",
        roles: roles,
        groups: groups,
        attributes: AccessAttributes(entities: entities, branches: branches, clearance: clearance),
        credential: .apiKey(APIKeyID())
    )
}
