import CairnCore
import Foundation
import Testing
import ZIPFoundation

@testable import CairnIngest

@Suite("DOCX parsing")
struct DOCXParserTests {
    static let policyBody = [
        paragraph("Credit Policy", style: "Title"),
        paragraph("Scope", style: "Heading1"),
        paragraph("This policy applies to every branch and every lending product the bank offers."),
        paragraph("Exposure limits", style: "Heading2"),
        paragraph("No single exposure may exceed the limits below, measured against eligible capital."),
        paragraph("Corporate borrowers need two approvals.", numbered: true),
        paragraph("Retail borrowers need one approval.", numbered: true),
        """
        <w:tbl><w:tblPr/>
        <w:tr><w:tc><w:p><w:r><w:t>Segment</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Limit</w:t></w:r></w:p></w:tc></w:tr>
        <w:tr><w:tc><w:p><w:r><w:t>Corporate</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>10%</w:t></w:r></w:p><w:p><w:r><w:t>of capital</w:t></w:r></w:p></w:tc></w:tr>
        <w:tr><w:tc><w:p><w:r><w:t>Retail</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>2%</w:t></w:r></w:p></w:tc></w:tr>
        </w:tbl>
        """,
        """
        <w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>\
        <w:p><w:r><w:t>Boxed note</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict>\
        <v:textbox><w:txbxContent><w:p><w:r><w:t>Boxed note</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback>\
        </mc:AlternateContent></w:r><w:r><w:t>Around the box.</w:t></w:r></w:p>
        """,
        """
        <w:p><w:r><w:t xml:space="preserve">Reviewed </w:t></w:r><w:r><w:delText>never</w:delText></w:r>\
        <w:moveFrom><w:r><w:t>moved </w:t></w:r></w:moveFrom><w:r><w:t>yearly</w:t><w:tab/><w:t>by the board,</w:t><w:br/><w:t>and after any breach.</w:t></w:r></w:p>
        """,
    ].joined()

    @Test("Headings, paragraphs, list items and a table become blocks, and chunks follow the headings with the table whole")
    func structure() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try Self.makeDOCX(in: folder, body: Self.policyBody)
        let document = try await DocumentParser().parse(contentsOf: file, format: .docx)
        let page = try #require(document.pages.first)
        #expect(
            page.blockTexts == [
                ["Credit Policy"],
                ["Scope"],
                ["This policy applies to every branch and every lending product the bank offers."],
                ["Exposure limits"],
                ["No single exposure may exceed the limits below, measured against eligible capital."],
                ["Corporate borrowers need two approvals."],
                ["Retail borrowers need one approval."],
                ["Segment | Limit", "Corporate | 10% of capital", "Retail | 2%"],
                ["Boxed note"],
                ["Around the box."],
                ["Reviewed yearly by the board,", "and after any breach."],
            ]
        )
        expectExactRanges(page)
        #expect(page.lines.map(\.fontSize).prefix(4) == [24, 20, 10, 17])

        let chunks = Chunker(maximumWordPieces: 20) { $0.split(separator: " ").count }.chunks(of: document)
        let table = try #require(chunks.first { $0.text.contains("Segment | Limit") })
        #expect(table.text.contains("Segment | Limit\nCorporate | 10% of capital\nRetail | 2%"))
        #expect(table.headingPath == ["Credit Policy", "Scope", "Exposure limits"])
        #expect(chunks.first { $0.text.hasPrefix("Scope") }?.headingPath == ["Credit Policy", "Scope"])
        #expect(chunks.allSatisfy { $0.headingPath.first == "Credit Policy" })
    }

    @Test("Heading levels come from styles.xml when the style ids are not Word's built-in ones")
    func localisedStyles() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let styles = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
            <w:style w:type="paragraph" w:styleId="Standard"><w:name w:val="Normal"/></w:style>
            <w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/><w:basedOn w:val="Standard"/></w:style>
            <w:style w:type="paragraph" w:styleId="Kapitel"><w:name w:val="Kapitel"/><w:basedOn w:val="berschrift1"/></w:style>
            <w:style w:type="paragraph" w:styleId="Gliederung"><w:name w:val="Gliederung"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
            <w:style w:type="paragraph" w:styleId="Schleife"><w:name w:val="Schleife"/><w:basedOn w:val="Schleife"/></w:style>
            </w:styles>
            """
        let body = [
            Self.paragraph("Einleitung", style: "berschrift1"), Self.paragraph("Kapitel eins", style: "Kapitel"),
            Self.paragraph("Abschnitt", style: "Gliederung"), Self.paragraph("Text.", style: "Standard"),
            Self.paragraph("Schleife", style: "Schleife"),
        ].joined()
        let file = try Self.makeDOCX(in: folder, body: body, styles: styles)
        let page = try #require(try await DocumentParser().parse(contentsOf: file, format: .docx).pages.first)
        #expect(page.lines.map(\.fontSize) == [20, 20, 14.5, 10, 10])
    }

    @Test("A DOCX that expands past the size limit fails as a zip bomb, within the parser's time limit and without holding it in memory")
    func zipBomb() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // 64 MiB of spaces inside a paragraph compress to about 64 KiB.
        let file = try Self.makeDOCX(in: folder, body: Self.paragraph("Bomb"), padding: 64 << 20)
        let limits = ParsingLimits(timeLimit: .seconds(30), maximumUncompressedBytes: 8 << 20, maximumCompressionRatio: 100_000)
        // A parser that read the whole bomb would hit the time limit instead, and say so.
        do {
            _ = try await DocumentParser(limits: limits).parse(contentsOf: file, format: .docx)
            Issue.record("a 64 MiB document.xml passed an 8 MiB limit")
        } catch let error as CairnError {
            #expect(error.message == "The DOCX expands to more than 8 MiB; it looks like a zip bomb.")
        }
    }

    @Test("A part whose central directory understates its size is stopped while it is inflated")
    func lyingSizes() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try Self.makeDOCX(in: folder, body: Self.paragraph("Bomb"), padding: 32 << 20)
        var bytes = try Data(contentsOf: file)
        // Every size field of word/document.xml, local header and central directory, says 4 KiB.
        for (signature, offset) in [([0x50, 0x4B, 0x03, 0x04] as [UInt8], 22), ([0x50, 0x4B, 0x01, 0x02], 24)] {
            var search = bytes.startIndex
            while let found = bytes[search...].firstRange(of: signature) {
                let nameOffset = signature[2] == 0x03 ? 30 : 46
                if bytes[(found.lowerBound + nameOffset)...].starts(with: Data("word/document.xml".utf8)) {
                    bytes.replaceSubrange((found.lowerBound + offset)..<(found.lowerBound + offset + 4), with: [0x00, 0x10, 0x00, 0x00])
                }
                search = found.upperBound
            }
        }
        try bytes.write(to: file)
        let limits = ParsingLimits(timeLimit: .seconds(30), maximumUncompressedBytes: 8 << 20, maximumCompressionRatio: 100_000)
        do {
            _ = try await DocumentParser(limits: limits).parse(contentsOf: file, format: .docx)
            Issue.record("a part that lied about its size passed")
        } catch let error as CairnError {
            #expect(error.message == "The DOCX expands to more than 8 MiB; it looks like a zip bomb.")
        }
    }

    @Test("A part compressed far beyond Word's ratio fails even under the size limit")
    func compressionRatio() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try Self.makeDOCX(in: folder, body: Self.paragraph("Bomb"), padding: 4 << 20)
        do {
            _ = try await DocumentParser().parse(contentsOf: file, format: .docx)
            Issue.record("a 1000:1 part passed")
        } catch let error as CairnError {
            #expect(error.message == "The DOCX's word/document.xml expands to more than 100 times its compressed size; it looks like a zip bomb.")
        }
        // A small part is not held to the ratio.
        let small = try Self.makeDOCX(in: folder, name: "small.docx", body: Self.paragraph("Fine"), padding: 512 << 10)
        let document = try await DocumentParser().parse(contentsOf: small, format: .docx)
        #expect(document.pages[0].text == "Fine\n")
    }

    @Test("A deflate stream cut short fails as damaged instead of hanging")
    func truncatedStream() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try Self.makeDOCX(in: folder, body: Self.paragraph("Cut"), padding: 100_000)
        var bytes = try Data(contentsOf: file)
        // A stored deflate block claiming 65,535 bytes, where far fewer follow before the end.
        // document.xml is the archive's first entry: its data follows the 30-byte local header,
        // the name and the extra field.
        #expect(bytes[30..<47] == Data("word/document.xml".utf8))
        let extraLength = Int(bytes[28]) | Int(bytes[29]) << 8
        let dataStart = 30 + 17 + extraLength
        bytes.replaceSubrange(dataStart..<(dataStart + 5), with: [0x00, 0xFF, 0xFF, 0x00, 0x00])
        try bytes.write(to: file)
        do {
            _ = try await DocumentParser(limits: ParsingLimits(timeLimit: .seconds(20))).parse(contentsOf: file, format: .docx)
            Issue.record("a damaged DOCX parsed")
        } catch let error as CairnError {
            #expect(error.message == "The DOCX is damaged: its word/document.xml cannot be decompressed.")
        }
    }

    @Test("Broken archives and XML fail with a sentence each")
    func failures() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let parser = DocumentParser()
        let cases: [(URL, String)] = [
            (try folder.write("junk.docx", "PK\u{3}\u{4} but nothing else"), "The DOCX is not a valid ZIP archive."),
            (
                try Self.makeZIP(in: folder, name: "other.docx", entries: ["readme.txt": "hi"]),
                "The DOCX has no word/document.xml, so it is not a Word document."
            ),
            (
                try Self.makeZIP(in: folder, name: "broken.docx", entries: ["word/document.xml": "<w:document><w:body>"]),
                "The DOCX's document.xml is not well-formed XML."
            ),
            (
                try Self.makeZIP(
                    in: folder,
                    name: "dtd.docx",
                    entries: ["word/document.xml": "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaa\">]><d>&a;</d>"]
                ),
                "The DOCX's document.xml has a document type declaration, which Word documents never have."
            ),
        ]
        for (file, message) in cases {
            do {
                _ = try await parser.parse(contentsOf: file, format: .docx)
                Issue.record("\(file.lastPathComponent) parsed")
            } catch let error as CairnError {
                #expect(error.message == message)
            }
        }
    }

    // MARK: Fixtures

    static func paragraph(_ text: String, style: String? = nil, numbered: Bool = false) -> String {
        let properties = [
            style.map { "<w:pStyle w:val=\"\($0)\"/>" }, numbered ? "<w:numPr><w:ilvl w:val=\"0\"/><w:numId w:val=\"1\"/></w:numPr>" : nil,
        ]
        .compactMap { $0 }.joined()
        return "<w:p><w:pPr>\(properties)</w:pPr><w:r><w:t>\(text)</w:t></w:r></w:p>"
    }

    /// A minimal DOCX around `body`; `padding` spaces inside the body make document.xml as
    /// large as a test needs while compressing to almost nothing.
    static func makeDOCX(
        in folder: TemporaryFolder,
        name: String = "document.docx",
        body: String,
        styles: String? = nil,
        padding: Int = 0
    ) throws -> URL {
        let head = Data(
            """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" \
            xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" \
            xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" xmlns:v="urn:schemas-microsoft-com:vml">\
            <w:body>\(body)
            """.utf8
        )
        let tail = Data("</w:body></w:document>".utf8)
        var entries: [String: Data] = [
            "[Content_Types].xml": Data(
                """
                <?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>
                """.utf8
            )
        ]
        if let styles { entries["word/styles.xml"] = Data(styles.utf8) }
        let file = folder.url.appendingPathComponent(name)
        let archive = try Archive(url: file, accessMode: .create)
        // document.xml first, so a test can find its local header at the start of the file.
        let size = head.count + padding + tail.count
        try archive.addEntry(with: "word/document.xml", type: .file, uncompressedSize: Int64(size), compressionMethod: .deflate) { position, length in
            // Streamed: the padding never exists in memory all at once.
            let range = Int(position)..<(Int(position) + length)
            if range.lowerBound >= head.count, range.upperBound <= head.count + padding { return Data(repeating: 0x20, count: length) }
            return Data(
                range.map { offset in
                    if offset < head.count { return head[offset] }
                    if offset >= head.count + padding { return tail[offset - head.count - padding] }
                    return 0x20
                }
            )
        }
        for (path, data) in entries.sorted(by: { $0.key < $1.key }) {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, length in
                data.subdata(in: Int(position)..<(Int(position) + length))
            }
        }
        return file
    }

    static func makeZIP(in folder: TemporaryFolder, name: String, entries: [String: String]) throws -> URL {
        let file = folder.url.appendingPathComponent(name)
        let archive = try Archive(url: file, accessMode: .create)
        for (path, text) in entries {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, length in
                data.subdata(in: Int(position)..<(Int(position) + length))
            }
        }
        return file
    }
}
