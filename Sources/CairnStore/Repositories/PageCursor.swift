import CairnCore
import Foundation

/// A page of a list, in a stable order, and where the next page starts.
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    /// Opaque position after the last item; `nil` on the last page.
    public let nextCursor: String?
}

/// The opaque cursors list endpoints hand out: the sort key of the last item returned,
/// base64url-encoded so clients treat it as a token rather than something to construct.
enum PageCursor {
    private static let separator: Character = "\u{1F}"

    static func encode(_ parts: [String]) -> String {
        Data(parts.joined(separator: String(separator)).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The sort key inside `cursor`, which must have `count` parts.
    static func decode(_ cursor: String, count: Int) throws(CairnError) -> [String] {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard cursor.count <= 1024, let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else {
            throw CairnError(.invalidInput, "The cursor is not one this API issued.")
        }
        let parts = text.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == count else {
            throw CairnError(.invalidInput, "The cursor is not one this API issued.")
        }
        return parts
    }

    /// Validates a page size against the API's 1–500 range.
    static func validate(limit: Int) throws(CairnError) {
        guard (1...500).contains(limit) else {
            throw CairnError(.invalidInput, "limit must be between 1 and 500.")
        }
    }
}
