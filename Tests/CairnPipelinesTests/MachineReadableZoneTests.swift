import CairnPipelines
import Foundation
import Testing

/// The ICAO Doc 9303 specimens (part 4 appendix for TD3, part 5 for TD1 and TD2).
@Suite("Machine-readable zones")
struct MachineReadableZoneTests {
    static let today = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-28

    static let specimens: [(format: MachineReadableZone.Format, lines: [String], number: String)] = [
        (.td3, ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"], "L898902C3"),
        (.td2, ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"], "D23145890"),
        (
            .td1,
            ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"],
            "D23145890"
        ),
    ]

    @Test("The ICAO specimens read with every check digit valid", arguments: 0..<3)
    func specimens(_ index: Int) throws {
        let specimen = Self.specimens[index]
        let zone = try #require(MachineReadableZone(lines: specimen.lines, today: Self.today))
        #expect(zone.format == specimen.format)
        #expect(zone.isValid)
        #expect(zone.documentNumber.value == specimen.number)
        #expect(zone.issuingCountry.value == "UTO" && zone.nationality.value == "UTO")
        #expect(zone.dateOfBirth.value == "1974-08-12")
        #expect(zone.expiryDate.value == "2012-04-15")
        #expect(zone.sex.value == "F")
        #expect(zone.surname.value == "ERIKSSON")
        #expect(zone.givenNames.value == "ANNA MARIA")
    }

    /// ICAO's weights (7, 3, 1) catch every change of one character's value by anything but a
    /// multiple of 10, so each character is changed by one step (a digit to the next, a letter to
    /// the next, the filler to 1). Changes by ten steps (D for X, 0 for A) pass the digit by
    /// design; the cross-check against the visual zone is what catches those.
    @Test("Any single altered character of a checked field fails a check digit", arguments: 0..<3)
    func alteredCharacter(_ index: Int) throws {
        let specimen = Self.specimens[index]
        let zone = try #require(MachineReadableZone(lines: specimen.lines, today: Self.today))
        let checked = [zone.documentNumber, zone.dateOfBirth, zone.expiryDate]
        for field in checked {
            for position in field.characters {
                var line = Array(specimen.lines[field.line])
                line[position] = Self.nextStep(line[position])
                var lines = specimen.lines
                lines[field.line] = String(line)
                let altered = try #require(MachineReadableZone(lines: lines, today: Self.today))
                #expect(!altered.isValid, "\(specimen.format) line \(field.line) position \(position) altered still validates")
            }
        }
    }

    static func nextStep(_ character: Character) -> Character {
        switch character {
        case "<": "1"
        case "9": "0"
        case "Z": "A"
        default: Character(UnicodeScalar(character.asciiValue! + 1))
        }
    }

    @Test("Check digits weigh 7, 3, 1 with letters from 10 and fillers as 0")
    func checkDigits() {
        #expect(MachineReadableZone.checkDigit(of: "L898902C3") == 6)
        #expect(MachineReadableZone.checkDigit(of: "740812") == 2)
        #expect(MachineReadableZone.checkDigit(of: "120415") == 9)
        #expect(MachineReadableZone.checkDigit(of: "<<<<<<<<<") == 0)
    }

    @Test("Two-digit years: births never in the future, expiries at most 30 years ahead")
    func centuries() throws {
        let zone = try #require(
            MachineReadableZone(
                lines: ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO0508126F5004151ZE184226B<<<<<14"],
                today: Self.today
            )
        )
        #expect(zone.dateOfBirth.value == "2005-08-12")
        #expect(zone.expiryDate.value == "2050-04-15")
    }

    @Test("The zone is found in OCR text among other lines, spaces and guillemets tolerated")
    func findsZone() throws {
        let text = """
            PASSPORT  PASSEPORT
            Surname ERIKSSON
            P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<
            L898902C36UTO7408122F1204159ZE184226B«<<<<10
            """
        let found = MachineReadableZone.candidates(in: text)
        #expect(found.count == 1)
        let lines = try #require(found.first)
        #expect(try #require(MachineReadableZone(lines: lines, today: Self.today)).isValid)
    }

    @Test("Look-alikes are read as their position allows: O for 0 in a country, 0 for O in a date")
    func lookAlikes() throws {
        let zone = try #require(
            MachineReadableZone(
                lines: ["P<UT0ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UT07408I22F12O4159ZE184226B<<<<<10"],
                today: Self.today
            )
        )
        #expect(zone.issuingCountry.value == "UTO" && zone.nationality.value == "UTO")
        #expect(zone.dateOfBirth.value == "1974-08-12" && zone.expiryDate.value == "2012-04-15")
        #expect(zone.isValid)
    }

    @Test("Lines of the wrong length or alphabet are no zone")
    func rejects() {
        #expect(MachineReadableZone(lines: ["P<UTOERIKSSON", "L898902C36"]) == nil)
        #expect(MachineReadableZone(lines: ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<!", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]) == nil)
        #expect(MachineReadableZone.candidates(in: "Hello\nworld").isEmpty)
    }
}
