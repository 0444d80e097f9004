import CMuPDF
import CairnCore
public import Foundation

/// Reads PDFs with MuPDF: each page's structured text (lines, their boxes, reading order), and
/// OCR through Tesseract for pages that have no text layer.
///
/// Parsing is CPU-bound C work, so it runs on a Dispatch thread rather than on Swift's
/// cooperative pool, which it would otherwise hold for seconds at a time. The time limit and
/// task cancellation both abort MuPDF through its cookie, which it checks between content
/// operators.
public struct PDFParser: Sendable {
    public let limits: ParsingLimits
    /// Tesseract language codes for pages without a text layer; `nil` leaves such pages empty.
    public let ocrLanguage: String?

    /// Resolution pages are rendered at for OCR: Tesseract reads body text best at about 300 dpi.
    static let ocrDotsPerInch: Float = 300

    public init(limits: ParsingLimits = ParsingLimits(), ocrLanguage: String? = "eng") {
        self.limits = limits
        self.ocrLanguage = ocrLanguage
    }

    /// Parses the PDF at `file`; `password` opens an encrypted one.
    ///
    /// Throws `CairnError` with one sentence a curator can act on: encrypted without (or with the
    /// wrong) password, not a PDF, no pages, too many pages, over the memory or time limit, a
    /// page MuPDF cannot read.
    public func parse(contentsOf file: URL, password: String? = nil) async throws -> ParsedDocument {
        let cookie = AbortCookie()
        let limits = self.limits
        let language = ocrLanguage
        let deadline = ContinuousClock.now + limits.timeLimit
        do {
            return try await withThrowingTaskGroup(of: ParsedDocument?.self) { group in
                group.addTask {
                    try await withTaskCancellationHandler {
                        try await offCooperativePool {
                            try Self.parseBlocking(
                                file.path,
                                password: password,
                                limits: limits,
                                ocrLanguage: language,
                                deadline: deadline,
                                cookie: cookie
                            )
                        }
                    } onCancel: {
                        cookie.abort()
                    }
                }
                group.addTask {
                    try await Task.sleep(until: deadline)
                    cookie.abort()
                    return nil
                }
                defer { group.cancelAll() }
                while let finished = try await group.next() {
                    if let document = finished { return document }
                }
                throw CancellationError()
            }
        } catch ParsingFailure.timeLimit {
            if Task.isCancelled { throw CancellationError() }
            throw CairnError(.invalidInput, "Parsing the PDF took longer than the limit of \(limits.timeLimit.components.seconds) s.")
        } catch ParsingFailure.memoryLimit {
            throw CairnError(.invalidInput, "Parsing the PDF needed more than the limit of \(limits.maximumMemoryBytes >> 20) MiB of memory.")
        }
    }

    // MARK: On the parsing thread

    private static func parseBlocking(
        _ path: String,
        password: String?,
        limits: ParsingLimits,
        ocrLanguage: String?,
        deadline: ContinuousClock.Instant,
        cookie: AbortCookie
    ) throws -> ParsedDocument {
        var error = cmu_error()
        guard let context = cmu_context_new(limits.maximumMemoryBytes, 0, &error) else {
            throw CairnError(.internalFailure, "The PDF engine could not start: \(message(of: &error)).")
        }
        defer { cmu_context_free(context) }
        guard let document = cmu_document_open_file(context, path, password, &error) else {
            throw failure(opening: &error)
        }
        defer { cmu_document_free(document) }
        let pageCount = Int(cmu_document_page_count(document, &error))
        guard pageCount >= 0 else { throw failure(opening: &error) }
        guard pageCount > 0 else { throw CairnError(.invalidInput, "The PDF has no pages.") }
        guard pageCount <= limits.maximumPages else {
            throw CairnError(.invalidInput, "The PDF has \(pageCount) pages, more than the limit of \(limits.maximumPages).")
        }
        var ocr: TesseractOCR?
        var pages: [ParsedPage] = []
        pages.reserveCapacity(pageCount)
        for index in 0..<pageCount {
            var textPage = cmu_text_page()
            // Text outside the page's media box is not on the page a reader sees; a citation
            // must never point at it.
            let status = cmu_page_extract_text(document, Int32(index), Int32(CMU_TEXT_MEDIABOX_CLIP), cookie.pointer, &textPage, &error)
            defer { cmu_text_page_free(&textPage) }
            guard status == CMU_OK.rawValue else { throw failure(onPage: index + 1, &error) }
            var page = Self.page(number: index + 1, from: textPage)
            // No text layer but something drawn (usually a scan): read it with OCR.
            if page.lines.isEmpty, textPage.image_count != 0, let ocrLanguage {
                if ocr == nil { ocr = try TesseractOCR(language: ocrLanguage) }
                page = try recognize(pageAt: index, of: document, with: ocr!, cookie: cookie, deadline: deadline)
            }
            pages.append(page)
        }
        return ParsedDocument(pages: pages)
    }

    /// The page's text layer, rebuilt so that line ranges count Unicode scalars.
    private static func page(number: Int, from textPage: cmu_text_page) -> ParsedPage {
        var page = PageTextBuilder()
        for lineIndex in 0..<Int(textPage.line_count) {
            let line = textPage.lines[lineIndex]
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(textPage.utf8 + Int(line.utf8_offset)).assumingMemoryBound(to: UInt8.self),
                count: Int(line.utf8_length)
            )
            let lineText = String(decoding: bytes, as: UTF8.self)
            guard lineText.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else { continue }
            let characters = UnsafeBufferPointer(start: textPage.chars + Int(line.first_char), count: Int(line.char_count))
            page.append(lineText, box: BoundingBox(line.bbox), block: Int(line.block_index), fontSize: Double(characters.map(\.size).max() ?? 0))
        }
        return ParsedPage(
            number: number,
            width: Double(textPage.width),
            height: Double(textPage.height),
            text: page.text,
            lines: page.lines,
            source: .textLayer
        )
    }

    private static func recognize(
        pageAt index: Int,
        of document: OpaquePointer,
        with ocr: TesseractOCR,
        cookie: AbortCookie,
        deadline: ContinuousClock.Instant
    ) throws -> ParsedPage {
        var error = cmu_error()
        var rendered = cmu_gray_image()
        guard cmu_page_render_gray(document, Int32(index), ocrDotsPerInch, cookie.pointer, &rendered, &error) == CMU_OK.rawValue else {
            throw failure(onPage: index + 1, &error)
        }
        let image = GrayImage(
            width: rendered.width,
            height: rendered.height,
            bytesPerRow: rendered.stride,
            dotsPerInch: Double(rendered.dpi),
            pixels: Array(UnsafeBufferPointer(start: rendered.samples, count: Int(rendered.stride) * Int(rendered.height)))
        )
        cmu_gray_image_free(&rendered)
        let remaining = deadline - .now
        guard remaining > .zero else { throw ParsingFailure.timeLimit }
        let words = try ocr.recognize(image, timeLimit: remaining)
        // Tesseract's boxes are in pixels; pages are measured in points.
        let scale = 72 / image.dotsPerInch
        var page = PageTextBuilder()
        var current: (key: [Int], words: [RecognizedWord])?
        func closeLine() {
            guard let (key, lineWords) = current, !lineWords.isEmpty else { return }
            let box = lineWords.dropFirst().reduce(lineWords[0].box) { $0.union($1.box) }
            page.append(
                lineWords.map(\.text).joined(separator: " "),
                box: BoundingBox(x0: box.x0 * scale, y0: box.y0 * scale, x1: box.x1 * scale, y1: box.y1 * scale),
                block: key[0],
                fontSize: (box.y1 - box.y0) * scale
            )
        }
        for word in words {
            // A new paragraph starts a new block, as a text layer's paragraphs are blocks.
            let key = [word.block * 10_000 + word.paragraph, word.line]
            if current?.key != key {
                closeLine()
                current = (key, [])
            }
            current?.words.append(word)
        }
        closeLine()
        return ParsedPage(
            number: index + 1,
            width: Double(image.width) * scale,
            height: Double(image.height) * scale,
            text: page.text,
            lines: page.lines,
            source: .ocr
        )
    }

    private static func failure(opening error: inout cmu_error) -> any Error {
        switch Int(error.code) {
        case Int(CMU_ERR_NEEDS_PASSWORD.rawValue): CairnError(.invalidInput, "The PDF is encrypted; give its password to open it.")
        case Int(CMU_ERR_WRONG_PASSWORD.rawValue): CairnError(.invalidInput, "The PDF's password is wrong.")
        case Int(CMU_ERR_MEMORY.rawValue): ParsingFailure.memoryLimit
        case Int(CMU_ERR_UNSUPPORTED.rawValue): CairnError(.invalidInput, "The file is not a PDF.")
        default: CairnError(.invalidInput, "The PDF could not be opened (\(message(of: &error))).")
        }
    }

    private static func failure(onPage number: Int, _ error: inout cmu_error) -> any Error {
        switch Int(error.code) {
        case Int(CMU_ERR_ABORTED.rawValue): ParsingFailure.timeLimit
        case Int(CMU_ERR_MEMORY.rawValue): ParsingFailure.memoryLimit
        default: CairnError(.invalidInput, "Page \(number) of the PDF could not be read (\(message(of: &error))).")
        }
    }

    private static func message(of error: inout cmu_error) -> String {
        String(cCharacters: &error.message)
    }
}

/// Assembles a page's canonical text line by line, from a text layer, OCR or a format without
/// pages alike: each line ends in `\n`, a blank line separates blocks, and each line's range
/// counts Unicode scalars.
struct PageTextBuilder {
    private(set) var text = ""
    private(set) var lines: [TextLine] = []
    private var length = 0

    mutating func append(_ line: String, box: BoundingBox, block: Int, fontSize: Double) {
        if let last = lines.last, last.block != block {
            text += "\n"
            length += 1
        }
        let count = line.unicodeScalars.count
        lines.append(TextLine(range: length..<(length + count), box: box, block: block, fontSize: fontSize))
        text += line + "\n"
        length += count + 1
    }
}

extension String {
    /// The text of a C shim's fixed-size, NUL-terminated message field (imported as a tuple).
    init<Field>(cCharacters field: inout Field) {
        self = withUnsafeBytes(of: &field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// Limits reached on the parsing thread; `parse` words them with the limit's value.
enum ParsingFailure: Error {
    case timeLimit
    case memoryLimit
}

/// MuPDF's cancellation cookie.
///
/// `@unchecked Sendable`: MuPDF reads the cookie on the parsing thread while `abort()` may be
/// called from any thread, which the shim makes safe (`cmu_cookie_abort` is one atomic store);
/// the cookie is freed only when the last reference goes, after parsing returned.
final class AbortCookie: @unchecked Sendable {
    let pointer: OpaquePointer

    init() {
        pointer = cmu_cookie_new()
    }

    func abort() { cmu_cookie_abort(pointer) }

    deinit { cmu_cookie_free(pointer) }
}

extension BoundingBox {
    init(_ rect: cmu_rect) {
        self.init(x0: Double(rect.x0), y0: Double(rect.y0), x1: Double(rect.x1), y1: Double(rect.y1))
    }
}
