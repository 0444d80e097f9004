import CairnCore
import Testing

/// A corpus with planted personal data among look-alikes that fail their checks.
@Suite("PII detection")
struct PIIDetectorTests {
    /// Valid values: published test numbers that pass their checksums.
    static let planted: [(PIIKind, String)] = [
        (.iban, "GB29 NWBK 6016 1331 9268 19"),
        (.iban, "DE89370400440532013000"),
        (.iban, "FR1420041010050500013M02606"),
        (.iban, "NL91ABNA0417164300"),
        (.cardNumber, "4111 1111 1111 1111"),
        (.cardNumber, "5555-5555-5555-4444"),
        (.cardNumber, "378282246310005"),
        (.cardNumber, "6011111111111117"),
        (.email, "jane.doe@northbank.example"),
        (.email, "kyc-team+alerts@mail.example.co.uk"),
        (.phone, "+44 20 7946 0958"),
        (.phone, "+1 (212) 555-0143"),
        (.phone, "020 7946 0958"),
        (.nationalID, "AB 12 34 56 C"),
        (.nationalID, "123-45-6789"),
    ]

    /// Values shaped like personal data that fail their checks, and the figures a policy is full of.
    static let lookAlikes = [
        "GB29 NWBK 6016 1331 9268 18",  // mod-97 fails
        "DE89370400440532013001",  // mod-97 fails
        "XX12 3456 7890 1234 56",  // no such country
        "4111 1111 1111 1112",  // Luhn fails
        "1234 5678 9012 3452",  // passes Luhn, but no card scheme starts with 12
        "QQ 12 34 56 C",  // Q is never in a National Insurance prefix
        "GB 12 34 56 A",  // GB is never issued
        "000-12-3456",  // area 000 is never issued
        "666-12-3456",  // nor 666
        "GBP 10,000", "2026-11-26", "clause 6.3", "within 7 calendar days", "12345678", "version 2.3", "15 January 2026",
    ]

    @Test("Every planted value is found as its kind; no look-alike is")
    func findsPlantedRejectsLookAlikes() {
        let detector = PIIDetector()
        var text = "Customer file.\n"
        for (index, (kind, value)) in Self.planted.enumerated() {
            text += "Record \(index): the \(kind.rawValue) on file is \(value); "
            text += "reference \(Self.lookAlikes[index % Self.lookAlikes.count]) was checked.\n"
        }
        for lookAlike in Self.lookAlikes { text += "Not personal: \(lookAlike).\n" }
        let findings = detector.findings(in: text)
        #expect(findings.map(\.text) == Self.planted.map(\.1))
        #expect(findings.map(\.kind) == Self.planted.map(\.0))
        let redacted = detector.redacted(text)
        for (kind, value) in Self.planted {
            #expect(!redacted.contains(value), "\(value) survived")
            #expect(redacted.contains("[REDACTED:\(kind.rawValue)]"))
        }
        for lookAlike in Self.lookAlikes { #expect(redacted.contains(lookAlike), "\(lookAlike) was redacted") }
    }

    @Test("Each look-alike alone is nothing, and text without digits or @ is returned as it is")
    func lookAlikesAlone() {
        let detector = PIIDetector()
        for lookAlike in Self.lookAlikes { #expect(detector.findings(in: lookAlike).isEmpty, "\(lookAlike)") }
        let plain = "The Board approves the technology risk appetite statement."
        #expect(detector.redacted(plain) == plain)
        #expect(detector.redacted("") == "")
        #expect(
            detector.redacted("Mail jane.doe@northbank.example — ünïcödé ✓ 4111111111111111")
                == "Mail [REDACTED:email] — ünïcödé ✓ [REDACTED:card-number]"
        )
    }
}
