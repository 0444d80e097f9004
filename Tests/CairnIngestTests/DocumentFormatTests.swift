import CairnCore
import Foundation
import Testing

@testable import CairnIngest

@Suite("Format detection")
struct DocumentFormatTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
    }

    func detect(_ data: Data, name: String? = nil, mediaType: String? = nil) throws(CairnError) -> DocumentFormat {
        let file: URL
        do { file = try folder.write(UUID().uuidString, data) } catch { throw CairnError(.internalFailure, "fixture", underlying: error) }
        return try DocumentFormat.detect(fileAt: file, declaredName: name, declaredMediaType: mediaType)
    }

    func expectFailure(
        _ data: Data,
        name: String? = nil,
        mediaType: String? = nil,
        _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let format = try detect(data, name: name, mediaType: mediaType)
            Issue.record("detected \(format)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message == message, sourceLocation: sourceLocation)
            #expect(error.code == .invalidInput, sourceLocation: sourceLocation)
        }
    }

    static let pdf = Data("%PDF-1.7\n1 0 obj << >> endobj\n".utf8)
    static let html = Data("\u{FEFF}  <!-- saved page -->\n<!DOCTYPE HTML>\n<html><body><p>Hi</p></body></html>".utf8)

    @Test("Content decides each format; the name and media type only tell Markdown from plain text")
    func formats() throws {
        defer { folder.remove() }
        let docx = try Data(contentsOf: DOCXParserTests.makeDOCX(in: folder, body: DOCXParserTests.paragraph("Hi")))
        #expect(try detect(Self.pdf, name: "report.pdf", mediaType: "application/pdf") == .pdf)
        #expect(try detect(Data(repeating: 0x20, count: 500) + Self.pdf) == .pdf)
        #expect(try detect(docx, name: "letter.docx") == .docx)
        #expect(try detect(Self.html, name: "page.html", mediaType: "text/html; charset=utf-8") == .html)
        #expect(try detect(Data("<body>Hi".utf8)) == .html)
        #expect(try detect(Data("# Title\n\nText.".utf8), name: "notes.md") == .markdown)
        #expect(try detect(Data("# Title\n\nText.".utf8), name: "notes.md", mediaType: "text/plain") == .markdown)
        #expect(try detect(Data("# Title\n\nText.".utf8), mediaType: "text/markdown") == .markdown)
        #expect(try detect(Data("Plain words, é.".utf8), name: "notes.txt", mediaType: "text/plain") == .text)
        #expect(try detect(Data("Plain words.".utf8), name: "notes", mediaType: "application/octet-stream") == .text)
        // HTML declared for what is plain text is read as what it is.
        #expect(try detect(Data("Just words.".utf8), name: "page.html", mediaType: "text/html") == .text)
        // `<header>` is not `<head>`.
        #expect(try detect(Data("<header>Words</header>".utf8)) == .text)
        #expect(try detect(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00]), name: "scan.png") == .png)
        #expect(try detect(Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00]), name: "photo.JPG", mediaType: "image/jpeg") == .jpeg)
        #expect(try detect(Data([0x49, 0x49, 0x2A, 0x00, 0x08]), name: "pack.tif") == .tiff)
        #expect(try detect(Data([0x4D, 0x4D, 0x00, 0x2A, 0x00]), mediaType: "image/tiff") == .tiff)
        // A character cut off where sniffing stops is still UTF-8.
        #expect(try detect(Data(repeating: 0x61, count: 8_191) + Data("é and more".utf8)) == .text)
    }

    @Test("A name or media type naming another format than the content fails, naming both")
    func mismatches() throws {
        defer { folder.remove() }
        let docx = try Data(contentsOf: DOCXParserTests.makeDOCX(in: folder, body: DOCXParserTests.paragraph("Hi")))
        expectFailure(Self.pdf, name: "x.docx", "The file's content is PDF but its name says DOCX.")
        expectFailure(Self.html, mediaType: "application/pdf", "The file's content is HTML but its media type says PDF.")
        expectFailure(docx, name: "scan.PDF", "The file's content is DOCX but its name says PDF.")
        expectFailure(Data("Words.".utf8), name: "x.pdf", "The file's content is plain text but its name says PDF.")
        expectFailure(Self.html, name: "page.md", "The file's content is HTML but its name says Markdown.")
        expectFailure(Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00]), name: "passport.png", "The file's content is JPEG but its name says PNG.")
    }

    @Test("Empty files, binary junk, ZIP archives that are not Word documents and legacy Office files fail with a sentence")
    func unsupported() throws {
        defer { folder.remove() }
        let zip = try Data(contentsOf: DOCXParserTests.makeZIP(in: folder, name: "photos.zip", entries: ["photo.txt": "not a photo"]))
        expectFailure(Data(), "The file is empty.")
        expectFailure(
            Data([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00]),
            name: "x.gif",
            "The file's format is not supported; upload PDF, a PNG, JPEG or TIFF image, DOCX, HTML, Markdown or plain text."
        )
        expectFailure(
            Data("text\0with NUL".utf8),
            "The file's format is not supported; upload PDF, a PNG, JPEG or TIFF image, DOCX, HTML, Markdown or plain text."
        )
        expectFailure(
            Data([0x63, 0x61, 0x66, 0xE9, 0x20]),
            "The file's format is not supported; upload PDF, a PNG, JPEG or TIFF image, DOCX, HTML, Markdown or plain text."
        )
        expectFailure(zip, name: "photos.docx", "The file is a ZIP archive but not a Word document.")
        expectFailure(Data([0x50, 0x4B, 0x03, 0x04, 0x00]), "The file looks like a ZIP archive but cannot be read as one.")
        expectFailure(
            Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0x00]),
            name: "old.doc",
            "The file is a legacy or password-protected Office document; save it as DOCX without a password, or as PDF."
        )
        expectFailure(Data([0xFF, 0xFE, 0x41, 0x00]), "The file is UTF-16 text; save it as UTF-8 and upload it again.")
    }
}
