import CairnCore
import CairnIngest
import CairnTestSupport
import Foundation
import Testing

/// Case documents are often photos: PNG, JPEG and TIFF go through MuPDF and OCR like a scan.
@Suite("Images and words")
struct ImageParsingTests {
    static func parse(_ file: URL) async throws -> ParsedDocument {
        let format = try DocumentFormat.detect(fileAt: file, declaredName: file.lastPathComponent, declaredMediaType: nil)
        return try await DocumentParser().parse(contentsOf: file, format: format)
    }

    /// Each word's text, from the page text its range points into.
    static func texts(of page: ParsedPage) -> [String] {
        let scalars = Array(page.text.unicodeScalars)
        return page.words.map { String(String.UnicodeScalarView(scalars[$0.range])) }
    }

    @Test("A photographed receipt (JPEG) is read by OCR into words with boxes on the page")
    func receipt() async throws {
        let document = try await Self.parse(SharedData.folder("extraction-dev/receipts/documents/000.jpg"))
        let page = try #require(document.pages.first)
        #expect(document.pages.count == 1 && page.source == .ocr)
        #expect(page.text.uppercased().contains("TOTAL"), "\(page.text)")
        #expect(page.words.count > 20)
        #expect(Self.texts(of: page).allSatisfy { !$0.isEmpty && !$0.contains(" ") && !$0.contains("\n") })
        #expect(page.words.allSatisfy { $0.box.x0 >= 0 && $0.box.y0 >= 0 && $0.box.x1 <= page.width + 1 && $0.box.y1 <= page.height + 1 })
    }

    @Test("A text layer's words are its lines split at spaces, each boxed by its glyphs")
    func textLayerWords() async throws {
        let file = SharedPDFs.folder.appendingPathComponent("py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf")
        let page = try #require(try await PDFParser().parse(contentsOf: file).pages.first)
        let scalars = Array(page.text.unicodeScalars)
        let lineWords = page.lines.flatMap { line in
            String(String.UnicodeScalarView(scalars[line.range])).split(whereSeparator: \.isWhitespace).map(String.init)
        }
        #expect(Self.texts(of: page) == lineWords)
        for (word, line) in zip(page.words, page.words.map { word in page.lines.first { $0.range.contains(word.range.lowerBound) } }) {
            let line = try #require(line)
            #expect(word.box.x0 >= line.box.x0 - 0.5 && word.box.x1 <= line.box.x1 + 0.5, "a word's box lies outside its line's")
        }
    }

    @Test("A truncated image fails with one sentence naming the format")
    func truncated() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID().uuidString).png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            let document = try await Self.parse(file)
            Issue.record("parsed \(document.pages.count) pages")
        } catch let error as CairnError {
            #expect(error.code == .invalidInput)
            #expect(
                error.message.hasPrefix("The PNG could not be opened") || error.message.hasPrefix("Page 1 of the PNG could not be read"),
                "\(error.message)"
            )
            #expect(error.message.hasSuffix(".") && !error.message.contains("\n"))
        }
    }
}
