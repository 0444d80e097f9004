import CairnCore
import Foundation
import Testing

@testable import CairnIngest

@Suite("Markdown parsing")
struct MarkdownParserTests {
    func parsed(_ markdown: String) async throws -> ParsedPage {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try folder.write("notes.md", markdown)
        let document = try await DocumentParser(limits: ParsingLimits(timeLimit: .seconds(60))).parse(contentsOf: file, format: .markdown)
        let page = try #require(document.pages.first)
        expectExactRanges(page)
        return page
    }

    @Test("Headings, paragraphs, lists, code, quotes and tables become blocks, with inline markup stripped")
    func blocks() async throws {
        let page = try await parsed(
            """
            # Lending *policy* #

            Credit Limits
            =============

            Every **exposure** is measured against `capital`, see [the rules](https://example.com/rules "Rules")
            and ![the chart](chart.png) or <https://example.com/faq>; snake_case and 2 * 3 stay.

            [rules]: https://example.com/rules

            Setext two
            ----------

            - First *item*
              continues here
            - Second item
              - Nested item
            1. Ordered one
            2) Ordered two

            ---

            > Quoted **text**
            > > nested quote

            ```swift
            let rate = base * 2  // *not* emphasis

            print(rate)
            ```

                indented code
                  more

            | Segment | Limit |
            |:--------|------:|
            | Corporate | **10%** |
            | Retail \\| SME | 2% |

            Text with a <b>tag</b>, a \\*literal\\* star, [Rules] and [unknown].
            2024. was a good year
            """
        )
        #expect(
            page.blockTexts == [
                ["Lending policy"],
                ["Credit Limits"],
                [
                    "Every exposure is measured against capital, see the rules",
                    "and the chart or https://example.com/faq; snake_case and 2 * 3 stay.",
                ],
                ["Setext two"],
                ["First item", "continues here"],
                ["Second item"],
                ["Nested item"],
                ["Ordered one"],
                ["Ordered two"],
                ["Quoted text", "nested quote"],
                ["let rate = base * 2  // *not* emphasis", "print(rate)"],
                ["indented code", "  more"],
                ["Segment | Limit", "Corporate | 10%", "Retail | SME | 2%"],
                ["Text with a tag, a *literal* star, Rules and [unknown].", "2024. was a good year"],
            ]
        )
        let headings = zip(page.blockTexts.joined(), page.lines).filter { $0.1.fontSize != 10 }.map { "\($0.0): \($0.1.fontSize)" }
        #expect(headings == ["Lending policy: 20.0", "Credit Limits: 20.0", "Setext two: 17.0"])
    }

    @Test("A heading path follows ATX and setext levels through the chunker, and a table stays in one chunk")
    func chunking() async throws {
        let rows = (1...6).map { "| Branch \($0) | \($0 * 10) |" }.joined(separator: "\n")
        let page = try await parsed(
            """
            Policy
            ======

            ## Scope

            Applies to every branch of the bank and to every product.

            ### Limits

            | Branch | Limit |
            | --- | --- |
            \(rows)
            """
        )
        let chunks = Chunker(maximumWordPieces: 40) { $0.split(separator: " ").count }.chunks(of: ParsedDocument(pages: [page]))
        let table = try #require(chunks.first { $0.text.contains("Branch | Limit") })
        #expect(table.text.hasSuffix("Branch 6 | 60"))
        #expect(table.headingPath == ["Policy", "Scope", "Limits"])
    }

    @Test("Character references are decoded, except inside code spans")
    func references() async throws {
        let page = try await parsed("Fees &amp; charges &copy; 2024 &#8212; see `&amp;` and \\&amp;.")
        #expect(page.text == "Fees & charges © 2024 — see &amp; and &amp;.\n")
    }

    @Test("Inline markup that never closes, and long runs of brackets and backticks, read as written in linear time")
    func unbalanced() async throws {
        let page = try await parsed("An *open star, a [bracket, a `tick and <angle.\n\n" + String(repeating: "[`<*_(", count: 20_000))
        #expect(page.blockTexts[0] == ["An *open star, a [bracket, a `tick and <angle."])
        #expect(page.blockTexts.count == 2)
    }

    @Test("An unclosed fence runs to the end of the document")
    func unclosedFence() async throws {
        let page = try await parsed("Intro\n\n~~~\ncode line\n\n# not a heading\n")
        #expect(page.blockTexts == [["Intro"], ["code line", "# not a heading"]])
        #expect(page.lines.allSatisfy { $0.fontSize == 10 })
    }
}
