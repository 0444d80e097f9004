public import CairnCore
public import Foundation
import ZIPFoundation

/// The document formats Cairn reads.
public enum DocumentFormat: String, Sendable, CaseIterable {
    case pdf
    case png
    case jpeg
    case tiff
    case docx
    case html
    case markdown
    case text

    /// The format as a sentence names it.
    var displayName: String {
        switch self {
        case .pdf: "PDF"
        case .png: "PNG"
        case .jpeg: "JPEG"
        case .tiff: "TIFF"
        case .docx: "DOCX"
        case .html: "HTML"
        case .markdown: "Markdown"
        case .text: "plain text"
        }
    }

    /// What the file is, decided by its content; the declared name and media type only tell
    /// Markdown from plain text, and are checked against the content.
    ///
    /// Only the first few KB are read, and for a ZIP archive its central directory. A name or
    /// media type that names a different format than the content fails with a sentence naming
    /// both, since one of them is wrong and parsing by either could mislead; Markdown, plain text
    /// and HTML declared for plain text are not mismatches (Markdown *is* plain text, and a page
    /// without markup is read as what it is). A missing declaration or
    /// `application/octet-stream` declares nothing.
    ///
    /// Throws `CairnError` (`invalidInput`) for an empty file, an unsupported format, a ZIP
    /// archive that is not a Word document, or a mismatch.
    public static func detect(fileAt url: URL, declaredName: String?, declaredMediaType: String?) throws(CairnError) -> DocumentFormat {
        let content = try contentFormat(of: url)
        let byName = declaredName.flatMap(format(forName:))
        let byMediaType = declaredMediaType.flatMap(format(forMediaType:))
        for (declared, source) in [(byName, "name"), (byMediaType, "media type")] {
            if let declared, !content.agrees(withDeclared: declared) {
                throw CairnError(.invalidInput, "The file's content is \(content.displayName) but its \(source) says \(declared.displayName).")
            }
        }
        if content == .text, byName == .markdown || byMediaType == .markdown { return .markdown }
        return content
    }

    /// How much of the file detection looks at: enough for a PDF header anywhere in its first
    /// 1,024 bytes, an HTML page's leading comments, and a fair sample of text.
    private static let sniffedBytes = 8_192

    /// What MuPDF opens the file as: its media type, for the formats MuPDF reads.
    var mupdfMagic: String? {
        switch self {
        case .pdf: "application/pdf"
        case .png: "image/png"
        case .jpeg: "image/jpeg"
        case .tiff: "image/tiff"
        case .docx, .html, .markdown, .text: nil
        }
    }

    /// `.pdf`, an image, `.docx`, `.html` or `.text`: content never says Markdown.
    private static func contentFormat(of url: URL) throws(CairnError) -> DocumentFormat {
        let prefix: [UInt8]
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            prefix = [UInt8](try handle.read(upToCount: sniffedBytes + 1) ?? Data())
        } catch {
            throw CairnError(.internalFailure, "The file could not be read.", underlying: error)
        }
        guard !prefix.isEmpty else { throw CairnError(.invalidInput, "The file is empty.") }
        let isWhole = prefix.count <= sniffedBytes
        let sample = prefix.prefix(sniffedBytes)

        // PDF readers accept the header anywhere in the first 1,024 bytes (some writers put junk first).
        if sample.prefix(1_024).firstRange(of: Array("%PDF-".utf8)) != nil { return .pdf }
        if sample.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if sample.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if sample.starts(with: [0x49, 0x49, 0x2A, 0x00]) || sample.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if sample.starts(with: [0x50, 0x4B, 0x03, 0x04]) || sample.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return try zipFormat(of: url)
        }
        if sample.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            // An OLE compound file: a .doc from before 2007, or a DOCX Word encrypted with a password.
            throw CairnError(
                .invalidInput,
                "The file is a legacy or password-protected Office document; save it as DOCX without a password, or as PDF."
            )
        }
        if sample.starts(with: [0xFF, 0xFE]) || sample.starts(with: [0xFE, 0xFF]) {
            throw CairnError(.invalidInput, "The file is UTF-16 text; save it as UTF-8 and upload it again.")
        }
        if startsLikeHTML(sample) { return .html }
        if !sample.contains(0), isUTF8(sample, isWhole: isWhole) { return .text }
        throw CairnError(
            .invalidInput,
            "The file's format is not supported; upload PDF, a PNG, JPEG or TIFF image, DOCX, HTML, Markdown or plain text."
        )
    }

    private static func zipFormat(of url: URL) throws(CairnError) -> DocumentFormat {
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw CairnError(.invalidInput, "The file looks like a ZIP archive but cannot be read as one.", underlying: error)
        }
        guard archive["word/document.xml"] != nil else {
            throw CairnError(.invalidInput, "The file is a ZIP archive but not a Word document.")
        }
        return .docx
    }

    /// Whether the first thing in the file, after a byte-order mark, whitespace, comments and
    /// an XML declaration, is a doctype or an `html`, `head` or `body` tag.
    private static func startsLikeHTML(_ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes[...]
        if TextInput.hasByteOrderMark(rest) { rest = rest.dropFirst(3) }
        while true {
            rest = rest.drop { $0 == 0x20 || (0x09...0x0D).contains($0) }
            if rest.starts(with: Array("<!--".utf8)) {
                guard let end = rest.firstRange(of: Array("-->".utf8)) else { return false }
                rest = rest[end.upperBound...]
            } else if rest.starts(with: Array("<?".utf8)) {
                guard let end = rest.firstIndex(of: UInt8(ascii: ">")) else { return false }
                rest = rest[(end + 1)...]
            } else {
                break
            }
        }
        let lowercased = rest.prefix(15).map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        for opening in ["<!doctype html", "<html", "<head", "<body"] {
            let opening = Array(opening.utf8)
            guard lowercased.starts(with: opening) else { continue }
            // `<header>` or `<htmlfoo>` is not an opening; the name must end.
            guard opening.count < lowercased.count else { return rest.count == opening.count }
            let next = lowercased[opening.count]
            return next == UInt8(ascii: ">") || next == UInt8(ascii: "/") || next == 0x20 || (0x09...0x0D).contains(next)
        }
        return false
    }

    /// Whether `bytes` are UTF-8; when they are only the start of the file, a character cut
    /// off at the end does not count against them.
    private static func isUTF8(_ bytes: ArraySlice<UInt8>, isWhole: Bool) -> Bool {
        if String(validating: bytes, as: UTF8.self) != nil { return true }
        guard !isWhole else { return false }
        return (1...3).contains { String(validating: bytes.dropLast($0), as: UTF8.self) != nil }
    }

    /// Whether content detected as `self` may carry a name or media type declaring `declared`.
    private func agrees(withDeclared declared: DocumentFormat) -> Bool {
        declared == self || (self == .text && [.markdown, .html].contains(declared))
    }

    private static func format(forName name: String) -> DocumentFormat? {
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "pdf": return .pdf
        case "png": return .png
        case "jpg", "jpeg": return .jpeg
        case "tif", "tiff": return .tiff
        case "docx": return .docx
        case "html", "htm", "xhtml": return .html
        case "md", "markdown": return .markdown
        case "txt", "text": return .text
        default: return nil
        }
    }

    private static func format(forMediaType mediaType: String) -> DocumentFormat? {
        let essence = mediaType.split(separator: ";", maxSplits: 1).first ?? ""
        switch essence.trimmingCharacters(in: .whitespaces).lowercased() {
        case "application/pdf", "application/x-pdf": return .pdf
        case "image/png": return .png
        case "image/jpeg": return .jpeg
        case "image/tiff": return .tiff
        case "application/vnd.openxmlformats-officedocument.wordprocessingml.document": return .docx
        case "text/html", "application/xhtml+xml": return .html
        case "text/markdown", "text/x-markdown": return .markdown
        case "text/plain": return .text
        default: return nil
        }
    }
}
