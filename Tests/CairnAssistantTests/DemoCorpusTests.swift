import CairnDemo
import CairnIngest
import Foundation
import Testing

/// The demo policies as `cairn demo seed` renders them, read back with MuPDF.
@Suite("Demo corpus")
struct DemoCorpusTests {
    static let corpus = DemoCorpus(
        folder: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../demo/policies").standardized
    )

    static func folded(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }

    @Test("Every policy renders to a PDF of several pages whose text is every paragraph, in order, and the same bytes each time")
    func rendersReadablePDFs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let rendered = try Self.corpus.renderPDFs(into: directory)
        #expect(
            rendered.map(\.title).sorted() == [
                "Anti-Money Laundering Policy", "Complaints Handling Policy", "Know Your Customer Standard", "Technology Risk Policy",
            ]
        )
        for policy in rendered {
            let parsed = try await DocumentParser(ocrLanguage: nil).parse(contentsOf: policy.pdf, format: .pdf)
            #expect((3...5).contains(parsed.pages.count), "\(policy.title): \(parsed.pages.count) pages")
            for page in 1...parsed.pages.count {
                #expect(parsed.pages[page - 1].text.contains("Page \(page) of \(parsed.pages.count)"))
            }
            // Without the footers, which fall inside paragraphs that run onto the next page.
            let text = Self.folded(
                parsed.pages.enumerated().map { $1.text.replacingOccurrences(of: "Page \($0 + 1) of \(parsed.pages.count)", with: "") }.joined(
                    separator: " "
                )
            )
            let source = try String(
                contentsOf: Self.corpus.folder.appendingPathComponent(policy.pdf.deletingPathExtension().lastPathComponent + ".md"),
                encoding: .utf8
            )
            var searchFrom = text.startIndex
            for paragraph in source.components(separatedBy: "\n\n") {
                let words = Self.folded(paragraph.replacingOccurrences(of: "#", with: ""))
                guard !words.isEmpty else { continue }
                let found = try #require(
                    text.range(of: words, range: searchFrom..<text.endIndex),
                    "\(policy.title): '\(words.prefix(60))' missing or out of order"
                )
                searchFrom = found.upperBound
            }
            let again = try PolicyPDFRenderer().render(markdown: source)
            #expect(Data(again) == (try Data(contentsOf: policy.pdf)), "\(policy.title) renders differently twice")
        }
    }

    @Test("Text the standard fonts cannot show, an empty policy and a missing folder are refused in one sentence")
    func refusesWhatItCannotRender() throws {
        #expect(throws: PolicyPDFRenderError.nonASCIICharacter(line: 3, character: "é")) {
            try PolicyPDFRenderer().render(markdown: "# Title\n\nCaf\u{E9}")
        }
        #expect(throws: PolicyPDFRenderError.emptyDocument) { try PolicyPDFRenderer().render(markdown: "  \n\n") }
        #expect(PolicyPDFRenderError.emptyDocument.description == "The policy document has no heading or paragraph text to render.")
        let missing = DemoCorpus(folder: URL(fileURLWithPath: "/nonexistent/demo"))
        #expect(throws: DemoCorpusError.self) { try missing.policies() }
    }
}
