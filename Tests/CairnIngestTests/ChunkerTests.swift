import CairnCore
import CairnEmbed
import CairnIngest
import CairnTestSupport
import Foundation
import Testing

@Suite("Chunking")
struct ChunkerTests {
    /// The model's tokenizer when the model is there (as in CI); chunk sizes are measured in it.
    static let tokenizer: WordPieceTokenizer? = {
        guard let directory = ProcessInfo.processInfo.environment["CAIRN_TEST_MODEL_DIR"] else { return nil }
        return try? WordPieceTokenizer(vocabularyFile: URL(fileURLWithPath: directory).appendingPathComponent("vocab.txt"))
    }()

    static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    static func chunker() throws -> Chunker {
        let tokenizer = try #require(tokenizer, "needs CAIRN_TEST_MODEL_DIR (all-MiniLM-L6-v2's vocab.txt)")
        return Chunker { tokenizer.wordPieceCount($0) }
    }

    @Test(
        "Provenance: every chunk of every shared PDF is exactly the text of the spans it claims in a fresh parse, and its words are on those pages as mutool reads them",
        .enabled(if: tokenizer != nil || isRequired, "needs CAIRN_TEST_MODEL_DIR"),
        arguments: SharedPDFs.corpus
    )
    func provenance(path: String) async throws {
        let file = SharedPDFs.folder.appendingPathComponent(path)
        let password = SharedPDFs.passwords[path]
        guard let document = try? await PDFParser().parse(contentsOf: file, password: password) else { return }
        let chunks = try Self.chunker().chunks(of: document)
        // What is stored for each page comes from a separate parse of the same file.
        let reparsed = try await PDFParser().parse(contentsOf: file, password: password)
        let pages = Dictionary(uniqueKeysWithValues: reparsed.pages.map { ($0.number, (scalars: Array($0.text.unicodeScalars), source: $0.source)) })
        let independent = try Self.mutoolPages(file, password: password).map { $0.filter { !$0.isWhitespace } }
        var covered = 0
        for chunk in chunks {
            #expect(chunk.wordPieces <= 254, "\(path) chunk \(chunk.index): \(chunk.wordPieces) word pieces")
            let pieces = chunk.spans.map { span in String(String.UnicodeScalarView(pages[span.page]!.scalars[span.range])) }
            #expect(pieces.joined(separator: "\n") == chunk.text, "\(path) chunk \(chunk.index): text differs from its spans")
            for (span, piece) in zip(chunk.spans, pieces) {
                covered += span.range.count
                // mutool reads only the text layer; an OCR'd page has none to compare with.
                guard pages[span.page]!.source == .textLayer else { continue }
                // Line breaks and spacing differ between MuPDF's two text paths, so the check is
                // per word: each run of letters and digits of the span is on mutool's page.
                let missing = Self.words(piece).filter { !independent[span.page - 1].contains($0) }
                #expect(missing.isEmpty, "\(path) chunk \(chunk.index): \(missing.prefix(5)) not on page \(span.page)")
            }
        }
        // Nothing on the pages is left out of every chunk (separators aside).
        let textLength = document.pages.reduce(0) { $0 + $1.lines.reduce(0) { $0 + $1.range.count } }
        #expect(covered >= textLength, "\(path): chunks cover \(covered) of \(textLength) scalars")
    }

    @Test("Headings open sections: a passage never crosses one, starts with it, and records the headings above it")
    func sections() throws {
        // Body text at 10 pt; a 16 pt title, 13 pt section headings; one paragraph per block.
        let blocks: [(text: String, size: Double)] = [
            ("Credit Policy", 16), ("Scope", 13), ("This policy applies to every branch.", 10),
            ("It is reviewed each year.", 10), ("Limits", 13), ("No single exposure may exceed ten percent of capital.", 10),
        ]
        var text = ""
        var lines: [TextLine] = []
        for (index, block) in blocks.enumerated() {
            if index > 0 { text += "\n" }
            let start = text.unicodeScalars.count
            text += block.text + "\n"
            lines.append(
                TextLine(
                    range: start..<(start + block.text.unicodeScalars.count),
                    box: BoundingBox(x0: 72, y0: Double(index) * 20, x1: 300, y1: Double(index) * 20 + block.size),
                    block: index,
                    fontSize: block.size
                )
            )
        }
        let document = ParsedDocument(pages: [ParsedPage(number: 1, width: 612, height: 792, text: text, lines: lines, source: .textLayer)])
        let chunks = Chunker { $0.split(separator: " ").count }.chunks(of: document)
        #expect(
            chunks.map(\.text) == [
                "Credit Policy",
                "Scope\n\nThis policy applies to every branch.\n\nIt is reviewed each year.",
                "Limits\n\nNo single exposure may exceed ten percent of capital.",
            ]
        )
        #expect(chunks.map(\.headingPath) == [["Credit Policy"], ["Credit Policy", "Scope"], ["Credit Policy", "Limits"]])
        #expect(chunks[1].spans == [PageSpan(page: 1, range: lines[1].range.lowerBound..<lines[3].range.upperBound)])
        #expect(chunks[1].boxes.count == 3)

        // A section longer than the limit is cut between blocks, never inside one that fits.
        let small = Chunker(maximumWordPieces: 8) { $0.split(separator: " ").count }.chunks(of: document)
        #expect(small.map(\.text).contains("It is reviewed each year."))
        #expect(small.allSatisfy { $0.wordPieces <= 8 })
    }

    /// Each page's text as `mutool draw -F txt` writes it, one file per page.
    static func mutoolPages(_ file: URL, password: String?) throws -> [String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mutool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mutool")
        process.arguments =
            ["draw", "-q", "-F", "txt", "-o", folder.appendingPathComponent("page-%d.txt").path] + (password.map { ["-p", $0] } ?? []) + [file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let count = try FileManager.default.contentsOfDirectory(atPath: folder.path).count
        return try (1...max(count, 1)).map { try String(contentsOf: folder.appendingPathComponent("page-\($0).txt"), encoding: .utf8) }
    }

    /// Runs of letters and digits.
    static func words(_ text: String) -> [String] {
        text.split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }
}
