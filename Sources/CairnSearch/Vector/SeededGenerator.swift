import Foundation

/// SplitMix64: a small, fast generator whose sequence depends only on its seed.
///
/// Training draws its sample and its initial centroids from it, so nodes holding the same
/// vectors build the same lists; the search benchmark's synthetic corpus and the tests' random
/// cases come from it too, so a run is reproduced from its seed. Bounded draws use ``next(below:)`` rather than the standard
/// library's `random(in:using:)`, whose algorithm is not promised to stay the same across releases.
package struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`, by multiply-shift (biased by at most `bound`/2⁶⁴, nothing for sampling).
    package mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        return Int(UInt64(bound).multipliedFullWidth(by: next()).high)
    }

    /// A number in `[0, 1)`.
    package mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A standard normal draw (Box–Muller).
    package mutating func gaussian() -> Float {
        let radius = (-2 * log(max(unit(), .leastNonzeroMagnitude))).squareRoot()
        return Float(radius * cos(2 * Double.pi * unit()))
    }
}
