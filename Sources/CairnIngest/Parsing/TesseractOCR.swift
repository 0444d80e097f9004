import CTesseract
import CairnCore
import Foundation

/// Tesseract behind the C shim: recognises the text of a rendered page.
///
/// Not `Sendable`: a Tesseract engine serves one thread at a time. The PDF parser makes one per
/// document, on the thread that parses it, and only when a page has no text layer (loading the
/// language data takes a few hundred milliseconds).
final class TesseractOCR {
    private let engine: OpaquePointer

    /// - Parameter language: Tesseract language codes, `+`-joined (`eng`, `eng+deu`); their
    ///   `.traineddata` must be installed (Debian: `tesseract-ocr-LANG`).
    init(language: String) throws {
        var error = ctess_error()
        guard let engine = ctess_new(nil, language, &error) else {
            throw CairnError(.misconfigured, "OCR for language '\(language)' is not available: \(Self.message(of: &error)).")
        }
        self.engine = engine
    }

    deinit { ctess_free(engine) }

    /// Tesseract's page segmentation modes that Cairn uses.
    enum Segmentation: Int32 {
        /// Find the blocks, columns and lines of a whole page.
        case automatic = 3
        /// One uniform block of text, such as a machine-readable zone.
        case singleBlock = 6
    }

    /// The words on an 8-bit gray image, in reading order, with their boxes in the image's pixels;
    /// only those inside `region` (pixels) when one is given, made only of `characters` when
    /// they are given; with `symbols`, each "word" is one character.
    func recognize(
        _ image: GrayImage,
        region: BoundingBox? = nil,
        characters: String? = nil,
        symbols: Bool = false,
        segmentation: Segmentation = .automatic,
        timeLimit: Duration
    ) throws -> [RecognizedWord] {
        var result = ctess_result()
        var error = ctess_error()
        let milliseconds = Int32(clamping: max(1, timeLimit.wholeMilliseconds))
        let rectangle = region.map { ctess_rect(x0: Int32($0.x0), y0: Int32($0.y0), x1: Int32($0.x1.rounded(.up)), y1: Int32($0.y1.rounded(.up))) }
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            func recognize(within rectangle: UnsafePointer<ctess_rect>?) -> Int32 {
                ctess_recognize_region(
                    engine,
                    pixels.baseAddress,
                    image.width,
                    image.height,
                    image.bytesPerRow,
                    Int32(image.dotsPerInch),
                    rectangle,
                    characters,
                    symbols ? 1 : 0,
                    segmentation.rawValue,
                    milliseconds,
                    &result,
                    &error
                )
            }
            guard var rectangle else { return recognize(within: nil) }
            return withUnsafePointer(to: &rectangle) { recognize(within: $0) }
        }
        defer { ctess_result_free(&result) }
        guard status == CTESS_OK.rawValue else {
            if status == CTESS_ERR_CANCELLED.rawValue { throw ParsingFailure.timeLimit }
            throw CairnError(.invalidInput, "OCR failed: \(Self.message(of: &error)).")
        }
        // Tesseract now and then reports a word that is only whitespace; it is not one.
        return (0..<Int(result.word_count)).compactMap { index in
            let word = result.words[index]
            let text = String(cString: result.words_utf8 + Int(word.text_offset)).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return nil }
            return RecognizedWord(
                text: text,
                box: BoundingBox(x0: Double(word.x0), y0: Double(word.y0), x1: Double(word.x1), y1: Double(word.y1)),
                confidence: Double(word.confidence),
                block: Int(word.block),
                paragraph: Int(word.para),
                line: Int(word.line)
            )
        }
    }

    private static func message(of error: inout ctess_error) -> String {
        String(cCharacters: &error.message)
    }
}

/// A word Tesseract read, with the running numbers of its block, paragraph and line.
struct RecognizedWord {
    let text: String
    let box: BoundingBox
    /// Tesseract's confidence, 0…100.
    let confidence: Double
    let block: Int
    let paragraph: Int
    let line: Int
}

/// A page rendered to 8-bit gray (0 black, 255 white).
struct GrayImage {
    let width: Int32
    let height: Int32
    let bytesPerRow: Int32
    let dotsPerInch: Double
    let pixels: [UInt8]

    /// Whether the glyph in `box` (pixels) has a vertical stroke near its left edge: dark over
    /// four fifths of its height in one column of its left third. K, B, D, E… have one; the
    /// filler `<` of a machine-readable zone, all diagonals, does not.
    func hasVerticalStem(in box: BoundingBox) -> Bool {
        let (x0, x1) = (max(0, Int(box.x0)), min(Int(width), Int(box.x1.rounded(.up))))
        let (y0, y1) = (max(0, Int(box.y0)), min(Int(height), Int(box.y1.rounded(.up))))
        guard x1 > x0, y1 - y0 >= 4 else { return true }
        return (x0..<(x0 + max(1, (x1 - x0) / 3))).contains { x in
            let dark = (y0..<y1).filter { pixels[$0 * Int(bytesPerRow) + x] < 128 }.count
            return Double(dark) >= 0.8 * Double(y1 - y0)
        }
    }
}
