package import CairnCore
package import Foundation
package import SQLKit

/// A page of a list, in a stable order, and where the next page starts.
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    /// Opaque position after the last item; `nil` on the last page.
    public let nextCursor: String?

    /// The page made of the first `limit` of up to `limit + 1` fetched rows: the extra row only
    /// says that more exist, and the cursor then points after the last item kept.
    package init(fetched rows: [Item], limit: Int, position: (Item) -> [String]) {
        self.items = Array(rows.prefix(limit))
        self.nextCursor = rows.count > limit ? items.last.map { PageCursor.encode(position($0)) } : nil
    }
}

/// Where a newest-first listing, ordered by `created_at DESC, id`, resumes.
package struct NewestFirstPosition {
    package let createdAt: Int64
    package let id: String

    package init(createdAt: Int64, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    /// The position a cursor names; `nil` for no cursor (the first page).
    package init?(cursor: String?) throws(CairnError) {
        guard let cursor else { return nil }
        let parts = try PageCursor.decode(cursor, count: 2)
        guard let createdAt = Int64(parts[0]) else {
            throw CairnError(.invalidInput, "The cursor is not one this API issued.")
        }
        self.createdAt = createdAt
        self.id = parts[1]
    }

    /// The filter that keeps only rows after this position.
    package var filter: SQLQueryString {
        " AND (created_at < \(bind: createdAt) OR (created_at = \(bind: createdAt) AND id > \(bind: id)))"
    }

    package static let order: SQLQueryString = " ORDER BY created_at DESC, id"

    /// The cursor parts for a row created at `createdAt` with `id`.
    package static func position(createdAt: Date, id: String) -> [String] {
        [String(EpochMilliseconds.milliseconds(createdAt)), id]
    }
}

/// The opaque cursors list endpoints hand out: the sort key of the last item returned,
/// base64url-encoded so clients treat it as a token rather than something to construct.
package enum PageCursor {
    private static let separator: Character = "\u{1F}"

    package static func encode(_ parts: [String]) -> String {
        Data(parts.joined(separator: String(separator)).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The sort key inside `cursor`, which must have `count` parts.
    package static func decode(_ cursor: String, count: Int) throws(CairnError) -> [String] {
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
    package static func validate(limit: Int) throws(CairnError) {
        guard (1...500).contains(limit) else {
            throw CairnError(.invalidInput, "limit must be between 1 and 500.")
        }
    }
}
