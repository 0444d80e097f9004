public import CairnCore
public import CairnStore
public import Foundation

/// Takes a case pack's files in: streams each into the blob store (never whole in memory, never
/// past the upload limit) and records it against its case. Nothing is recorded for a file that
/// did not arrive whole.
public struct CaseIntake: Sendable {
    public let store: CairnStore
    public let blobs: any BlobStore
    public let maximumUploadBytes: Int

    public init(store: CairnStore, blobs: any BlobStore, maximumUploadBytes: Int) {
        self.store = store
        self.blobs = blobs
        self.maximumUploadBytes = maximumUploadBytes
    }

    /// Adds the bytes `chunks` as `fileName` to the case `id`.
    public func add<Chunks: AsyncSequence>(
        _ chunks: Chunks,
        named fileName: String,
        to id: CaseID,
        by principal: Principal
    ) async throws -> CaseDocument where Chunks.Element == [UInt8] {
        let name = URL(fileURLWithPath: fileName).lastPathComponent
        try TextRules.validate([name], field: "a file name", maximumCount: 1)
        // Reading the case first refuses an unknown, out-of-scope or decided case before any byte is stored.
        let current = try await store.cases.get(id, for: principal)
        guard !current.state.isDecided else {
            throw CairnError(.conflict, "The case is \(current.state.rawValue); a decided case takes no more documents.")
        }
        let blob = try await blobs.put(chunks, maximumBytes: maximumUploadBytes)
        return try await store.cases.addDocument(to: id, fileName: name, blob: blob, by: principal)
    }

    /// Adds the file at `file` to the case `id`, read in chunks.
    public func add(file: URL, to id: CaseID, by principal: Principal) async throws -> CaseDocument {
        guard FileManager.default.fileExists(atPath: file.path) else { throw CairnError(.invalidInput, "There is no file at \(file.path).") }
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        return try await add(Self.chunks(of: handle), named: file.lastPathComponent, to: id, by: principal)
    }

    /// The file's bytes in 64 KiB chunks, read as the consumer asks for more, so a file is never
    /// held whole.
    static func chunks(of handle: FileHandle) -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream {
            guard let data = try handle.read(upToCount: 1 << 16), !data.isEmpty else { return nil }
            return [UInt8](data)
        }
    }
}
