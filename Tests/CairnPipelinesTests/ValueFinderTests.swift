import CairnPipelines
import Testing

@Suite("Deterministic value finders")
struct ValueFinderTests {
    @Test(
        "IBANs: the mod-97 check and the country's length decide",
        arguments: [
            ("GB82 WEST 1234 5698 7654 32", true),
            ("DE89370400440532013000", true),
            ("FR1420041010050500013M02606", true),
            ("GB82 WEST 1234 5698 7654 33", false),
            ("DE8937040044053201300", false),
            ("XX00", false),
        ]
    )
    func ibanCheck(_ text: String, _ valid: Bool) {
        #expect(BankIdentifiers.isValidIBAN(text) == valid)
    }

    @Test("IBANs are found in text, grouped or compact, and a following word is not swallowed")
    func ibansInText() {
        let text = "Pay to IBAN: GB82 WEST 1234 5698 7654 32 BIC NWBKGB2L by Friday. Old: DE89370400440532013001."
        let found = BankIdentifiers.ibans(in: text)
        #expect(found.map(\.value) == ["GB82WEST12345698765432"])
        let range = found[0].range
        #expect(String(String.UnicodeScalarView(Array(text.unicodeScalars)[range])) == "GB82 WEST 1234 5698 7654 32")
    }

    @Test("BICs are read only after a label that names one")
    func bics() {
        #expect(BankIdentifiers.bics(in: "BIC: NWBKGB2L").map(\.value) == ["NWBKGB2L"])
        #expect(BankIdentifiers.bics(in: "SWIFT code DEUTDEFF500").map(\.value) == ["DEUTDEFF500"])
        #expect(BankIdentifiers.bics(in: "CUSTOMER STATEMENT ACCOUNTS").isEmpty)
        #expect(BankIdentifiers.bics(in: "BIC: ABCDQQ12").isEmpty, "QQ is no country")
    }

    @Test(
        "Dates in the common formats become ISO 8601",
        arguments: [
            ("Date: 2014-08-03", "2014-08-03"),
            ("25/12/2018", "2018-12-25"),
            ("3 August 2014", "2014-08-03"),
            ("August 3, 2014", "2014-08-03"),
            ("03-Aug-14", "2014-08-03"),
            ("le 3 août 2014", "2014-08-03"),
            ("12.03.1999", "1999-03-12"),
        ]
    )
    func dates(_ text: String, _ iso: String) {
        #expect(CalendarDates.dates(in: text).map(\.value) == [iso])
    }

    @Test("An ambiguous day and month is read day first, with less confidence; impossible days are no date")
    func ambiguousDates() {
        let ambiguous = CalendarDates.dates(in: "04/05/2020")
        #expect(ambiguous.map(\.value) == ["2020-05-04"] && ambiguous[0].confidence < 0.8)
        #expect(CalendarDates.dates(in: "04/05/2020", monthFirst: true).map(\.value) == ["2020-04-05"])
        #expect(CalendarDates.dates(in: "31/02/2020 and 2019-13-01").isEmpty)
    }

    @Test("Amounts with a currency or cents, in either decimal convention")
    func amounts() {
        let found = MoneyAmounts.amounts(in: "Total $4.11; Betrag 1.234,56 € and RM 9.00, ref 20391, 12 items, EUR 1,250")
        #expect(found.map(\.value.amount) == [4.11, 1234.56, 9.00, 1250])
        #expect(found.map(\.value.currency) == ["USD", "EUR", "MYR", "EUR"])
    }
}
