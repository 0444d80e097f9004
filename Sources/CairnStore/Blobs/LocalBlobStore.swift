import CairnCore
import Crypto
public import Foundation

/// Blobs in a directory: `sha256/ab/cd/abcd…` under `root`, written through `incoming/`.
///
/// An upload is written to a file of its own in `incoming/` while it is hashed, flushed to disk,
/// then renamed into place: a reader never sees a partial blob, and a crash leaves at most a
/// stray file in `incoming/` (removed the next time the store opens). Of two concurrent uploads of
/// the same bytes one moves its file into place and the other drops its copy.
///
/// Writes go through `FileHandle` on the calling task: each chunk lands in the page cache in
/// microseconds, and the one slow call, the flush before the rename, happens once per blob.
public struct LocalBlobStore: BlobStore {
    public let root: URL

    /// Opens (creating if needed) a store under `root` and clears uploads a crash left behind.
    public init(root: URL) throws {
        self.root = root
        let incoming = root.appendingPathComponent("incoming")
        do {
            try? FileManager.default.removeItem(at: incoming)
            try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: root.appendingPathComponent("sha256"), withIntermediateDirectories: true)
        } catch {
            throw CairnError(.misconfigured, "The blob directory \(root.path) cannot be created.", underlying: error)
        }
    }

    public func put<Chunks: AsyncSequence>(_ chunks: Chunks, maximumBytes: Int) async throws -> StoredBlob where Chunks.Element == [UInt8] {
        let temporary = root.appendingPathComponent("incoming/\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CairnError(.unavailable, "The blob store cannot write to \(root.path).")
        }
        var placed = false
        defer { if !placed { try? FileManager.default.removeItem(at: temporary) } }
        let handle = try FileHandle(forWritingTo: temporary)
        var hasher = SHA256()
        var size = 0
        do {
            defer { try? handle.close() }
            for try await chunk in chunks {
                size += chunk.count
                guard size <= maximumBytes else {
                    throw CairnError(.tooLarge, "The upload exceeds the \(maximumBytes)-byte file limit.")
                }
                hasher.update(data: chunk)
                try handle.write(contentsOf: chunk)
            }
            try handle.synchronize()
        }
        let digest = BlobDigest(hasher.finalize().hexString)!
        let destination = url(of: digest)
        if FileManager.default.fileExists(atPath: destination.path) {
            return StoredBlob(digest: digest, size: size, isNew: false)
        }
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.moveItem(at: temporary, to: destination)
        } catch  where FileManager.default.fileExists(atPath: destination.path) {
            // A concurrent upload of the same bytes got there first.
            return StoredBlob(digest: digest, size: size, isNew: false)
        } catch {
            throw CairnError(.unavailable, "The blob store cannot write to \(root.path).", underlying: error)
        }
        placed = true
        return StoredBlob(digest: digest, size: size, isNew: true)
    }

    public func contains(_ digest: BlobDigest) async throws -> Bool {
        FileManager.default.fileExists(atPath: url(of: digest).path)
    }

    public func withLocalFile<Result: Sendable>(_ digest: BlobDigest, _ body: (URL) async throws -> Result) async throws -> Result {
        let file = url(of: digest)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw CairnError(.notFound, "The blob \(digest) is not stored.")
        }
        return try await body(file)
    }

    public func delete(_ digest: BlobDigest) async throws {
        do {
            try FileManager.default.removeItem(at: url(of: digest))
        } catch CocoaError.fileNoSuchFile {
            return
        }
    }

    private func url(of digest: BlobDigest) -> URL {
        let hex = digest.hex
        return root.appendingPathComponent("sha256/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)")
    }
}
