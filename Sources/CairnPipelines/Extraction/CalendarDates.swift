import Foundation

/// Dates as documents print them, read into ISO 8601 (`YYYY-MM-DD`).
///
/// Numeric dates with the day and month both ≤ 12 are ambiguous; they are read day first (the
/// order of most of the world's documents) unless `monthFirst`, and their confidence says so.
public enum CalendarDates {
    static let months: [String: Int] = {
        var table: [String: Int] = [:]
        let names = [
            ["january", "jan", "janvier", "januar", "enero", "gennaio", "januari"],
            ["february", "feb", "février", "fevrier", "februar", "febrero", "febbraio", "februari"],
            ["march", "mar", "mars", "märz", "marz", "marzo", "maart"],
            ["april", "apr", "avril", "abril", "aprile"],
            ["may", "mai", "mayo", "maggio", "mei"],
            ["june", "jun", "juin", "juni", "junio", "giugno"],
            ["july", "jul", "juillet", "juli", "julio", "luglio"],
            ["august", "aug", "août", "aout", "agosto", "augustus"],
            ["september", "sep", "sept", "septembre", "septiembre", "settembre"],
            ["october", "oct", "octobre", "oktober", "okt", "octubre", "ottobre"],
            ["november", "nov", "novembre", "noviembre"],
            ["december", "dec", "décembre", "decembre", "dezember", "dez", "diciembre", "dicembre"],
        ]
        for (index, spellings) in names.enumerated() { for name in spellings { table[name] = index + 1 } }
        return table
    }()

    /// Every date in `text`.
    public static func dates(in text: String, monthFirst: Bool = false) -> [TextMatch<String>] {
        var found: [TextMatch<String>] = []
        var taken: [Range<Int>] = []
        func add(_ range: Range<String.Index>, year: Int, month: Int, day: Int, confidence: Double) {
            guard let iso = iso(year: year, month: month, day: day) else { return }
            let offsets = text.scalarOffsets(of: range)
            guard !taken.contains(where: { $0.overlaps(offsets) }) else { return }
            taken.append(offsets)
            found.append(TextMatch(value: iso, range: offsets, confidence: confidence))
        }
        // 2014-08-03, 2014/08/03, 2014.08.03
        for match in text.matches(of: /\b(\d{4})[-\/.](\d{1,2})[-\/.](\d{1,2})\b/) {
            add(match.range, year: Int(match.output.1)!, month: Int(match.output.2)!, day: Int(match.output.3)!, confidence: 0.95)
        }
        // 3 August 2014, 03 Aug. 2014, 3rd of August 2014, 3-Aug-2014
        for match in text.matches(of: /(?i)\b(\d{1,2})(?:st|nd|rd|th)?(?:[ \t]+of)?[ \t\-\/.]+([a-zéûä]{3,9})\.?[ \t\-\/.,]+(\d{4}|\d{2})\b/) {
            guard let month = months[match.output.2.lowercased()] else { continue }
            add(match.range, year: year(match.output.3), month: month, day: Int(match.output.1)!, confidence: 0.9)
        }
        // August 3, 2014; Aug 3 2014
        for match in text.matches(of: /(?i)\b([a-zéûä]{3,9})\.?[ \t]+(\d{1,2})(?:st|nd|rd|th)?,?[ \t]+(\d{4})\b/) {
            guard let month = months[match.output.1.lowercased()] else { continue }
            add(match.range, year: Int(match.output.3)!, month: month, day: Int(match.output.2)!, confidence: 0.9)
        }
        // 25/12/2018, 25.12.2018, 25-12-18
        for match in text.matches(of: /\b(\d{1,2})[-\/.](\d{1,2})[-\/.](\d{4}|\d{2})\b/) {
            let (first, second) = (Int(match.output.1)!, Int(match.output.2)!)
            let year = year(match.output.3)
            if first > 12 || second > 12 {
                let (day, month) = first > 12 ? (first, second) : (second, first)
                add(match.range, year: year, month: month, day: day, confidence: 0.9)
            } else {
                let (day, month) = monthFirst ? (second, first) : (first, second)
                add(match.range, year: year, month: month, day: day, confidence: first == second ? 0.9 : 0.6)
            }
        }
        return found.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// A two-digit year is this century's up to 50 years on, else the last's.
    static func year(_ text: Substring) -> Int {
        let value = Int(text)!
        guard text.count == 2 else { return value }
        return value <= 50 ? 2000 + value : 1900 + value
    }

    /// `YYYY-MM-DD`, or `nil` when the day does not exist.
    static func iso(year: Int, month: Int, day: Int) -> String? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day)
        guard (1...12).contains(month), (1...31).contains(day), (1000...9999).contains(year),
            let date = calendar.date(from: components), calendar.component(.day, from: date) == day
        else { return nil }
        return String(format: "%04d-%02d-%02d", year, month, day)
    }
}
