import CairnCore
import CairnTestSupport
import Foundation
import Testing

@testable import CairnIngest

@Suite("Parsing any format")
struct DocumentParserTests {
    @Test("Each format goes to its parser and comes back as pages of text with exact line ranges")
    func dispatch() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let parser = DocumentParser(limits: ParsingLimits(timeLimit: .seconds(60)))
        let inputs: [(DocumentFormat, URL, String)] = [
            (.docx, try DOCXParserTests.makeDOCX(in: folder, body: DOCXParserTests.paragraph("Hello from Word.")), "Hello from Word.\n"),
            (.html, try folder.write("page.html", "<!doctype html><p>Hello from <b>HTML</b>.</p>"), "Hello from HTML.\n"),
            (.markdown, try folder.write("notes.md", "# Notes\n\nHello from *Markdown*.\n"), "Notes\n\nHello from Markdown.\n"),
            (.text, try folder.write("notes.txt", "Hello from text.\n"), "Hello from text.\n"),
        ]
        for (format, file, expected) in inputs {
            let document = try await parser.parse(contentsOf: file, format: format)
            #expect(document.pages.count == 1, "\(format)")
            let page = try #require(document.pages.first)
            #expect(page.number == 1 && page.width == 0 && page.height == 0 && page.source == .textLayer)
            #expect(page.text == expected, "\(format)")
            expectExactRanges(page)
        }
    }

    @Test(
        "A PDF goes to the PDF parser",
        .enabled(if: FileManager.default.fileExists(atPath: DocumentParserTests.samplePDF.path), "needs the shared PDFs (CAIRN_SHARED_DATA)")
    )
    func pdf() async throws {
        let document = try await DocumentParser(ocrLanguage: nil).parse(contentsOf: Self.samplePDF, format: .pdf)
        #expect(document.pages.count == 4)
        #expect(document.pages.allSatisfy { $0.width > 0 })
    }

    static let samplePDF = SharedPDFs.folder.appendingPathComponent("py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf")

    @Test("A document over the time limit fails with the limit's sentence, naming the format")
    func timeLimit() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try folder.write("long.md", String(repeating: "A line of *Markdown*.\n", count: 10_000))
        do {
            _ = try await DocumentParser(limits: ParsingLimits(timeLimit: .zero)).parse(contentsOf: file, format: .markdown)
            Issue.record("parsing finished in no time at all")
        } catch let error as CairnError {
            #expect(error.message == "Parsing the Markdown took longer than the limit of 0 s.")
        }
    }

    @Test("Cancelling the task stops a parse")
    func cancellation() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try folder.write("long.txt", String(repeating: "Another line of plain text.\n", count: 500_000))
        let parse = Task { try await DocumentParser().parse(contentsOf: file, format: .text) }
        parse.cancel()
        await #expect(throws: CancellationError.self) { try await parse.value }
    }
}

/// A temporary folder for one test's fixtures.
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-parsing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> URL {
        try write(name, Data(text.utf8))
    }

    func write(_ name: String, _ data: Data) throws -> URL {
        let file = url.appendingPathComponent(name)
        try data.write(to: file)
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

extension ParsedPage {
    /// Each block's lines, each line read back from the page text through its range.
    var blockTexts: [[String]] {
        let scalars = Array(text.unicodeScalars)
        var blocks: [[String]] = []
        var lastBlock: Int?
        for line in lines {
            let lineText = String(String.UnicodeScalarView(scalars[line.range]))
            if line.block == lastBlock { blocks[blocks.count - 1].append(lineText) } else { blocks.append([lineText]) }
            lastBlock = line.block
        }
        return blocks
    }
}

/// The page is in canonical form and its lines say exactly where each line's text is: lines
/// end in `\n`, blocks are separated by one blank line, and nothing else is on the page.
func expectExactRanges(_ page: ParsedPage, sourceLocation: SourceLocation = #_sourceLocation) {
    let rebuilt = page.blockTexts.map { $0.map { $0 + "\n" }.joined() }.joined(separator: "\n")
    #expect(rebuilt == page.text, "the lines' ranges do not cover the page text", sourceLocation: sourceLocation)
    for line in page.lines {
        #expect(line.box == BoundingBox(x0: 0, y0: 0, x1: 0, y1: 0), sourceLocation: sourceLocation)
        let scalars = Array(page.text.unicodeScalars)
        let text = String(String.UnicodeScalarView(scalars[line.range]))
        #expect(!text.contains("\n") && text.contains { !$0.isWhitespace }, "line \(text.debugDescription)", sourceLocation: sourceLocation)
    }
}
