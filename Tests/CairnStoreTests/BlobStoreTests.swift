import CairnCore
import CairnStore
import Crypto
import Foundation
import Testing

@Suite("Blob store")
struct BlobStoreTests {
    /// A fresh store in a temporary directory, removed afterwards.
    func withStore(_ body: (LocalBlobStore, URL) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try await body(try LocalBlobStore(root: root), root)
    }

    /// `count` chunks of `size` bytes, each filled with its index, produced one at a time.
    func chunks(_ count: Int, of size: Int, failingAt failure: Int? = nil) -> Chunks {
        Chunks(count: count, size: size, failure: failure)
    }

    struct Chunks: AsyncSequence {
        let count: Int
        let size: Int
        let failure: Int?

        struct AsyncIterator: AsyncIteratorProtocol {
            let chunks: Chunks
            var index = 0

            mutating func next() async throws -> [UInt8]? {
                defer { index += 1 }
                if index == chunks.failure { throw CairnError(.unavailable, "The client went away.") }
                return index < chunks.count ? [UInt8](repeating: UInt8(index % 256), count: chunks.size) : nil
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
    }

    /// Files under `root`'s `sha256/` and `incoming/`.
    func files(in root: URL) -> (stored: Int, incoming: Int) {
        func count(_ folder: String) -> Int {
            (FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: [.isRegularFileKey])?
                .compactMap { ($0 as? URL).flatMap { try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile } }
                .filter { $0 }.count) ?? 0
        }
        return (count("sha256"), count("incoming"))
    }

    @Test("A streamed upload is named by its SHA-256; the same bytes again are stored once")
    func contentAddressed() async throws {
        try await withStore { store, root in
            let first = try await store.put(chunks(40, of: 65_536), maximumBytes: 10 << 20)
            var expected = SHA256()
            for index in 0..<40 { expected.update(data: [UInt8](repeating: UInt8(index), count: 65_536)) }
            #expect(first.digest.hex == expected.finalize().map { String(format: "%02x", $0) }.joined())
            #expect(first.size == 40 * 65_536 && first.isNew)
            let again = try await store.put(chunks(40, of: 65_536), maximumBytes: 10 << 20)
            #expect(again == StoredBlob(digest: first.digest, size: first.size, isNew: false))
            #expect(files(in: root) == (1, 0))
            let read = try await store.withLocalFile(first.digest) { try Data(contentsOf: $0) }
            #expect(read.count == first.size && read.prefix(3) == Data([0, 0, 0]) && read.suffix(1) == Data([39]))
        }
    }

    @Test("An upload past the limit, or one whose stream fails, leaves nothing behind")
    func failedUploads() async throws {
        try await withStore { store, root in
            do {
                _ = try await store.put(chunks(20, of: 1_000), maximumBytes: 10_000)
                Issue.record("20,000 bytes passed a 10,000-byte limit")
            } catch let error as CairnError {
                #expect(error.code == .tooLarge)
                #expect(error.message == "The upload exceeds the 10000-byte file limit.")
            }
            await #expect(throws: CairnError.self) { try await store.put(chunks(20, of: 1_000, failingAt: 7), maximumBytes: 1 << 20) }
            #expect(files(in: root) == (0, 0))
            let exact = try await store.put(chunks(10, of: 1_000), maximumBytes: 10_000)
            #expect(exact.size == 10_000, "exactly the limit is allowed")
        }
    }

    @Test("A deleted blob is gone; reading a missing one is not-found; a crash's leftovers are cleared on open")
    func deleteAndRecover() async throws {
        try await withStore { store, root in
            let blob = try await store.put(chunks(1, of: 10), maximumBytes: 100)
            #expect(try await store.contains(blob.digest))
            try await store.delete(blob.digest)
            try await store.delete(blob.digest)
            #expect(try await !store.contains(blob.digest))
            do {
                _ = try await store.withLocalFile(blob.digest) { $0 }
                Issue.record("a deleted blob was read")
            } catch let error as CairnError {
                #expect(error.code == .notFound)
            }
            #expect(FileManager.default.createFile(atPath: root.appendingPathComponent("incoming/half-written").path, contents: Data([1, 2, 3])))
            _ = try LocalBlobStore(root: root)
            #expect(files(in: root) == (0, 0))
        }
        #expect(BlobDigest(String(repeating: "a", count: 64)) != nil)
        #expect(BlobDigest(String(repeating: "A", count: 64)) == nil)
        #expect(BlobDigest("../../etc/passwd") == nil)
    }
}
