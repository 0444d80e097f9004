import CBLAS
import Dispatch

/// The encoder's arithmetic over row-major float matrices: matrix products through CBLAS,
/// and the row-wise steps between them as plain loops over raw pointers, which the optimiser
/// vectorises (no bounds checks, no calls in the loop bodies).
package enum EncoderKernels {
    /// The threads BLAS is configured with (`OPENBLAS_NUM_THREADS`, by default one per core),
    /// read before ``onEachCore(_:_:)`` first changes the setting.
    package static let blasThreads = Int(openblas_get_num_threads())

    /// Runs `body(part)` for each of `parts` parts at once, one thread each, with BLAS
    /// single-threaded meanwhile; a single part runs on the calling thread with BLAS's own threads.
    ///
    /// Parts of a batch need no synchronisation until the end, so one part per core keeps every
    /// core busy, through the row-wise steps between matrix products too, where BLAS's threads
    /// would otherwise wait for the one running them. Not reentrant: the BLAS thread setting is
    /// process-wide, which is why inference runs on one serial queue.
    package static func onEachCore(_ parts: Int, _ body: @Sendable (Int) -> Void) {
        guard parts > 1 else {
            body(0)
            return
        }
        let configured = Int32(blasThreads)  // read before the first change
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(configured) }
        DispatchQueue.concurrentPerform(iterations: parts, execute: body)
    }

    /// `c = alpha·a·bᵀ + beta·c` (`transposeB`) or `c = alpha·a·b + beta·c`, where `a` is
    /// `m × k`, `c` is `m × n`, and `lda`, `ldb`, `ldc` are the row strides.
    static func multiply(
        m: Int,
        n: Int,
        k: Int,
        alpha: Float = 1,
        _ a: UnsafePointer<Float>,
        lda: Int,
        _ b: UnsafePointer<Float>,
        ldb: Int,
        transposeB: Bool,
        beta: Float,
        _ c: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor,
            CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasint(m),
            blasint(n),
            blasint(k),
            alpha,
            a,
            blasint(lda),
            b,
            blasint(ldb),
            beta,
            c,
            blasint(ldc)
        )
    }

    /// A linear layer without its bias: `y = x·Wᵀ`, or `y += x·Wᵀ` when `accumulate`, for `rows`
    /// rows of `x` (`rows × inputs`) and a weight `W` stored as PyTorch does, `outputs × inputs`.
    package static func linear(
        _ x: UnsafePointer<Float>,
        rows: Int,
        weight: UnsafePointer<Float>,
        outputs: Int,
        inputs: Int,
        into y: UnsafeMutablePointer<Float>,
        accumulate: Bool
    ) {
        multiply(m: rows, n: outputs, k: inputs, x, lda: inputs, weight, ldb: inputs, transposeB: true, beta: accumulate ? 1 : 0, y, ldc: outputs)
    }

    /// Every row of `destination` (`rows × width`) set to `source`'s row plus `bias`, or to
    /// `bias` alone when `source` is nil.
    static func setRows(
        _ destination: UnsafeMutablePointer<Float>,
        rows: Int,
        width: Int,
        to source: UnsafePointer<Float>?,
        plus bias: UnsafePointer<Float>
    ) {
        for row in 0..<rows {
            let out = destination + row * width
            if let source {
                let input = source + row * width
                for column in 0..<width { out[column] = input[column] + bias[column] }
            } else {
                out.update(from: bias, count: width)
            }
        }
    }

    /// LayerNorm of each row in place: `(x − mean) / √(variance + epsilon) · weight + bias`,
    /// with the biased variance, as BERT computes it.
    static func layerNorm(
        _ values: UnsafeMutablePointer<Float>,
        rows: Int,
        width: Int,
        weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>,
        epsilon: Float = 1e-12
    ) {
        for row in 0..<rows {
            let x = values + row * width
            let mean = sum(x, count: width) / Float(width)
            for column in 0..<width { x[column] -= mean }
            let variance = sumOfSquares(x, count: width) / Float(width)
            let scale = 1 / (variance + epsilon).squareRoot()
            for column in 0..<width { x[column] = x[column] * scale * weight[column] + bias[column] }
        }
    }

    /// GELU of each element plus its column's bias, in place: `0.5·u·(1 + erf(u/√2))`.
    static func biasGELU(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
        let inverseSquareRootOfTwo: Float = 0.70710678118654752
        for row in 0..<rows {
            let x = values + row * width
            for column in 0..<width {
                let u = x[column] + bias[column]
                x[column] = 0.5 * u * (1 + errorFunction(u * inverseSquareRootOfTwo))
            }
        }
    }

    /// Softmax of each row in place.
    static func softmax(_ values: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for row in 0..<rows {
            let x = values + row * width
            let maximum = maximum(x, count: width)
            for column in 0..<width { x[column] = exponential(x[column] - maximum) }
            let scale = 1 / sum(x, count: width)
            for column in 0..<width { x[column] *= scale }
        }
    }

    /// `erf(x)` to within 5e-7 (Abramowitz and Stegun 7.1.26, as PyTorch's vectorised CPU
    /// GELU computes it; GELU itself stays within 2e-7 of the exact value).
    ///
    /// Branch-free and call-free, so loops over it vectorise; glibc's `erff` is a call per
    /// element, and GELU evaluates 1,536 of them per token and layer, about as many as the
    /// rest of the row-wise work together.
    @inline(__always)
    static func errorFunction(_ x: Float) -> Float {
        let a = x.magnitude
        let t = 1 / (1 + 0.3275911 * a)
        let polynomial = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
        let y = 1 - polynomial * exponential(-a * a)
        return x < 0 ? -y : y
    }

    /// `e^x` to within 1e-7 relative for `x` in [−87.3, 88.7], clamped outside (Cephes' `expf`:
    /// x = n·ln 2 + r, a polynomial for `e^r`, and `2^n` assembled from its bits).
    ///
    /// Branch-free and call-free for the same reason as ``errorFunction(_:)``: softmax takes
    /// one per score, 12·T per token and layer.
    @inline(__always)
    static func exponential(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -87.33654), 88.72283)
        // Adding 1.5·2²³ rounds x·log₂e to an integer n, which then sits in the low mantissa bits.
        let shifted = clamped * 1.44269504088896341 + 12_582_912
        let n = shifted - 12_582_912
        let r = clamped - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let exponentBits = (Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000 &+ 127) &<< 23
        return (p * r * r + r + 1) * Float(bitPattern: UInt32(bitPattern: exponentBits))
    }

    /// The largest of `count` (at least one) floats.
    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        // Eight independent running maxima, which the optimiser packs into one vector.
        var partial = (x[0], x[0], x[0], x[0], x[0], x[0], x[0], x[0])
        let blocks = count / 8
        for block in 0..<blocks {
            let y = x + block * 8
            partial = (
                y[0] > partial.0 ? y[0] : partial.0, y[1] > partial.1 ? y[1] : partial.1,
                y[2] > partial.2 ? y[2] : partial.2, y[3] > partial.3 ? y[3] : partial.3,
                y[4] > partial.4 ? y[4] : partial.4, y[5] > partial.5 ? y[5] : partial.5,
                y[6] > partial.6 ? y[6] : partial.6, y[7] > partial.7 ? y[7] : partial.7
            )
        }
        let low = Swift.max(Swift.max(partial.0, partial.1), Swift.max(partial.2, partial.3))
        let high = Swift.max(Swift.max(partial.4, partial.5), Swift.max(partial.6, partial.7))
        var result = Swift.max(low, high)
        for index in blocks * 8..<count where x[index] > result { result = x[index] }
        return result
    }

    /// The sum of `count` floats, in 16 interleaved partial sums so it vectorises.
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var partial = SIMD16<Float>()
        let blocks = count / 16
        for block in 0..<blocks { partial += vector(x, block) }
        var total = partial.sum()
        for index in blocks * 16..<count { total += x[index] }
        return total
    }

    /// The sum of squares of `count` floats, vectorised as `sum`.
    static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var partial = SIMD16<Float>()
        let blocks = count / 16
        for block in 0..<blocks {
            let v = vector(x, block)
            partial += v * v
        }
        var total = partial.sum()
        for index in blocks * 16..<count { total += x[index] * x[index] }
        return total
    }

    /// Floats `16·block ..< 16·block + 16` of `x`, which need not be aligned.
    private static func vector(_ x: UnsafePointer<Float>, _ block: Int) -> SIMD16<Float> {
        UnsafeRawPointer(x).loadUnaligned(fromByteOffset: block * 64, as: SIMD16<Float>.self)
    }
}
