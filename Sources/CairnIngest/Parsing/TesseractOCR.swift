import CTesseract
import CairnCore

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

    /// The words on an 8-bit gray image, in reading order, with their boxes in the image's pixels.
    func recognize(_ image: GrayImage, timeLimit: Duration) throws -> [RecognizedWord] {
        var result = ctess_result()
        var error = ctess_error()
        let milliseconds = Int32(clamping: max(1, timeLimit.wholeMilliseconds))
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            ctess_recognize_gray(
                engine,
                pixels.baseAddress,
                image.width,
                image.height,
                image.bytesPerRow,
                Int32(image.dotsPerInch),
                -1,
                milliseconds,
                &result,
                &error
            )
        }
        defer { ctess_result_free(&result) }
        guard status == CTESS_OK.rawValue else {
            if status == CTESS_ERR_CANCELLED.rawValue { throw ParsingFailure.timeLimit }
            throw CairnError(.invalidInput, "OCR failed: \(Self.message(of: &error)).")
        }
        return (0..<Int(result.word_count)).map { index in
            let word = result.words[index]
            return RecognizedWord(
                text: String(cString: result.words_utf8 + Int(word.text_offset)),
                box: BoundingBox(x0: Double(word.x0), y0: Double(word.y0), x1: Double(word.x1), y1: Double(word.y1)),
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
}
