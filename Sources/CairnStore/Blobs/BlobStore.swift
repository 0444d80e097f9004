import CairnCore
public import Foundation

/// Where uploaded files live: content-addressed, so a blob's name is the SHA-256 of its bytes,
/// identical uploads are stored once, and a stored blob can be checked against its name.
///
/// `LocalBlobStore` (a directory) is the embedded default; an S3 store will implement the same
/// contract.
public protocol BlobStore: Sendable {
    /// Streams `chunks` into the store and names them by their digest.
    ///
    /// Nothing is kept when the stream fails, is cancelled or passes `maximumBytes` (then the
    /// error is `tooLarge`); the bytes are never held in memory as a whole.
    func put<Chunks: AsyncSequence>(_ chunks: Chunks, maximumBytes: Int) async throws -> StoredBlob where Chunks.Element == [UInt8]

    func contains(_ digest: BlobDigest) async throws -> Bool

    /// Runs `body` with the blob as a file on this machine (the parsers read files): the stored
    /// file itself for a local store, a temporary copy for a remote one.
    func withLocalFile<Result: Sendable>(_ digest: BlobDigest, _ body: (URL) async throws -> Result) async throws -> Result

    /// Removes the blob; removing one that is not there is not an error.
    func delete(_ digest: BlobDigest) async throws
}

/// The SHA-256 of a blob's bytes, as 64 lowercase hex digits.
public struct BlobDigest: Hashable, Sendable, CustomStringConvertible, Codable {
    public let hex: String

    /// Accepts exactly 64 lowercase hex digits; anything else is not a digest.
    public init?(_ hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        self.hex = hex
    }

    public var description: String { hex }
}

/// A blob as stored.
public struct StoredBlob: Sendable, Equatable {
    public let digest: BlobDigest
    public let size: Int
    /// `false` when the store already held these bytes.
    public let isNew: Bool

    public init(digest: BlobDigest, size: Int, isNew: Bool) {
        self.digest = digest
        self.size = size
        self.isNew = isNew
    }
}
