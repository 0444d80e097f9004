import CairnCore
import Foundation

/// How the official Rust tokenizer's BertNormalizer and BertPreTokenizer treat each Unicode
/// scalar, as `scripts/generate-wordpiece-tables.py` recorded them in `wordpiece-unicode.json`.
///
/// The Rust tokenizer classifies characters with tables of about Unicode 8.0, so the host's
/// Unicode properties (Swift's are newer) would disagree on some 500 code points; these
/// tables make the tokenizer independent of the host's Unicode version.
struct WordPieceCharacterTables: Sendable {
    /// Name of the resource directory SwiftPM builds beside the executable.
    static let resourceDirectory = "cairn_CairnEmbed.resources"

    /// Decoded once per process.
    static let bundled: Result<WordPieceCharacterTables, CairnError> = Result { () throws(CairnError) in try load() }

    /// Mapped to U+0020 by clean_text.
    let whitespace: ScalarRanges
    /// Dropped: controls (Cc, Cf, Co), NUL, U+FFFD, and the nonspacing marks accent stripping removes.
    let removed: ScalarRanges
    /// Scalars the pre-tokenizer isolates as words of their own (ASCII 33–47, 58–64, 91–96,
    /// 123–126 and the old tables' P* categories); CJK ideographs are isolated by their ranges.
    let punctuation: ScalarRanges
    /// What NFD, dropping marks and lowercasing turn a scalar into, for those it changes.
    let normalized: [UInt32: [UInt32]]

    /// Read from the resource directory beside the running executable.
    ///
    /// Looked up directly rather than through `Bundle.module`, whose generated accessor stops
    /// the process with `fatalError` when the directory is absent; a missing file is an error
    /// Cairn reports in a sentence instead.
    private static func load() throws(CairnError) -> WordPieceCharacterTables {
        let url = Bundle.main.bundleURL.appendingPathComponent(resourceDirectory).appendingPathComponent("wordpiece-unicode.json")
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(contentsOf: url))
        } catch {
            throw CairnError(
                .misconfigured,
                "The tokenizer's character tables are missing or unreadable; install \(resourceDirectory) beside the cairn binary.",
                underlying: error
            )
        }
        var normalized: [UInt32: [UInt32]] = [:]
        for run in file.mapRuns {
            guard run.count == 5, run[1] >= 0 else { throw corrupt }
            for index in 0..<run[1] {
                normalized[try scalar(run[0] + index * run[2])] = [try scalar(run[3] + index * run[4])]
            }
        }
        for entry in file.map {
            guard (2...4).contains(entry.count) else { throw corrupt }
            var output: [UInt32] = []
            for value in entry.dropFirst() { output.append(try scalar(value)) }
            normalized[try scalar(entry[0])] = output
        }
        return WordPieceCharacterTables(
            whitespace: try ScalarRanges(file.whitespace),
            removed: try ScalarRanges(file.removed),
            punctuation: try ScalarRanges(file.punctuation),
            normalized: normalized
        )
    }

    static var corrupt: CairnError {
        CairnError(.misconfigured, "The tokenizer's character tables are corrupt; reinstall \(resourceDirectory) beside the cairn binary.")
    }

    private static func scalar(_ value: Int) throws(CairnError) -> UInt32 {
        guard (0...0x10FFFF).contains(value) else { throw corrupt }
        return UInt32(value)
    }

    /// The JSON layout written by `scripts/generate-wordpiece-tables.py`.
    private struct File: Decodable {
        /// Inclusive `[first, last]` ranges, sorted.
        var whitespace: [[Int]]
        var removed: [[Int]]
        var punctuation: [[Int]]
        /// `[first, count, step, output, outputStep]`: `first + i*step` maps to `output + i*outputStep`.
        var mapRuns: [[Int]]
        /// `[scalar, output...]`.
        var map: [[Int]]
    }
}

/// A set of Unicode scalar values stored as sorted, disjoint, inclusive ranges.
struct ScalarRanges: Sendable {
    private let firsts: [UInt32]
    private let lasts: [UInt32]

    init(_ ranges: [[Int]]) throws(CairnError) {
        var firsts: [UInt32] = []
        var lasts: [UInt32] = []
        for range in ranges {
            guard range.count == 2, range[0] <= range[1], (0...0x10FFFF).contains(range[1]), range[0] > lasts.last.map(Int.init) ?? -1 else {
                throw WordPieceCharacterTables.corrupt
            }
            firsts.append(UInt32(range[0]))
            lasts.append(UInt32(range[1]))
        }
        self.firsts = firsts
        self.lasts = lasts
    }

    func contains(_ scalar: UInt32) -> Bool {
        // The last range starting at or before `scalar`, by binary search.
        var low = 0
        var high = firsts.count
        while low < high {
            let middle = (low + high) / 2
            if firsts[middle] <= scalar { low = middle + 1 } else { high = middle }
        }
        return low > 0 && scalar <= lasts[low - 1]
    }
}
