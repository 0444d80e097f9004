public import CairnCore
import Crypto
import Dispatch
public import Foundation

/// sentence-transformers/all-MiniLM-L6-v2, run in process: WordPiece, the BERT encoder over
/// OpenBLAS, mean pooling, L2 normalisation; 384-dimensional vectors whose dot product is
/// their cosine similarity.
///
/// Inputs longer than 256 word pieces are truncated to their first 254, as sentence-transformers
/// does; ``wordPieceCount(_:)`` tells a chunker how long a text is in that measure.
///
/// Inference runs on a serial dispatch queue, not on the Swift concurrency pool. A batch keeps
/// every core busy for a quarter of a second or more, and the cooperative pool has only one
/// thread per core: blocking them would stall every other task of the server for that long.
/// One queue serves every instance, because a batch already uses every core and sets OpenBLAS's
/// process-wide thread count while it runs; batches side by side would only contend.
public struct LocalSentenceEmbedder: SentenceEmbedder {
    /// SHA-256 of the `model.safetensors` this code was checked against.
    public static let modelSHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    /// SHA-256 of the matching `vocab.txt`.
    public static let vocabularySHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"

    public let modelName = "sentence-transformers/all-MiniLM-L6-v2"
    public let dimension = MiniLMEncoder.dimension
    /// The most ids one text is encoded to, `[CLS]` and `[SEP]` included (the model's `max_seq_length`).
    public static let maximumSequenceLength = 256
    /// The tokenizer that feeds the encoder.
    public let tokenizer: WordPieceTokenizer
    /// The network itself.
    public let encoder: MiniLMEncoder

    /// Tokens per batch: enough rows for the matrix products to run near the BLAS library's
    /// peak, few enough that the batch's activations (15 KB per token) stay near the size of a
    /// server's last-level cache. Measured best among 1,024, 2,048 and 4,096 on two cores.
    public static let tokensPerBatch = 2048

    private static let inferenceQueue = DispatchQueue(label: "cairn.embed.inference", qos: .userInitiated)

    /// Loads `model.safetensors` and `vocab.txt` from `modelDirectory` after checking both
    /// against their pinned SHA-256 digests.
    ///
    /// Reads about 90 MB and takes a fraction of a second; meant for start-up.
    public init(modelDirectory: URL) throws(CairnError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelDirectory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CairnError(
                .misconfigured,
                "The embedding model directory does not exist.",
                underlying: CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: modelDirectory.path])
            )
        }
        let weightsURL = modelDirectory.appendingPathComponent("model.safetensors")
        let vocabularyURL = modelDirectory.appendingPathComponent("vocab.txt")
        try Self.verify(weightsURL, sha256: Self.modelSHA256)
        try Self.verify(vocabularyURL, sha256: Self.vocabularySHA256)
        tokenizer = try WordPieceTokenizer(vocabularyFile: vocabularyURL)
        encoder = try MiniLMEncoder(weights: SafeTensorsFile(contentsOf: weightsURL))
        guard tokenizer.vocabularySize == encoder.vocabularySize else {
            throw CairnError(.misconfigured, "vocab.txt and model.safetensors do not belong to the same model.")
        }
    }

    /// One unit vector per text, in order.
    ///
    /// The texts are tokenized, then embedded in batches of about ``tokensPerBatch`` tokens;
    /// cancellation is honoured between batches.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let sequences = try await onInferenceQueue { [tokenizer] in
            texts.map { tokenizer.encode($0, maxLength: Self.maximumSequenceLength) }
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var start = 0
        while start < sequences.count {
            var end = start
            var tokens = 0
            while end < sequences.count, end == start || tokens + sequences[end].count <= Self.tokensPerBatch {
                tokens += sequences[end].count
                end += 1
            }
            let batch = Array(sequences[start..<end])
            vectors += try await onInferenceQueue { [encoder] () throws(CairnError) in try encoder.embed(batch) }
            start = end
        }
        return vectors
    }

    /// How many word pieces `text` has, before truncation and without `[CLS]` and `[SEP]`; a
    /// text of up to `maximumSequenceLength - 2` (254) pieces is embedded whole.
    public func wordPieceCount(_ text: String) -> Int {
        tokenizer.wordPieceCount(text)
    }

    /// Runs `work` on the inference queue, unless the task is already cancelled.
    package func onInferenceQueue<Value: Sendable>(_ work: @escaping @Sendable () throws(CairnError) -> Value) async throws -> Value {
        try Task.checkCancellation()
        return try await withCheckedThrowingContinuation { continuation in
            Self.inferenceQueue.async { continuation.resume(with: Result(catching: work)) }
        }
    }

    /// Hashes the file at `url` in 4 MiB chunks and compares it with `sha256`.
    private static func verify(_ url: URL, sha256 expected: String) throws(CairnError) {
        let name = url.lastPathComponent
        var hasher = SHA256()
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            throw CairnError(.misconfigured, "The embedding model directory has no readable \(name).", underlying: error)
        }
        let digest = hasher.finalize().hexString
        guard digest == expected else {
            throw CairnError(.misconfigured, "\(name) is not the pinned all-MiniLM-L6-v2 file (its SHA-256 differs); download the model again.")
        }
    }
}
