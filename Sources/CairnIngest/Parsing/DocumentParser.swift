import CairnCore
public import Foundation

/// Parses a document of any supported format into pages of text with line ranges: the one
/// entry point ingestion calls.
///
/// PDFs go to ``PDFParser``. DOCX, HTML, Markdown and plain text have no pages, so each becomes
/// one page (number 1, measuring 0 × 0, every line's box all zeros) whose blocks are its
/// paragraphs, list items, headings, code blocks and whole tables, headings carrying font sizes
/// the ``Chunker`` recognises. Those parsers are plain Swift; like MuPDF they run on a Dispatch
/// thread, off Swift's cooperative pool, and check the time limit and task cancellation as they go.
public struct DocumentParser: Sendable {
    public let limits: ParsingLimits
    /// Tesseract language codes for PDF pages without a text layer; `nil` leaves such pages empty.
    public let ocrLanguage: String?

    public init(limits: ParsingLimits = ParsingLimits(), ocrLanguage: String? = "eng") {
        self.limits = limits
        self.ocrLanguage = ocrLanguage
    }

    /// Parses the file at `file` as `format` (see ``DocumentFormat/detect(fileAt:declaredName:declaredMediaType:)``);
    /// `password` opens an encrypted PDF and is ignored for other formats.
    ///
    /// Throws `CairnError` with one sentence a curator can act on (as ``PDFParser`` does), or
    /// `CancellationError` when the task is cancelled.
    public func parse(contentsOf file: URL, format: DocumentFormat, password: String? = nil) async throws -> ParsedDocument {
        let limits = self.limits
        let parse: @Sendable (ParsingBudget) throws -> ParsedDocument
        switch format {
        case .pdf, .png, .jpeg, .tiff:
            return try await PDFParser(limits: limits, ocrLanguage: ocrLanguage).parse(contentsOf: file, password: password, as: format)
        case .docx: parse = { try DOCXParser(limits: limits).parse(contentsOf: file, budget: $0) }
        case .html: parse = { try HTMLParser(limits: limits).parse(contentsOf: file, budget: $0) }
        case .markdown: parse = { try MarkdownParser(limits: limits).parse(contentsOf: file, budget: $0) }
        case .text: parse = { try PlainTextParser(limits: limits).parse(contentsOf: file, budget: $0) }
        }
        let budget = ParsingBudget(timeLimit: limits.timeLimit)
        do {
            return try await withTaskCancellationHandler {
                try await offCooperativePool { try parse(budget) }
            } onCancel: {
                budget.cancel()
            }
        } catch ParsingFailure.timeLimit {
            throw CairnError(
                .invalidInput,
                "Parsing the \(format.displayName) took longer than the limit of \(limits.timeLimit.components.seconds) s."
            )
        }
    }
}
