import ArgumentParser
import CairnBench
import CairnCore
import CairnEmbed
import CairnIngest
import CairnRuntime
import Foundation
import Logging

/// `cairn bench ingest DIR`: how fast the PDFs under DIR are parsed, against
/// `mutool draw -F txt` on the same files, and how fast their pages are embedded, against the
/// OpenBLAS sgemm rate at the model's shapes (the ceiling).
///
/// Parsing runs without OCR, so both sides do the same work: extract the text layer. Each
/// figure is the median of `--runs` passes over all files, one file after another.
struct BenchIngest: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Parsing and embedding speed on a folder of PDFs, against mutool and the sgemm ceiling."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "Folder searched (recursively) for .pdf files.")
    var directory: String

    @Option(help: "Passes over the files; the median is reported.")
    var runs = 3

    func run(settings: Settings, logger: Logger) async throws {
        guard (1...99).contains(runs) else { throw CairnError(.invalidInput, "--runs takes 1–99.") }
        let files = try Self.pdfs(under: URL(fileURLWithPath: directory))
        let parser = PDFParser(ocrLanguage: nil)

        var parseTimes: [Duration] = []
        var pages: [String] = []
        var failed = 0
        for pass in 0..<runs {
            let started = ContinuousClock.now
            var passPages: [String] = []
            failed = 0
            for file in files {
                do {
                    passPages += try await parser.parse(contentsOf: file).pages.map(\.text)
                } catch {
                    failed += 1
                }
            }
            parseTimes.append(ContinuousClock.now - started)
            if pass == 0 { pages = passPages }
        }
        var mutoolTimes: [Duration] = []
        for _ in 0..<runs {
            let started = ContinuousClock.now
            for file in files { try Self.mutoolText(file) }
            mutoolTimes.append(ContinuousClock.now - started)
        }
        let parse = Self.median(parseTimes)
        let mutool = Self.median(mutoolTimes)
        print(
            "ingest parse files=\(files.count) failed=\(failed) pages=\(pages.count) seconds=\(Self.format(parse.inSeconds, 3)) "
                + "pages_per_s=\(Int((Double(pages.count) / parse.inSeconds).rounded())) mutool_seconds=\(Self.format(mutool.inSeconds, 3)) "
                + "ratio=\(Self.format(parse.inSeconds / mutool.inSeconds, 2))"
        )

        let texts = pages.filter { $0.contains { !$0.isWhitespace } }
        let embedder = try LocalSentenceEmbedder(modelDirectory: settings.embeddingModelDirectory)
        let result = try await EmbeddingBenchmark(embedder: embedder).run(texts: texts, passes: runs)
        print(
            "ingest embed texts=\(result.texts) tokens=\(result.tokens) tokens_per_s=\(Int(result.tokensPerSecond.rounded())) "
                + "model_gflops=\(Self.format(result.modelGFLOPS, 1)) ceiling_gflops=\(Self.format(result.ceilingGFLOPS, 1)) "
                + "ratio=\(Self.format(result.ratioToCeiling, 2))"
        )
    }

    private static func pdfs(under folder: URL) throws -> [URL] {
        let files = (FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .filter { $0.pathExtension.lowercased() == "pdf" }
            .sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw CairnError(.invalidInput, "There are no .pdf files under \(folder.path).") }
        return files
    }

    /// `mutool draw -F txt -o /dev/null FILE`, the anchor; its exit status is ignored, as a file
    /// MuPDF cannot read fails on both sides.
    private static func mutoolText(_ file: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mutool")
        process.arguments = ["draw", "-q", "-F", "txt", "-o", "/dev/null", file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CairnError(.misconfigured, "mutool, the parsing benchmark's anchor, is not installed (Debian package mupdf-tools).")
        }
        process.waitUntilExit()
    }

    private static func median(_ durations: [Duration]) -> Duration {
        durations.sorted()[durations.count / 2]
    }

    private static func format(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}
