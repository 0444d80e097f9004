import Foundation

/// Deterministic unit vectors: the same text and dimension give the same vector in every process,
/// and different texts give different vectors.
enum MockEmbeddings {
    /// The dimension when a request names none: all-MiniLM-L6-v2's, which Cairn embeds with natively.
    static let defaultDimensions = 384
    /// The largest dimension a request may ask for.
    static let maxDimensions = 4_096

    /// The vector for `text`: components drawn from a generator seeded by a hash of its bytes, normalised.
    static func vector(for text: String, dimensions: Int) -> [Float] {
        // FNV-1a: stable across processes, unlike `Hasher`.
        var seed: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            seed = (seed ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        var generator = SplitMix64(state: seed)
        var vector = (0..<dimensions).map { _ in Float(generator.next() >> 40) / Float(1 << 23) - 1 }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // All components zero is vanishingly unlikely, but would not normalise.
        guard norm > 0 else { return (0..<dimensions).map { $0 == 0 ? 1 : 0 } }
        for index in vector.indices {
            vector[index] /= norm
        }
        return vector
    }

    /// `vector` as OpenAI's `encoding_format: base64` sends it: little-endian float32s.
    static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for component in vector {
            withUnsafeBytes(of: component.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}

/// The SplitMix64 generator: small, fast, and the same sequence on every platform.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}
