import CBLAS
public import CairnCore
import Dispatch

/// all-MiniLM-L6-v2's network: a 6-layer BERT encoder (hidden size 384, 12 heads of 32,
/// feed-forward 1536, exact-erf GELU, LayerNorm epsilon 1e-12), mean pooling over every
/// token including `[CLS]` and `[SEP]`, and L2 normalisation, as sentence-transformers runs it.
///
/// A batch is split into one part per core, and each part is packed: its sequences lie end to
/// end, one row per token, with no padding. Every linear layer is then one `cblas_sgemm` over
/// all the part's tokens, and attention runs per sequence and head (two `cblas_sgemm`s and a
/// softmax) over that sequence's own tokens. That is what a padded batch's attention mask
/// computes, since masked keys get a probability of exactly 0, without computing the padding.
public struct MiniLMEncoder: Sendable {
    /// Length of an embedding.
    public static let dimension = 384
    /// Positions the model has embeddings for: the most ids one sequence can have.
    public static let maximumSequenceLength = 512

    package static let layerCount = 6
    package static let headCount = 12
    package static let headSize = 32
    package static let intermediateSize = 1536

    /// Rows of the word-embedding table: token ids must be below this.
    public let vocabularySize: Int
    /// Every parameter the forward pass uses, back to back; `layout` says where each lies.
    private let parameters: [Float]
    private let layout: Layout

    /// Reads the weights from `weights` (names as in all-MiniLM-L6-v2's `model.safetensors`,
    /// without a `bert.` prefix), checking each tensor's type and shape.
    public init(weights: SafeTensorsFile) throws(CairnError) {
        let hidden = Self.dimension
        guard let vocabularySize = weights.tensors["embeddings.word_embeddings.weight"]?.shape.first else {
            throw CairnError(.misconfigured, "The model weights have no word embeddings.")
        }
        var parameters: [Float] = []
        parameters.reserveCapacity(22_600_000)  // the 22,565,376 used, and the unused token-type row
        func append(_ names: [String], shape: [Int]) throws(CairnError) -> Int {
            let offset = parameters.count
            for name in names { parameters += try weights.floats(named: name, shape: shape) }
            return offset
        }
        func append(_ name: String, shape: [Int]) throws(CairnError) -> Int { try append([name], shape: shape) }

        let wordEmbeddings = try append("embeddings.word_embeddings.weight", shape: [vocabularySize, hidden])
        let positionEmbeddings = try append("embeddings.position_embeddings.weight", shape: [Self.maximumSequenceLength, hidden])
        // Every token has type 0; row 1 is never used.
        let tokenType = try append("embeddings.token_type_embeddings.weight", shape: [2, hidden])
        let embeddingNorm = Norm(
            weight: try append("embeddings.LayerNorm.weight", shape: [hidden]),
            bias: try append("embeddings.LayerNorm.bias", shape: [hidden])
        )
        var layers: [Layout.Layer] = []
        for index in 0..<Self.layerCount {
            let prefix = "encoder.layer.\(index)."
            let projections = ["query", "key", "value"].map { prefix + "attention.self.\($0)" }
            layers.append(
                Layout.Layer(
                    // Query, key and value stacked into one [1152, 384] weight: one product for all three.
                    queryKeyValueWeight: try append(projections.map { $0 + ".weight" }, shape: [hidden, hidden]),
                    queryKeyValueBias: try append(projections.map { $0 + ".bias" }, shape: [hidden]),
                    attentionOutputWeight: try append(prefix + "attention.output.dense.weight", shape: [hidden, hidden]),
                    attentionOutputBias: try append(prefix + "attention.output.dense.bias", shape: [hidden]),
                    attentionNorm: Norm(
                        weight: try append(prefix + "attention.output.LayerNorm.weight", shape: [hidden]),
                        bias: try append(prefix + "attention.output.LayerNorm.bias", shape: [hidden])
                    ),
                    intermediateWeight: try append(prefix + "intermediate.dense.weight", shape: [Self.intermediateSize, hidden]),
                    intermediateBias: try append(prefix + "intermediate.dense.bias", shape: [Self.intermediateSize]),
                    outputWeight: try append(prefix + "output.dense.weight", shape: [hidden, Self.intermediateSize]),
                    outputBias: try append(prefix + "output.dense.bias", shape: [hidden]),
                    outputNorm: Norm(
                        weight: try append(prefix + "output.LayerNorm.weight", shape: [hidden]),
                        bias: try append(prefix + "output.LayerNorm.bias", shape: [hidden])
                    )
                )
            )
        }
        self.vocabularySize = vocabularySize
        self.parameters = parameters
        layout = Layout(
            wordEmbeddings: wordEmbeddings,
            positionEmbeddings: positionEmbeddings,
            tokenType: tokenType,
            embeddingNorm: embeddingNorm,
            layers: layers
        )
    }

    /// The normalised embedding of each sequence of token ids (each `[CLS] … [SEP]`, as
    /// ``WordPieceTokenizer/encode(_:maxLength:)`` makes them), computed as one batch.
    ///
    /// CPU-bound, on every core: about 23 MFLOP per token. It sets OpenBLAS's process-wide
    /// thread count while it runs, so calls must not overlap (``LocalSentenceEmbedder`` runs
    /// them on one serial queue).
    public func embed(_ sequences: [[Int32]]) throws(CairnError) -> [[Float]] {
        for sequence in sequences {
            guard (1...Self.maximumSequenceLength).contains(sequence.count) else {
                throw CairnError(.invalidInput, "A sequence to embed must have between 1 and \(Self.maximumSequenceLength) token ids.")
            }
            guard sequence.allSatisfy({ $0 >= 0 && Int($0) < vocabularySize }) else {
                throw CairnError(.invalidInput, "A token id to embed is outside the model's vocabulary.")
            }
        }
        guard !sequences.isEmpty else { return [] }
        let parts = Self.partition(sequences, into: EncoderKernels.blasThreads)
        var embeddings = [Float](repeating: 0, count: sequences.count * Self.dimension)
        parameters.withUnsafeBufferPointer { parameters in
            embeddings.withUnsafeMutableBufferPointer { embeddings in
                // Safe to share between the parts: the parameters are only read, and each part
                // writes only its own sequences' rows of `embeddings`.
                nonisolated(unsafe) let parameters = parameters.baseAddress!
                nonisolated(unsafe) let embeddings = embeddings.baseAddress!
                EncoderKernels.onEachCore(parts.count) { part in
                    let range = parts[part]
                    forward(sequences[range], parameters: parameters, embeddings: embeddings + range.lowerBound * Self.dimension)
                }
            }
        }
        return (0..<sequences.count).map { Array(embeddings[$0 * Self.dimension..<($0 + 1) * Self.dimension]) }
    }

    /// Splits `sequences` into at most `count` consecutive runs of about equal work.
    private static func partition(_ sequences: [[Int32]], into count: Int) -> [Range<Int>] {
        // Linear layers cost 3,538,944 FLOP per token and layer, attention 1,536 per token per
        // token of the sequence: L·(1 + L/2304) in units of a token's linear work.
        let costs = sequences.map { Double($0.count) * (1 + Double($0.count) / 2304) }
        let share = costs.reduce(0, +) / Double(max(count, 1))
        var parts: [Range<Int>] = []
        var start = 0
        var accumulated = 0.0
        for (index, cost) in costs.enumerated() {
            accumulated += cost
            if accumulated >= share * Double(parts.count + 1) - cost / 2, parts.count < count - 1 {
                parts.append(start..<index + 1)
                start = index + 1
            }
        }
        if start < sequences.count { parts.append(start..<sequences.count) }
        return parts
    }

    /// Runs the network over `sequences` and writes their embeddings to `embeddings`, one row of
    /// `dimension` floats each.
    private func forward(_ sequences: ArraySlice<[Int32]>, parameters: UnsafePointer<Float>, embeddings: UnsafeMutablePointer<Float>) {
        let hidden = Self.dimension
        let queryKeyValueWidth = 3 * hidden
        var starts: [Int] = []
        var rows = 0
        for sequence in sequences {
            starts.append(rows)
            rows += sequence.count
        }
        let longest = sequences.map(\.count).max()!

        // One allocation for the whole batch, reused by every layer.
        let workspace = Workspace(rows: rows, longest: longest)
        defer { workspace.deallocate() }
        let x = workspace.hidden
        let attended = workspace.attended

        // Embeddings: word + position + token type 0, then LayerNorm.
        for (index, sequence) in sequences.enumerated() {
            for (position, id) in sequence.enumerated() {
                let out = x + (starts[index] + position) * hidden
                let word = parameters + layout.wordEmbeddings + Int(id) * hidden
                let place = parameters + layout.positionEmbeddings + position * hidden
                let type = parameters + layout.tokenType
                for column in 0..<hidden { out[column] = word[column] + place[column] + type[column] }
            }
        }
        EncoderKernels.layerNorm(
            x,
            rows: rows,
            width: hidden,
            weight: parameters + layout.embeddingNorm.weight,
            bias: parameters + layout.embeddingNorm.bias
        )

        let scale = 1 / Float(Self.headSize).squareRoot()
        let intermediateSize = Self.intermediateSize
        let qkv = workspace.queryKeyValue
        let context = workspace.context
        let intermediate = workspace.intermediate
        for layer in layout.layers {
            // Query, key and value for every token: x·Wᵀ + b, one [rows, 1152] product.
            EncoderKernels.setRows(qkv, rows: rows, width: queryKeyValueWidth, to: nil, plus: parameters + layer.queryKeyValueBias)
            EncoderKernels.linear(
                x,
                rows: rows,
                weight: parameters + layer.queryKeyValueWeight,
                outputs: queryKeyValueWidth,
                inputs: hidden,
                into: qkv,
                accumulate: true
            )

            // Attention per sequence and head: softmax(Q·Kᵀ/√32)·V over the sequence's own tokens.
            for (index, sequence) in sequences.enumerated() {
                let length = sequence.count
                for head in 0..<Self.headCount {
                    let query = qkv + starts[index] * queryKeyValueWidth + head * Self.headSize
                    let (key, value) = (query + hidden, query + 2 * hidden)
                    let scores = workspace.scores
                    EncoderKernels.multiply(
                        m: length,
                        n: length,
                        k: Self.headSize,
                        alpha: scale,
                        query,
                        lda: queryKeyValueWidth,
                        key,
                        ldb: queryKeyValueWidth,
                        transposeB: true,
                        beta: 0,
                        scores,
                        ldc: length
                    )
                    EncoderKernels.softmax(scores, rows: length, width: length)
                    EncoderKernels.multiply(
                        m: length,
                        n: Self.headSize,
                        k: length,
                        scores,
                        lda: length,
                        value,
                        ldb: queryKeyValueWidth,
                        transposeB: false,
                        beta: 0,
                        context + starts[index] * hidden + head * Self.headSize,
                        ldc: hidden
                    )
                }
            }

            // attended = LayerNorm(context·Woᵀ + bo + x)
            EncoderKernels.setRows(attended, rows: rows, width: hidden, to: x, plus: parameters + layer.attentionOutputBias)
            EncoderKernels.linear(
                context,
                rows: rows,
                weight: parameters + layer.attentionOutputWeight,
                outputs: hidden,
                inputs: hidden,
                into: attended,
                accumulate: true
            )
            EncoderKernels.layerNorm(
                attended,
                rows: rows,
                width: hidden,
                weight: parameters + layer.attentionNorm.weight,
                bias: parameters + layer.attentionNorm.bias
            )

            // intermediate = GELU(attended·W1ᵀ + b1)
            EncoderKernels.linear(
                attended,
                rows: rows,
                weight: parameters + layer.intermediateWeight,
                outputs: intermediateSize,
                inputs: hidden,
                into: intermediate,
                accumulate: false
            )
            EncoderKernels.biasGELU(intermediate, rows: rows, width: intermediateSize, bias: parameters + layer.intermediateBias)

            // x = LayerNorm(intermediate·W2ᵀ + b2 + attended)
            EncoderKernels.setRows(x, rows: rows, width: hidden, to: attended, plus: parameters + layer.outputBias)
            EncoderKernels.linear(
                intermediate,
                rows: rows,
                weight: parameters + layer.outputWeight,
                outputs: hidden,
                inputs: intermediateSize,
                into: x,
                accumulate: true
            )
            EncoderKernels.layerNorm(
                x,
                rows: rows,
                width: hidden,
                weight: parameters + layer.outputNorm.weight,
                bias: parameters + layer.outputNorm.bias
            )
        }

        // Mean over each sequence's tokens, then L2 normalisation.
        for (index, sequence) in sequences.enumerated() {
            let pooled = embeddings + index * hidden
            pooled.update(repeating: 0, count: hidden)
            for row in starts[index]..<starts[index] + sequence.count {
                let values = x + row * hidden
                for column in 0..<hidden { pooled[column] += values[column] }
            }
            let count = Float(sequence.count)
            for column in 0..<hidden { pooled[column] /= count }
            let norm = EncoderKernels.sumOfSquares(pooled, count: hidden).squareRoot()
            let scale = 1 / Swift.max(norm, 1e-12)
            for column in 0..<hidden { pooled[column] *= scale }
        }
    }

    /// Offsets into `parameters`.
    private struct Layout: Sendable {
        struct Layer: Sendable {
            var queryKeyValueWeight: Int
            var queryKeyValueBias: Int
            var attentionOutputWeight: Int
            var attentionOutputBias: Int
            var attentionNorm: Norm
            var intermediateWeight: Int
            var intermediateBias: Int
            var outputWeight: Int
            var outputBias: Int
            var outputNorm: Norm
        }

        var wordEmbeddings: Int
        var positionEmbeddings: Int
        var tokenType: Int
        var embeddingNorm: Norm
        var layers: [Layer]
    }

    /// Offsets of a LayerNorm's weight and bias.
    private struct Norm: Sendable {
        var weight: Int
        var bias: Int
    }

    /// The activations of one batch of `rows` tokens.
    private struct Workspace {
        let hidden: UnsafeMutablePointer<Float>
        let attended: UnsafeMutablePointer<Float>
        let context: UnsafeMutablePointer<Float>
        let queryKeyValue: UnsafeMutablePointer<Float>
        let intermediate: UnsafeMutablePointer<Float>
        let scores: UnsafeMutablePointer<Float>

        init(rows: Int, longest: Int) {
            let hiddenSize = rows * MiniLMEncoder.dimension
            let sizes = [hiddenSize, hiddenSize, hiddenSize, 3 * hiddenSize, rows * MiniLMEncoder.intermediateSize, longest * longest]
            // Each block starts on a 64-byte boundary, as the BLAS kernels prefer.
            let padded = sizes.map { ($0 + 15) / 16 * 16 }
            let base = UnsafeMutableRawPointer.allocate(byteCount: padded.reduce(0, +) * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: padded.reduce(0, +))
            var offsets: [Int] = []
            var offset = 0
            for size in padded {
                offsets.append(offset)
                offset += size
            }
            hidden = base + offsets[0]
            attended = base + offsets[1]
            context = base + offsets[2]
            queryKeyValue = base + offsets[3]
            intermediate = base + offsets[4]
            scores = base + offsets[5]
        }

        func deallocate() { UnsafeMutableRawPointer(hidden).deallocate() }
    }
}
