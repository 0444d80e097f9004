import CairnCore
import CairnIngest
import CairnPipelines
import CairnTestSupport
import Foundation
import Testing

/// Every value a pipeline shows a reviewer points at a box made of the page's own words: read
/// back, the box says what the evidence says.
@Suite("Provenance over the extraction development sets")
struct ProvenanceTests {
    /// The sets, and which of their documents are read: all, but every fourth receipt (each is
    /// a photo, a second of OCR).
    static let sets: [(name: String, stride: Int)] = [("mrz", 1), ("invoices", 1), ("contracts", 1), ("receipts", 4)]

    @Test("Re-reading the text inside each value's box yields its evidence", arguments: 0..<4)
    func boxesReadBack(_ index: Int) async throws {
        let (name, stride) = Self.sets[index]
        let set = try GoldenSet(folder: SharedData.folder("extraction-dev/\(name)"))
        let parser = DocumentParser()
        var located = 0
        for item in Swift.stride(from: 0, to: set.items.count, by: stride).map({ set.items[$0] }) {
            let format = try DocumentFormat.detect(fileAt: item.document, declaredName: item.document.lastPathComponent, declaredMediaType: nil)
            let document = try await parser.parse(contentsOf: item.document, format: format)
            let schema = try ExtractionSchema(json: try Data(contentsOf: try #require(item.schema)))
            for field in DeterministicExtractor().extract(document, schema: schema) {
                let page = try #require(field.page.map { document.pages[$0 - 1] }, "\(item.id).\(field.name) has no page")
                let box = try #require(field.box, "\(item.id).\(field.name) has no box")
                #expect(page.text(inside: box) == field.evidence, "\(item.id).\(field.name): the box reads \"\(page.text(inside: box))\"")
                // The box holds the printed value itself, not only words near it.
                if [.label, .header, .iban, .bic].contains(field.extractor), let value = field.value.string {
                    let compact = { (text: String) in text.filter { !$0.isWhitespace } }
                    #expect(
                        compact(field.evidence).contains(compact(value)),
                        "\(item.id).\(field.name): \"\(value)\" is not in \"\(field.evidence)\""
                    )
                }
                located += 1
            }
        }
        #expect(located > 0, "no value was found in \(name)")
    }
}
