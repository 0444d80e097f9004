import CairnCore
import Foundation
import Testing

@testable import CairnIngest

@Suite("Plain text parsing")
struct PlainTextParserTests {
    func parsed(_ data: Data, limits: ParsingLimits = ParsingLimits(timeLimit: .seconds(60))) async throws -> ParsedPage {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let document = try await DocumentParser(limits: limits).parse(contentsOf: try folder.write("notes.txt", data), format: .text)
        let page = try #require(document.pages.first)
        expectExactRanges(page)
        return page
    }

    @Test("Blank lines separate blocks, every other line is a line; no headings")
    func blocks() async throws {
        let page = try await parsed(Data("TERMS\n\nFirst paragraph,\n  indented line.   \n \t \n\n\nSecond – with “Unicode” 👍\n".utf8))
        #expect(page.blockTexts == [["TERMS"], ["First paragraph,", "  indented line."], ["Second – with “Unicode” 👍"]])
        #expect(page.text == "TERMS\n\nFirst paragraph,\n  indented line.\n\nSecond – with “Unicode” 👍\n")
        #expect(page.lines.allSatisfy { $0.fontSize == 10 })
    }

    @Test("A byte-order mark is dropped and CRLF and CR line ends become LF")
    func lineEnds() async throws {
        let page = try await parsed(Data([0xEF, 0xBB, 0xBF]) + Data("One\r\nTwo\r\rThree\rFour".utf8))
        #expect(page.blockTexts == [["One", "Two"], ["Three", "Four"]])
    }

    @Test("A NUL byte, bytes that are not UTF-8, and a file over the limit each fail with a sentence")
    func failures() async throws {
        let cases: [(Data, ParsingLimits, String)] = [
            (Data("text\0more".utf8), ParsingLimits(), "The file is not text."),
            (Data([0x63, 0x61, 0x66, 0xE9]), ParsingLimits(), "The file is not UTF-8 text; save it as UTF-8 and upload it again."),
            (
                Data(repeating: 0x61, count: 3 << 20), ParsingLimits(maximumTextBytes: 2 << 20),
                "The file is larger than the 2 MiB limit for text documents."
            ),
        ]
        for (data, limits, message) in cases {
            await #expect {
                _ = try await parsed(data, limits: limits)
            } throws: { ($0 as? CairnError)?.message == message }
        }
    }
}
