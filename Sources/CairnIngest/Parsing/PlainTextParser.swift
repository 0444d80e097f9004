import Foundation

/// Reads plain UTF-8 text: blank lines separate blocks (paragraphs), every other line is a line
/// of its block. Plain text says nothing about headings, so it has none.
struct PlainTextParser {
    let limits: ParsingLimits

    func parse(contentsOf file: URL, budget: ParsingBudget) throws -> ParsedDocument {
        let text = try TextInput.utf8Text(TextInput.read(file, limit: limits.maximumTextBytes))
        var page = BlockPageBuilder()
        var block: [String] = []
        for (index, line) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if index % 4_096 == 0 { try budget.check() }
            if line.allSatisfy(\.properties.isWhitespace) {
                page.appendBlock(block, style: .body)
                block = []
            } else {
                block.append(String(line))
            }
        }
        page.appendBlock(block, style: .body)
        return ParsedDocument(pages: [page.build()])
    }
}
