import CBLAS
import CairnCore
public import CairnEmbed

/// `cairn bench embed`: all-MiniLM-L6-v2's throughput, against what the BLAS library can do.
///
/// The anchor ("the ceiling") is `cblas_sgemm` alone, timed on the four matrix products of an
/// encoder layer at the row count the embedder batches ([T × 384]·[384 × 1152] for query, key
/// and value, [T × 384]·[384 × 384], [T × 384]·[384 × 1536], [T × 1536]·[1536 × 384], with T
/// tokens per batch), both threaded by BLAS and split into one single-threaded product per core
/// as the encoder runs a batch; the faster counts. Linear layers are about 95% of the model's
/// arithmetic, so the forward pass can at best approach that rate; the ratio says how much
/// attention, the row-wise steps and tokenization leave on the table.
public struct EmbeddingBenchmark: Sendable {
    /// The figures of one run.
    public struct Result: Sendable {
        /// `cblas_sgemm` at the model's linear-layer shapes, in GFLOP/s: the ceiling.
        public var ceilingGFLOPS: Double
        /// Texts embedded, and their tokens (`[CLS]` and `[SEP]` included, after truncation).
        public var texts: Int
        public var tokens: Int
        /// Wall-clock time of embedding them, tokenization included.
        public var seconds: Double
        /// Floating-point operations the forward pass of those tokens performs, counted from its
        /// matrix products (a multiply-add is 2); about 22.4 MFLOP per token at length 128.
        public var modelFLOPs: Double

        public var tokensPerSecond: Double { Double(tokens) / seconds }
        /// The arithmetic rate the throughput implies, in GFLOP/s.
        public var modelGFLOPS: Double { modelFLOPs / seconds / 1e9 }
        /// The share of the ceiling reached.
        public var ratioToCeiling: Double { modelGFLOPS / ceilingGFLOPS }
    }

    public let embedder: LocalSentenceEmbedder

    public init(embedder: LocalSentenceEmbedder) {
        self.embedder = embedder
    }

    /// Measures the ceiling, then embeds `texts` `passes` times after a warm-up with the first
    /// of them.
    ///
    /// Both figures are the best of several tries (the ceiling's over five windows of
    /// `ceilingWindow` for each way of threading), so that other work on the machine, which
    /// only ever slows a try down, skews neither.
    public func run(texts: [String], passes: Int = 3, ceilingWindow: Duration = .milliseconds(400)) async throws -> Result {
        guard !texts.isEmpty else { throw CairnError(.invalidInput, "The embedding benchmark needs at least one text.") }
        let ceiling = try await embedder.onInferenceQueue {
            Self.sgemmGFLOPS(rows: LocalSentenceEmbedder.tokensPerBatch, windows: 5, window: ceilingWindow)
        }
        let lengths = texts.map { embedder.tokenizer.encode($0, maxLength: LocalSentenceEmbedder.maximumSequenceLength).count }
        _ = try await embedder.embed(Array(texts.prefix(1)))
        var fastest = Duration.seconds(Int64.max)
        for _ in 0..<max(passes, 1) {
            let started = ContinuousClock.now
            _ = try await embedder.embed(texts)
            fastest = min(fastest, ContinuousClock.now - started)
        }
        return Result(
            ceilingGFLOPS: ceiling,
            texts: texts.count,
            tokens: lengths.reduce(0, +),
            seconds: fastest.inSeconds,
            modelFLOPs: lengths.reduce(0) { $0 + Self.forwardFLOPs(sequenceLength: $1) }
        )
    }

    /// Floating-point operations of the forward pass over one sequence of `length` ids: per
    /// layer, its linear layers (2·length·(4·384² + 2·384·1536)) and attention's two products
    /// per head (2·2·length²·32, 12 heads).
    public static func forwardFLOPs(sequenceLength length: Int) -> Double {
        let hidden = Double(MiniLMEncoder.dimension)
        let intermediate = Double(MiniLMEncoder.intermediateSize)
        let tokens = Double(length)
        let linear = 2 * tokens * (4 * hidden * hidden + 2 * hidden * intermediate)
        let attention = 2 * 2 * tokens * tokens * Double(MiniLMEncoder.headSize * MiniLMEncoder.headCount)
        return Double(MiniLMEncoder.layerCount) * (linear + attention)
    }

    /// `cblas_sgemm`'s rate, in GFLOP/s, on one encoder layer's linear products over `rows`
    /// tokens: the best of `windows` windows of at least `window`, over both ways the encoder
    /// uses BLAS (threaded by BLAS over all rows, and one single-threaded product per core on
    /// its share of the rows).
    static func sgemmGFLOPS(rows: Int, windows: Int, window: Duration) -> Double {
        let hidden = MiniLMEncoder.dimension
        let intermediate = MiniLMEncoder.intermediateSize
        // (output width, input width) of each product, as in MiniLMEncoder's layer.
        let shapes = [(3 * hidden, hidden), (hidden, hidden), (intermediate, hidden), (hidden, intermediate)]
        let input = [Float](repeating: 0.5, count: rows * intermediate)
        let weight = [Float](repeating: 0.01, count: intermediate * hidden)
        var output = [Float](repeating: 0, count: rows * intermediate)
        let flopsPerRound = shapes.reduce(0.0) { $0 + 2 * Double(rows) * Double($1.0) * Double($1.1) }
        return input.withUnsafeBufferPointer { input in
            weight.withUnsafeBufferPointer { weight in
                output.withUnsafeMutableBufferPointer { output in
                    // Shared read-only (input, weight) or written in disjoint rows (output).
                    nonisolated(unsafe) let (input, weight, output) = (input.baseAddress!, weight.baseAddress!, output.baseAddress!)
                    func round(parts: Int) {
                        EncoderKernels.onEachCore(parts) { part in
                            let (first, end) = (rows * part / parts, rows * (part + 1) / parts)
                            for (outputs, inputs) in shapes {
                                EncoderKernels.linear(
                                    input + first * inputs,
                                    rows: end - first,
                                    weight: weight,
                                    outputs: outputs,
                                    inputs: inputs,
                                    into: output + first * outputs,
                                    accumulate: false
                                )
                            }
                        }
                    }
                    var best = 0.0
                    for parts in [1, EncoderKernels.blasThreads] {
                        round(parts: parts)
                        for _ in 0..<windows {
                            let started = ContinuousClock.now
                            var rounds = 0
                            repeat {
                                round(parts: parts)
                                rounds += 1
                            } while ContinuousClock.now - started < window
                            best = max(best, flopsPerRound * Double(rounds) / (ContinuousClock.now - started).inSeconds / 1e9)
                        }
                    }
                    return best
                }
            }
        }
    }
}
