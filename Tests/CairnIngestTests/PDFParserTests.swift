import CairnCore
import CMuPDF
@testable import CairnIngest
import Foundation
import Testing

/// `../shared/data`, as scripts/test.sh passes it (or found beside the checkout).
let sharedData: URL = {
    if let path = ProcessInfo.processInfo.environment["CAIRN_SHARED_DATA"] { return URL(fileURLWithPath: path) }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data").standardized
}()

let pdfFolder = sharedData.appendingPathComponent("pdfs")

@Suite("PDF parsing")
struct PDFParserTests {
    let parser = PDFParser(limits: ParsingLimits(timeLimit: .seconds(60)))

    /// Every PDF in the shared corpus, by path relative to `pdfs/`.
    static let corpus: [String] = {
        let enumerator = FileManager.default.enumerator(at: pdfFolder, includingPropertiesForKeys: nil)
        let root = pdfFolder.standardized.path + "/"
        return (enumerator?.compactMap { ($0 as? URL)?.standardized.path } ?? [])
            .filter { $0.lowercased().hasSuffix(".pdf") }
            .map { String($0.dropFirst(root.count)) }
            .sorted()
    }()

    /// Page counts (and encryption) py-pdf-sample-files lists for its PDFs.
    static let listed: [String: (pages: Int, encrypted: Bool)] = {
        struct Listing: Decodable {
            struct Entry: Decodable {
                let path: String
                let pages: Int
                let encrypted: Bool
            }
            let data: [Entry]
        }
        let url = pdfFolder.appendingPathComponent("py-pdf-sample-files/files.json")
        guard let data = try? Data(contentsOf: url), let listing = try? JSONDecoder().decode(Listing.self, from: data) else { return [:] }
        return Dictionary(uniqueKeysWithValues: listing.data.map { ("py-pdf-sample-files/" + $0.path, ($0.pages, $0.encrypted)) })
    }()

    /// Passwords of the encrypted samples: py-pdf-sample-files gives its in the sample's README,
    /// pdfplumber's test suite opens its sample with "test".
    static let passwords = [
        "py-pdf-sample-files/005-libreoffice-writer-password/libreoffice-writer-password.pdf": "openpassword",
        "pdfplumber/password-example.pdf": "test",
    ]

    @Test("The shared corpus is where the tests expect it")
    func corpusPresent() {
        #expect(Self.corpus.count >= 80, "found \(Self.corpus.count) PDFs under \(pdfFolder.path)")
        #expect(Self.listed.count >= 30)
    }

    @Test("Every shared PDF parses or fails with one sentence; page counts match files.json", arguments: corpus)
    func everyPDF(path: String) async throws {
        let file = pdfFolder.appendingPathComponent(path)
        do {
            let document = try await parser.parse(contentsOf: file, password: Self.passwords[path])
            #expect(!document.pages.isEmpty)
            #expect(document.pages.map(\.number) == Array(1...document.pages.count))
            if let listed = Self.listed[path] {
                #expect(document.pages.count == listed.pages, "\(path): \(document.pages.count) pages, files.json says \(listed.pages)")
            }
        } catch let error as CairnError {
            // A failure is a reason a curator can read: one sentence, no stack, no C status.
            #expect(error.message.hasSuffix("."), "\(path): \(error.message)")
            #expect(!error.message.contains("\n"), "\(path): \(error.message)")
            #expect(Self.expectedFailures[path] != nil, "\(path) failed: \(error.message)")
            if let expected = Self.expectedFailures[path] { #expect(error.message.contains(expected), "\(path): \(error.message)") }
        }
    }

    /// Files MuPDF cannot read, and the reason each must give. `unreadablemetadata.pdf` has a
    /// broken page tree that MuPDF's repair does not recover (`mutool info` reports 0 pages too;
    /// files.json's 4 comes from pypdf, which reads the linearization hints).
    static let expectedFailures = [
        "pdfplumber/empty.pdf": "could not be opened",
        "py-pdf-sample-files/017-unreadable-meta-data/unreadablemetadata.pdf": "has no pages",
    ]

    @Test("An encrypted PDF fails without its password, fails with a wrong one, and opens with the right one")
    func encrypted() async throws {
        let file = pdfFolder.appendingPathComponent("py-pdf-sample-files/005-libreoffice-writer-password/libreoffice-writer-password.pdf")
        do {
            _ = try await parser.parse(contentsOf: file)
            Issue.record("an encrypted PDF opened without its password")
        } catch let error as CairnError {
            #expect(error.message == "The PDF is encrypted; give its password to open it.")
        }
        do {
            _ = try await parser.parse(contentsOf: file, password: "not-it")
            Issue.record("a wrong password opened the PDF")
        } catch let error as CairnError {
            #expect(error.message == "The PDF's password is wrong.")
        }
        let document = try await parser.parse(contentsOf: file, password: "openpassword")
        #expect(document.pages.count == 1)
        #expect(document.pages[0].text.hasPrefix("Lorem ipsum dolor sit amet"), "\(document.pages[0].text)")
    }

    @Test("Every line's range holds exactly that line's text within its page")
    func lineRanges() async throws {
        let file = pdfFolder.appendingPathComponent("py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf")
        let document = try await parser.parse(contentsOf: file)
        #expect(document.pages.count == 4)
        for page in document.pages {
            let scalars = Array(page.text.unicodeScalars)
            #expect(!page.lines.isEmpty)
            for line in page.lines {
                let text = String(String.UnicodeScalarView(scalars[line.range]))
                #expect(!text.contains("\n") && !text.trimmingCharacters(in: .whitespaces).isEmpty)
                #expect(line.box.x1 > line.box.x0 && line.box.y1 > line.box.y0)
                #expect(line.box.x0 >= -1 && line.box.x1 <= page.width + 1)
            }
        }
    }

    @Test("A page tree that loops fails with a reason, and limits on pages and time hold")
    func limits() async throws {
        let loop = FileManager.default.temporaryDirectory.appendingPathComponent("loop-\(UUID().uuidString).pdf")
        try Data(Self.loopingPageTree.utf8).write(to: loop)
        defer { try? FileManager.default.removeItem(at: loop) }
        await #expect(throws: CairnError.self) { try await parser.parse(contentsOf: loop) }

        let fourPages = pdfFolder.appendingPathComponent("py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf")
        do {
            _ = try await PDFParser(limits: ParsingLimits(maximumPages: 3)).parse(contentsOf: fourPages)
            Issue.record("a 4-page PDF passed a 3-page limit")
        } catch let error as CairnError {
            #expect(error.message == "The PDF has 4 pages, more than the limit of 3.")
        }
        do {
            _ = try await PDFParser(limits: ParsingLimits(maximumMemoryBytes: 1 << 20)).parse(contentsOf: pdfFolder.appendingPathComponent("pdfplumber/federal-register-2020-17221.pdf"))
            Issue.record("a 1 MiB memory limit held a federal register issue")
        } catch let error as CairnError {
            #expect(error.message.contains("memory"), "\(error.message)")
        }
    }

    /// A hand-written PDF whose page tree's only kid is the tree itself.
    static let loopingPageTree = """
        %PDF-1.4
        1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
        2 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj
        trailer << /Root 1 0 R >>
        %%EOF
        """
}
