import CMuPDF
import CairnCore
import CairnIngest
import CairnTestSupport
import Foundation
import Testing

@Suite("OCR")
struct OCRTests {
    @Test("A page with no text layer, rendered by MuPDF from a text page, gets ≥ 90% of that page's words back through OCR")
    func imageOnlyPage() async throws {
        let source = SharedPDFs.folder.appendingPathComponent("py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf")
        let original = try await PDFParser().parse(contentsOf: source).pages[0]
        #expect(original.source == .textLayer)

        let scanned = FileManager.default.temporaryDirectory.appendingPathComponent("scan-\(UUID().uuidString).pdf")
        try Self.writeImageOnlyPDF(of: source, page: 0, to: scanned)
        defer { try? FileManager.default.removeItem(at: scanned) }

        let recognised = try await PDFParser().parse(contentsOf: scanned).pages[0]
        #expect(recognised.source == .ocr)
        let expected = Self.words(original.text)
        let found = Set(Self.words(recognised.text))
        let recovered = Double(expected.filter(found.contains).count) / Double(max(expected.count, 1))
        #expect(expected.count > 100)
        #expect(recovered >= 0.90, "recovered \(Int(recovered * 100))% of \(expected.count) words")
        // OCR lines carry boxes in page points, inside the page.
        #expect(!recognised.lines.isEmpty)
        #expect(recognised.lines.allSatisfy { $0.box.x0 >= 0 && $0.box.x1 <= recognised.width + 1 && $0.box.y1 <= recognised.height + 1 })
    }

    /// Lower-cased words of letters and digits.
    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }

    /// Renders `page` of `source` at 300 dpi and writes a PDF whose only content is that image.
    static func writeImageOnlyPDF(of source: URL, page: Int32, to destination: URL) throws {
        var error = cmu_error()
        let context = try #require(cmu_context_new(0, 0, &error))
        defer { cmu_context_free(context) }
        let document = try #require(cmu_document_open_file(context, source.path, nil, &error))
        defer { cmu_document_free(document) }
        var image = cmu_gray_image()
        try #require(cmu_page_render_gray(document, page, 300, nil, &image, &error) == CMU_OK.rawValue)
        defer { cmu_gray_image_free(&image) }
        try #require(cmu_write_image_pdf(context, &image, nil, destination.path, nil, nil, &error) == CMU_OK.rawValue)
    }
}
