import CMuPDF
import CairnCore
import CairnTestSupport
import Foundation
import Testing

@testable import CairnIngest

@Suite("PDF parsing")
struct PDFParserTests {
    let parser = PDFParser(limits: ParsingLimits(timeLimit: .seconds(60)))

    @Test("The shared corpus is where the tests expect it")
    func corpusPresent() {
        #expect(SharedPDFs.corpus.count >= 80, "found \(SharedPDFs.corpus.count) PDFs under \(SharedPDFs.folder.path)")
        #expect(SharedPDFs.listed.count >= 30)
    }

    @Test("Every shared PDF parses or fails with one sentence; page counts match files.json", arguments: SharedPDFs.corpus)
    func everyPDF(path: String) async throws {
        let file = SharedPDFs.folder.appendingPathComponent(path)
        do {
            let document = try await parser.parse(contentsOf: file, password: SharedPDFs.passwords[path])
            #expect(!document.pages.isEmpty)
            #expect(document.pages.map(\.number) == Array(1...document.pages.count))
            if let listed = SharedPDFs.listed[path] {
                #expect(document.pages.count == listed.pages, "\(path): \(document.pages.count) pages, files.json says \(listed.pages)")
            }
        } catch let error as CairnError {
            // A failure is a reason a curator can read: one sentence, no stack, no C status.
            #expect(error.message.hasSuffix("."), "\(path): \(error.message)")
            #expect(!error.message.contains("\n"), "\(path): \(error.message)")
            #expect(SharedPDFs.unreadable[path] != nil, "\(path) failed: \(error.message)")
            if let expected = SharedPDFs.unreadable[path] { #expect(error.message.contains(expected), "\(path): \(error.message)") }
        }
    }

    @Test("An encrypted PDF fails without its password, fails with a wrong one, and opens with the right one")
    func encrypted() async throws {
        let file = SharedPDFs.folder.appendingPathComponent("py-pdf-sample-files/005-libreoffice-writer-password/libreoffice-writer-password.pdf")
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
        let file = SharedPDFs.folder.appendingPathComponent("py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf")
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
        try Data(SharedPDFs.loopingPageTree.utf8).write(to: loop)
        defer { try? FileManager.default.removeItem(at: loop) }
        await #expect(throws: CairnError.self) { try await parser.parse(contentsOf: loop) }

        let fourPages = SharedPDFs.folder.appendingPathComponent("py-pdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf")
        do {
            _ = try await PDFParser(limits: ParsingLimits(maximumPages: 3)).parse(contentsOf: fourPages)
            Issue.record("a 4-page PDF passed a 3-page limit")
        } catch let error as CairnError {
            #expect(error.message == "The PDF has 4 pages, more than the limit of 3.")
        }
        do {
            _ = try await PDFParser(limits: ParsingLimits(maximumMemoryBytes: 1 << 20)).parse(
                contentsOf: SharedPDFs.folder.appendingPathComponent("pdfplumber/federal-register-2020-17221.pdf")
            )
            Issue.record("a 1 MiB memory limit held a federal register issue")
        } catch let error as CairnError {
            #expect(error.message.contains("memory"), "\(error.message)")
        }
    }
}
