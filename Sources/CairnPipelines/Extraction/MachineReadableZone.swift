public import Foundation

/// The machine-readable zone of a travel document (ICAO Doc 9303): TD1 (ID cards, three lines of
/// 30), TD2 (two of 36) and TD3 (passports, two of 44).
///
/// Every check digit is verified and kept with the field it guards, so a field whose digit fails
/// is known to be wrong and goes to review rather than being accepted.
public struct MachineReadableZone: Sendable, Equatable {
    public enum Format: String, Sendable, Codable {
        case td1 = "TD1"
        case td2 = "TD2"
        case td3 = "TD3"

        /// Lines and characters per line.
        var shape: (lines: Int, length: Int) {
            switch self {
            case .td1: (3, 30)
            case .td2: (2, 36)
            case .td3: (2, 44)
            }
        }
    }

    /// A field as printed, where it sits, and whether its check digit (if it has one) holds.
    public struct Field: Sendable, Equatable {
        public let value: String
        /// The line (0-based) and the characters of it the field occupies.
        public let line: Int
        public let characters: Range<Int>
        /// `nil` when ICAO gives the field no check digit.
        public let checkDigitValid: Bool?
    }

    public let format: Format
    public let lines: [String]
    public let documentType: Field
    public let issuingCountry: Field
    public let documentNumber: Field
    public let dateOfBirth: Field
    public let sex: Field
    public let expiryDate: Field
    public let nationality: Field
    public let surname: Field
    public let givenNames: Field
    /// The composite check digit over the number, dates and optional data.
    public let compositeValid: Bool

    /// Whether every check digit holds.
    public var isValid: Bool {
        compositeValid && [documentNumber, dateOfBirth, expiryDate].allSatisfy { $0.checkDigitValid == true }
    }

    /// Reads the zone from its lines (already split; OCR noise corrected by `candidates(in:)`).
    /// `today` fixes the century of two-digit years: a birth date is never in the future, an
    /// expiry date at most 30 years ahead.
    public init?(lines rawLines: [String], today: Date = Date()) {
        let read = rawLines.map { $0.uppercased().filter { !$0.isWhitespace } }
        guard let format = [Format.td1, .td2, .td3].first(where: { $0.shape == (read.count, read.first?.count ?? 0) }),
            read.allSatisfy({ $0.count == format.shape.length && $0.allSatisfy(Self.isMRZCharacter) })
        else { return nil }
        self.format = format
        let lines = Self.corrected(read, format: format)
        self.lines = lines
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: today).year ?? 2026

        func text(_ line: Int, _ range: Range<Int>) -> String {
            let characters = Array(lines[line])
            return String(characters[range])
        }
        func field(_ line: Int, _ range: Range<Int>, check: Int? = nil, transform: (String) -> String = Self.trimFiller) -> Field {
            let raw = text(line, range)
            let valid = check.map { Self.checkDigit(of: raw) == Array(lines[line])[$0].wholeNumberValue }
            return Field(value: transform(raw), line: line, characters: range, checkDigitValid: valid)
        }
        func date(_ line: Int, _ range: Range<Int>, check: Int, birth: Bool) -> Field {
            field(line, range, check: check) { Self.isoDate($0, birth: birth, year: year) ?? $0 }
        }
        let name: Field
        switch format {
        case .td1:
            documentType = field(0, 0..<2)
            issuingCountry = field(0, 2..<5)
            documentNumber = field(0, 5..<14, check: 14)
            dateOfBirth = date(1, 0..<6, check: 6, birth: true)
            sex = field(1, 7..<8)
            expiryDate = date(1, 8..<14, check: 14, birth: false)
            nationality = field(1, 15..<18)
            name = field(2, 0..<30, transform: { $0 })
            compositeValid =
                Self.checkDigit(of: text(0, 5..<30) + text(1, 0..<7) + text(1, 8..<15) + text(1, 18..<29))
                == Array(lines[1])[29].wholeNumberValue
        case .td2, .td3:
            let length = format.shape.length
            documentType = field(0, 0..<2)
            issuingCountry = field(0, 2..<5)
            name = field(0, 5..<length, transform: { $0 })
            documentNumber = field(1, 0..<9, check: 9)
            nationality = field(1, 10..<13)
            dateOfBirth = date(1, 13..<19, check: 19, birth: true)
            sex = field(1, 20..<21)
            expiryDate = date(1, 21..<27, check: 27, birth: false)
            let optionalEnd = format == .td3 ? 42 : length - 1
            compositeValid =
                Self.checkDigit(of: text(1, 0..<10) + text(1, 13..<20) + text(1, 21..<optionalEnd + (format == .td3 ? 1 : 0)))
                == Array(lines[1])[length - 1].wholeNumberValue
        }
        // "SURNAME<<GIVEN<NAMES": a double filler separates the primary from the secondary identifier.
        let parts = name.value.components(separatedBy: "<<")
        surname = Field(value: Self.trimFiller(parts[0]), line: name.line, characters: name.characters, checkDigitValid: nil)
        givenNames = Field(
            value: Self.trimFiller(parts.dropFirst().joined(separator: "<")),
            line: name.line,
            characters: name.characters,
            checkDigitValid: nil
        )
    }

    /// ICAO 9303 part 3, 4.9: weights 7, 3, 1 over digits (their value), letters (A = 10 … Z = 35)
    /// and the filler `<` (0), summed modulo 10.
    public static func checkDigit(of text: String) -> Int {
        let weights = [7, 3, 1]
        var sum = 0
        for (index, character) in text.enumerated() {
            let value: Int
            if let digit = character.wholeNumberValue {
                value = digit
            } else if let ascii = character.asciiValue, ascii >= 65, ascii <= 90 {
                value = Int(ascii) - 55
            } else {
                value = 0
            }
            sum += value * weights[index % 3]
        }
        return sum % 10
    }

    /// What each position of a format holds, for correcting look-alike OCR slips.
    enum Position {
        case letter
        case digit
        case any
    }

    /// Positions that hold only letters or only digits, per line: the rest hold either.
    static func positions(of format: Format) -> [[(Range<Int>, Position)]] {
        switch format {
        case .td1:
            [
                [(0..<5, .letter), (14..<15, .digit)],
                [(0..<7, .digit), (8..<15, .digit), (15..<18, .letter), (29..<30, .digit)],
                [(0..<30, .letter)],
            ]
        case .td2, .td3:
            [
                [(0..<format.shape.length, .letter)],
                [
                    (9..<10, .digit), (10..<13, .letter), (13..<20, .digit), (21..<28, .digit),
                    ((format == .td3 ? 42 : 35)..<format.shape.length, .digit),
                ],
            ]
        }
    }

    static let asLetter: [Character: Character] = ["0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"]
    static let asDigit: [Character: Character] = ["O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8"]

    /// The lines with look-alikes read as what their position can hold: a 0 in a country code is
    /// an O, an O in a date is a 0. Check digits then judge what correction cannot.
    static func corrected(_ lines: [String], format: Format) -> [String] {
        zip(lines, positions(of: format)).map { line, spans in
            var characters = Array(line)
            for (range, kind) in spans {
                for index in range {
                    let table = kind == .letter ? asLetter : asDigit
                    if let replacement = table[characters[index]] { characters[index] = replacement }
                }
            }
            return String(characters)
        }
    }

    static func isMRZCharacter(_ character: Character) -> Bool {
        character == "<" || ("A"..."Z").contains(character) || ("0"..."9").contains(character)
    }

    /// Fillers become spaces, trimmed and collapsed.
    static func trimFiller(_ text: String) -> String {
        text.split(separator: "<", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// YYMMDD as ISO 8601, the century chosen by what the date is.
    static func isoDate(_ text: String, birth: Bool, year: Int) -> String? {
        guard text.count == 6, let yy = Int(text.prefix(2)), let month = Int(text.dropFirst(2).prefix(2)), let day = Int(text.suffix(2)),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let limit = birth ? year : year + 30
        let full = 2000 + yy <= limit ? 2000 + yy : 1900 + yy
        return String(format: "%04d-%02d-%02d", full, month, day)
    }

    /// A line of OCR'd text as a zone's line would read: upper case, no spaces, and the
    /// guillemets OCR now and then reads a filler as turned back into fillers.
    public static func normalizedLine(_ line: String) -> String {
        String(line.uppercased().filter { !$0.isWhitespace }.map { "«‹".contains($0) ? "<" : $0 })
    }

    /// MRZ line candidates in OCR'd text: lines that, once spaces are dropped and look-alike
    /// characters read as fillers, are 30, 36 or 44 characters of the MRZ alphabet with fillers
    /// in them; the zone is the first run of two or three consecutive such lines of one length.
    public static func candidates(in text: String) -> [[String]] {
        let cleaned = text.split(separator: "\n", omittingEmptySubsequences: false).map { normalizedLine(String($0)) }
        var found: [[String]] = []
        var index = 0
        while index < cleaned.count {
            let line = cleaned[index]
            guard [30, 36, 44].contains(line.count), line.contains("<"), line.allSatisfy(isMRZCharacter) else {
                index += 1
                continue
            }
            let count = line.count == 30 ? 3 : 2
            let run = cleaned[index..<min(cleaned.count, index + count)]
            if run.count == count, run.allSatisfy({ $0.count == line.count && $0.allSatisfy(isMRZCharacter) }) {
                found.append(Array(run))
                index += count
            } else {
                index += 1
            }
        }
        return found
    }
}
