package import Foundation

/// A page's lines as the parse step stores them for the chunk step: one array per line,
/// `[start, end, x0, y0, x1, y1, block, fontSize]`. Compact, because a long document stores
/// tens of thousands of lines.
package enum PageLines {
    package static func json(_ lines: [TextLine]) -> String {
        let rows = lines.map { line in
            [
                Double(line.range.lowerBound), Double(line.range.upperBound), line.box.x0, line.box.y0, line.box.x1, line.box.y1, Double(line.block),
                line.fontSize,
            ]
        }
        return String(decoding: (try? JSONEncoder().encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }

    package static func lines(_ json: String) throws -> [TextLine] {
        try JSONDecoder().decode([[Double]].self, from: Data(json.utf8)).map { row in
            guard row.count == 8, row[0] <= row[1] else { throw CocoaError(.coderInvalidValue) }
            return TextLine(
                range: Int(row[0])..<Int(row[1]),
                box: BoundingBox(x0: row[2], y0: row[3], x1: row[4], y1: row[5]),
                block: Int(row[6]),
                fontSize: row[7]
            )
        }
    }
}

/// A page's words as stored beside its lines: one array per word, `[start, end, x0, y0, x1, y1]`.
package enum PageWords {
    package static func json(_ words: [TextWord]) -> String {
        let rows = words.map { [Double($0.range.lowerBound), Double($0.range.upperBound), $0.box.x0, $0.box.y0, $0.box.x1, $0.box.y1] }
        return String(decoding: (try? JSONEncoder().encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }

    package static func words(_ json: String) throws -> [TextWord] {
        try JSONDecoder().decode([[Double]].self, from: Data(json.utf8)).map { row in
            guard row.count == 6, row[0] <= row[1] else { throw CocoaError(.coderInvalidValue) }
            return TextWord(range: Int(row[0])..<Int(row[1]), box: BoundingBox(x0: row[2], y0: row[3], x1: row[4], y1: row[5]))
        }
    }
}
