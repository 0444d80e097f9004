public import CairnCore
import Crypto
public import Foundation
import Synchronization

/// An embedder that keeps every vector it computes on disk, keyed by model and text hash, so
/// evaluating the same corpus again costs no inference.
///
/// One append-only file per model: records of the text's SHA-256 (32 bytes) followed by its
/// vector (little-endian float32). A torn last record, from a run killed mid-write, is ignored.
public final class CachedSentenceEmbedder: SentenceEmbedder {
    public let base: any SentenceEmbedder
    public var modelName: String { base.modelName }
    public var dimension: Int { base.dimension }
    private let file: URL
    private let vectors: Mutex<[Data: [Float]]>

    public init(_ base: any SentenceEmbedder, directory: URL) throws(CairnError) {
        self.base = base
        let name = SHA256.hash(data: Data(base.modelName.utf8)).hexString.prefix(16)
        file = directory.appendingPathComponent("embeddings-\(name).bin")
        var loaded: [Data: [Float]] = [:]
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            if let data = try? Data(contentsOf: file) {
                let recordSize = 32 + base.dimension * 4
                for start in stride(from: 0, to: data.count - recordSize + 1, by: recordSize) {
                    let key = data.subdata(in: start..<start + 32)
                    let vector = data.subdata(in: start + 32..<start + recordSize).withUnsafeBytes { raw in
                        (0..<base.dimension).map {
                            Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                        }
                    }
                    loaded[key] = vector
                }
            }
        } catch {
            throw CairnError(.misconfigured, "The embedding cache at \(directory.path) cannot be created.", underlying: error)
        }
        vectors = Mutex(loaded)
    }

    /// How many vectors the cache holds.
    public var count: Int { vectors.withLock { $0.count } }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let keys = texts.map { Data(SHA256.hash(data: Data($0.utf8))) }
        let known = vectors.withLock { cache in keys.map { cache[$0] } }
        let missing = texts.indices.filter { known[$0] == nil }
        var computed: [Int: [Float]] = [:]
        if !missing.isEmpty {
            let fresh = try await base.embed(missing.map { texts[$0] })
            var records = Data()
            for (index, vector) in zip(missing, fresh) {
                computed[index] = vector
                records.append(keys[index])
                for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { records.append(contentsOf: $0) } }
            }
            try append(records)
            vectors.withLock { cache in for (index, vector) in computed { cache[keys[index]] = vector } }
        }
        return texts.indices.map { known[$0] ?? computed[$0]! }
    }

    private func append(_ records: Data) throws {
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: records)
    }
}
