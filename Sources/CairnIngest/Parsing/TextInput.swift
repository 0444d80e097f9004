import CairnCore
import Foundation

/// Reading the bytes of the text formats (HTML, Markdown, plain text) within their size limit.
enum TextInput {
    /// The file's bytes, or the size limit's sentence when it has more than `limit`; at most
    /// `limit + 1` bytes are ever read.
    static func read(_ file: URL, limit: Int) throws -> [UInt8] {
        let bytes: Data
        do {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            bytes = try handle.read(upToCount: limit == .max ? limit : limit + 1) ?? Data()
        } catch {
            throw CairnError(.internalFailure, "The file could not be read.", underlying: error)
        }
        guard bytes.count <= limit else {
            throw CairnError(.invalidInput, "The file is larger than the \(limit.byteCountDescription) limit for text documents.")
        }
        return [UInt8](bytes)
    }

    /// Text that must be UTF-8 (Markdown, plain text): the byte-order mark dropped and line ends
    /// (`\r\n`, `\r`) made `\n`. A NUL byte means a binary file; other invalid UTF-8 means text in
    /// some other encoding, which would be read wrongly if guessed at.
    static func utf8Text(_ bytes: [UInt8]) throws -> String {
        var normalised: [UInt8] = []
        normalised.reserveCapacity(bytes.count)
        var index = hasByteOrderMark(bytes) ? 3 : 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case 0:
                throw CairnError(.invalidInput, "The file is not text.")
            case UInt8(ascii: "\r"):
                normalised.append(UInt8(ascii: "\n"))
                if index < bytes.count, bytes[index] == UInt8(ascii: "\n") { index += 1 }
            default:
                normalised.append(byte)
            }
        }
        guard let text = String(validating: normalised, as: UTF8.self) else {
            throw CairnError(.invalidInput, "The file is not UTF-8 text; save it as UTF-8 and upload it again.")
        }
        return text
    }

    static func hasByteOrderMark(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.starts(with: [0xEF, 0xBB, 0xBF])
    }
}
