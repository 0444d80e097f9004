import CMuPDF
import CairnCore
public import Foundation

/// Reads PDFs and images (PNG, JPEG, multi-page TIFF) with MuPDF: each page's structured text
/// (lines, words, their boxes, reading order), and OCR through Tesseract for pages that have no
/// text layer, which is every page of an image.
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

    /// Parses the PDF (or the image, as `format` says) at `file`; `password` opens an encrypted PDF.
    ///
    /// Throws `CairnError` with one sentence a curator can act on: encrypted without (or with the
    /// wrong) password, not a PDF, no pages, too many pages, over the memory or time limit, a
    /// page MuPDF cannot read.
    public func parse(contentsOf file: URL, password: String? = nil, as format: DocumentFormat = .pdf) async throws -> ParsedDocument {
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
                                format: format,
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
            throw CairnError(
                .invalidInput,
                "Parsing the \(format.displayName) took longer than the limit of \(limits.timeLimit.components.seconds) s."
            )
        } catch ParsingFailure.memoryLimit {
            throw CairnError(
                .invalidInput,
                "Parsing the \(format.displayName) needed more than the limit of \(limits.maximumMemoryBytes >> 20) MiB of memory."
            )
        }
    }

    // MARK: On the parsing thread

    private static func parseBlocking(
        _ path: String,
        password: String?,
        format: DocumentFormat,
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
        guard let document = cmu_document_open_file_as(context, path, format.mupdfMagic ?? "application/pdf", password, &error) else {
            throw failure(opening: &error, format: format)
        }
        defer { cmu_document_free(document) }
        let pageCount = Int(cmu_document_page_count(document, &error))
        guard pageCount >= 0 else { throw failure(opening: &error, format: format) }
        guard pageCount > 0 else { throw CairnError(.invalidInput, "The \(format.displayName) has no pages.") }
        guard pageCount <= limits.maximumPages else {
            throw CairnError(.invalidInput, "The \(format.displayName) has \(pageCount) pages, more than the limit of \(limits.maximumPages).")
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
            guard status == CMU_OK.rawValue else { throw failure(onPage: index + 1, of: format, &error) }
            var page = Self.page(number: index + 1, from: textPage)
            // No text layer but something drawn (usually a scan): read it with OCR.
            if page.lines.isEmpty, textPage.image_count != 0, let ocrLanguage {
                if ocr == nil { ocr = try TesseractOCR(language: ocrLanguage) }
                page = try recognize(pageAt: index, of: document, format: format, with: ocr!, cookie: cookie, deadline: deadline)
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
            page.append(
                lineText,
                box: BoundingBox(line.bbox),
                block: Int(line.block_index),
                fontSize: Double(characters.map(\.size).max() ?? 0),
                words: words(of: lineText, characters: characters)
            )
        }
        return ParsedPage(
            number: number,
            width: Double(textPage.width),
            height: Double(textPage.height),
            text: page.text,
            lines: page.lines,
            source: .textLayer,
            words: page.words
        )
    }

    /// A line's words: runs of non-space glyphs, each boxed by the union of its glyphs' boxes.
    /// MuPDF gives one glyph per scalar of the line's text; a line where that does not hold
    /// (never seen, but not promised) gets no words rather than misplaced ones.
    private static func words(of lineText: String, characters: UnsafeBufferPointer<cmu_char>) -> [TextWord] {
        let scalars = Array(lineText.unicodeScalars)
        guard scalars.count == characters.count, zip(scalars, characters).allSatisfy({ $0.value == $1.codepoint }) else { return [] }
        var words: [TextWord] = []
        var start: Int?
        var box: BoundingBox?
        for index in 0...scalars.count {
            if index < scalars.count, !scalars[index].properties.isWhitespace {
                let glyph = BoundingBox(characters[index].bbox)
                if start == nil { start = index }
                box = box.map { $0.union(glyph) } ?? glyph
            } else if let first = start, let wordBox = box {
                words.append(TextWord(range: first..<index, box: wordBox))
                (start, box) = (nil, nil)
            }
        }
        return words
    }

    private static func recognize(
        pageAt index: Int,
        of document: OpaquePointer,
        format: DocumentFormat,
        with ocr: TesseractOCR,
        cookie: AbortCookie,
        deadline: ContinuousClock.Instant
    ) throws -> ParsedPage {
        var error = cmu_error()
        var rendered = cmu_gray_image()
        guard cmu_page_render_gray(document, Int32(index), ocrDotsPerInch, cookie.pointer, &rendered, &error) == CMU_OK.rawValue else {
            throw failure(onPage: index + 1, of: format, &error)
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
        let words = try rereadingMachineReadableZone(in: try ocr.recognize(image, timeLimit: remaining), of: image, with: ocr, deadline: deadline)
        // Tesseract's boxes are in pixels; pages are measured in points.
        let scale = 72 / image.dotsPerInch
        var page = PageTextBuilder()
        var current: (key: [Int], words: [RecognizedWord])?
        func closeLine() {
            guard let (key, lineWords) = current, !lineWords.isEmpty else { return }
            let box = lineWords.dropFirst().reduce(lineWords[0].box) { $0.union($1.box) }
            var offset = 0
            let boxedWords = lineWords.map { word in
                defer { offset += word.text.unicodeScalars.count + 1 }
                return TextWord(range: offset..<(offset + word.text.unicodeScalars.count), box: word.box.scaled(by: scale))
            }
            page.append(
                lineWords.map(\.text).joined(separator: " "),
                box: box.scaled(by: scale),
                block: key[0],
                fontSize: (box.y1 - box.y0) * scale,
                words: boxedWords
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
            source: .ocr,
            words: page.words
        )
    }

    /// ICAO 9303's alphabet, which a machine-readable zone is printed in.
    static let machineReadableAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"

    /// A machine-readable zone (the `<`-filled lines at the foot of a passport or an ID card)
    /// reads far better as one block in its own alphabet: read as ordinary text, its fillers come
    /// back as K or «, some twice, and stray slashes appear. Lines that look like one (28
    /// characters or more, fillers among them) are read again so, character by character, and
    /// each line is rebuilt from the zone's fixed pitch (see `machineReadableLine`).
    private static func rereadingMachineReadableZone(
        in words: [RecognizedWord],
        of image: GrayImage,
        with ocr: TesseractOCR,
        deadline: ContinuousClock.Instant
    ) throws -> [RecognizedWord] {
        let zone = Dictionary(grouping: words) { [$0.block, $0.paragraph, $0.line] }.values.filter { line in
            let text = line.map(\.text).joined()
            return text.count >= 28 && text.filter { $0 == "<" }.count >= 2
        }
        guard let first = zone.first?.first else { return words }
        let box = zone.joined().reduce(first.box) { $0.union($1.box) }
        let margin = (box.y1 - box.y0) / Double(zone.count) / 2
        let region = BoundingBox(x0: box.x0 - 4 * margin, y0: box.y0 - margin, x1: box.x1 + 4 * margin, y1: box.y1 + margin)
        let remaining = deadline - .now
        guard remaining > .zero else { throw ParsingFailure.timeLimit }
        let characters = try ocr.recognize(
            image,
            region: region,
            characters: machineReadableAlphabet,
            symbols: true,
            segmentation: .singleBlock,
            timeLimit: remaining
        )
        let lines = Dictionary(grouping: characters) { $0.line }.sorted { $0.key < $1.key }.map(\.value)
        guard (2...3).contains(lines.count) else { return words }
        // The zone's lines become a block of their own, where the first word they replace stood.
        let block = (words.map(\.block).max() ?? 0) + 1
        let length = lines.count == 3 ? 30 : [36, 44].min { abs($0 - lines[0].count) < abs($1 - lines[0].count) }!
        let rebuilt = lines.enumerated().map { index, line in
            let box = line.dropFirst().reduce(line[0].box) { $0.union($1.box) }
            // OCR's commonest slip in a zone is a filler read as K; a K has a vertical stem, the
            // chevron does not.
            let checked = line.map { character in
                guard character.text == "K", !image.hasVerticalStem(in: character.box) else { return character }
                return RecognizedWord(text: "<", box: character.box, confidence: character.confidence, block: 0, paragraph: 0, line: 0)
            }
            return RecognizedWord(
                text: machineReadableLine(checked, length: length),
                box: box,
                confidence: line.map(\.confidence).min() ?? 0,
                block: block,
                paragraph: 0,
                line: index
            )
        }
        let inRegion = { (word: RecognizedWord) -> Bool in
            let (x, y) = ((word.box.x0 + word.box.x1) / 2, (word.box.y0 + word.box.y1) / 2)
            return x >= region.x0 && x <= region.x1 && y >= region.y0 && y <= region.y1
        }
        guard let position = words.firstIndex(where: inRegion) else { return words }
        var kept = words.filter { !inRegion($0) }
        kept.insert(contentsOf: rebuilt, at: words[..<position].filter { !inRegion($0) }.count)
        return kept
    }

    /// One line of a machine-readable zone from its characters: the font is monospaced, so the
    /// line's width divided by its length is the pitch, and each character belongs to the cell
    /// under its centre. A cell read twice (a filler seen as `<` and as `K`) keeps the likelier
    /// reading, the filler on a tie; a cell read not at all is a filler.
    static func machineReadableLine(_ characters: [RecognizedWord], length: Int) -> String {
        guard let left = characters.map(\.box.x0).min(), let right = characters.map(\.box.x1).max(), right > left else { return "" }
        let pitch = (right - left) / Double(length)
        var cells = [RecognizedWord?](repeating: nil, count: length)
        for character in characters where character.text.count == 1 {
            let cell = min(length - 1, max(0, Int(((character.box.x0 + character.box.x1) / 2 - left) / pitch)))
            if let held = cells[cell] {
                let likelier = character.confidence > held.confidence || (character.confidence == held.confidence && character.text == "<")
                if likelier { cells[cell] = character }
            } else {
                cells[cell] = character
            }
        }
        return String(cells.map { $0?.text ?? "<" }.joined())
    }

    private static func failure(opening error: inout cmu_error, format: DocumentFormat) -> any Error {
        switch Int(error.code) {
        case Int(CMU_ERR_NEEDS_PASSWORD.rawValue): CairnError(.invalidInput, "The PDF is encrypted; give its password to open it.")
        case Int(CMU_ERR_WRONG_PASSWORD.rawValue): CairnError(.invalidInput, "The PDF's password is wrong.")
        case Int(CMU_ERR_MEMORY.rawValue): ParsingFailure.memoryLimit
        case Int(CMU_ERR_UNSUPPORTED.rawValue): CairnError(.invalidInput, "The file is not a \(format.displayName).")
        default: CairnError(.invalidInput, "The \(format.displayName) could not be opened (\(message(of: &error))).")
        }
    }

    private static func failure(onPage number: Int, of format: DocumentFormat, _ error: inout cmu_error) -> any Error {
        switch Int(error.code) {
        case Int(CMU_ERR_ABORTED.rawValue): ParsingFailure.timeLimit
        case Int(CMU_ERR_MEMORY.rawValue): ParsingFailure.memoryLimit
        default: CairnError(.invalidInput, "Page \(number) of the \(format.displayName) could not be read (\(message(of: &error))).")
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
    private(set) var words: [TextWord] = []
    private var length = 0

    /// Appends a line; `words` are its words' ranges within `line` (in Unicode scalars) and boxes.
    mutating func append(_ line: String, box: BoundingBox, block: Int, fontSize: Double, words lineWords: [TextWord] = []) {
        if let last = lines.last, last.block != block {
            text += "\n"
            length += 1
        }
        let count = line.unicodeScalars.count
        lines.append(TextLine(range: length..<(length + count), box: box, block: block, fontSize: fontSize))
        words += lineWords.map { TextWord(range: ($0.range.lowerBound + length)..<($0.range.upperBound + length), box: $0.box) }
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

    /// The box with every coordinate multiplied by `factor` (pixels to points).
    func scaled(by factor: Double) -> BoundingBox {
        BoundingBox(x0: x0 * factor, y0: y0 * factor, x1: x1 * factor, y1: y1 * factor)
    }
}
