public import CairnCore
public import CairnIngest
public import Foundation

/// Fills a JSON Schema's top-level properties from a parsed document by rules alone: a
/// machine-readable zone, checksummed bank identifiers, dates and amounts near a label naming
/// the field, and "Label: value" pairs. No model, no network; what it cannot find it leaves out.
///
/// Which rule a property gets is read from its name and description, as a person would: a
/// `date_of_birth` on a page with a zone is the zone's; an `amount` described as "Total amount
/// due" is the amount nearest a "total" label. A description that says "as printed" keeps the
/// printed text; otherwise dates are ISO 8601 and numbers are numbers.
public struct DeterministicExtractor: Sendable {
    public let today: Date

    public init(today: Date = Date()) {
        self.today = today
    }

    /// The fields found for `schema`'s properties in `document`, in the schema's order.
    public func extract(_ document: ParsedDocument, schema: ExtractionSchema) -> [ExtractedField] {
        let pages = document.pages.map(PageFindings.init)
        let zone = pages.lazy.compactMap { page in
            MachineReadableZone.candidates(in: page.page.text).lazy.compactMap { lines in
                MachineReadableZone(lines: lines, today: today).map { (page: page, printed: lines, zone: $0) }
            }.first
        }.first
        return schema.properties.compactMap { property in
            if let zone, Self.isZoneField(property) {
                return Self.zoneField(property, zone: zone.zone, printed: zone.printed, on: zone.page)
            }
            return Self.field(property, in: pages)
        }
    }

    // MARK: Rules

    static func field(_ property: ExtractionSchema.Property, in pages: [PageFindings]) -> ExtractedField? {
        // What a property is comes from its name; its description only adds label words.
        let words = Set(property.nameWords)
        if words.contains("iban") {
            return best(property, .iban, pages.flatMap { page in page.ibans.map { (page, $0.map(JSONValue.string)) } })
        }
        if words.contains("bic") || words.contains("swift") {
            return best(property, .bic, pages.flatMap { page in page.bics.map { (page, $0.map(JSONValue.string)) } })
        }
        if words.contains("currency") {
            let found = pages.flatMap { page in
                page.amounts.compactMap { match in
                    match.value.currency.map { (page, TextMatch(value: JSONValue.string($0), range: match.range, confidence: match.confidence)) }
                }
            }
            return best(property, .amount, found, labels: ["total", "amount"])
        }
        if property.isDate {
            let found = pages.flatMap { page in
                page.dates.map { match in
                    (page, match.map { JSONValue.string(property.asPrinted ? page.text(match.range) : $0) })
                }
            }
            return best(property, .date, found, labels: property.words.intersection(words.union(["date", "dated", "issued", "invoice"])))
        }
        if property.isAmount {
            let found = pages.flatMap { page in
                page.amounts.map { match in
                    let value: JSONValue =
                        property.type == "number" ? .number(match.value.amount) : .string(String(format: "%.2f", match.value.amount))
                    return (page, TextMatch(value: value, range: match.range, confidence: match.confidence))
                }
            }
            return best(property, .amount, found, labels: property.amountLabels)
        }
        if let labelled = labelled(property, in: pages) { return labelled }
        if property.isIssuer, let page = pages.first, let line = page.page.lines.first(where: { page.text($0.range).filter(\.isLetter).count >= 3 }) {
            return make(property, .header, page, TextMatch(value: .string(page.text(line.range)), range: line.range, confidence: 0.5))
        }
        return nil
    }

    /// The candidate nearest a label naming the field: on the same line, left of it or just
    /// above it, scored by distance; without such a label the first candidate, less confident.
    static func best(
        _ property: ExtractionSchema.Property,
        _ extractor: Extractor,
        _ candidates: [(PageFindings, TextMatch<JSONValue>)],
        labels: Set<String> = []
    ) -> ExtractedField? {
        guard !candidates.isEmpty else { return nil }
        var scored: [(score: Double, index: Int)] = []
        for (index, (page, match)) in candidates.enumerated() {
            guard let line = page.lineIndex(containing: match.range.lowerBound) else { continue }
            var score = 0.0
            for (offset, weight) in [(0, 1.0), (-1, 0.6)] where line + offset >= 0 {
                let lineRange = page.page.lines[line + offset].range
                let before = offset == 0 ? lineRange.lowerBound..<match.range.lowerBound : lineRange
                let text = page.text(before).lowercased()
                let hits = labels.filter { text.contains($0) }.count
                score = max(score, weight * Double(hits))
            }
            scored.append((score, index))
        }
        let top = scored.max { ($0.score, -$0.index) < ($1.score, -$1.index) }
        guard let top else { return nil }
        let (page, match) = candidates[top.index]
        let factor = labels.isEmpty || top.score > 0 ? 1.0 : 0.6
        return make(property, extractor, page, TextMatch(value: match.value, range: match.range, confidence: match.confidence * factor))
    }

    /// "Invoice number: 42183017": the text after a label made of the property's words, on the
    /// same line, or the whole next line when the label ends its own.
    static func labelled(_ property: ExtractionSchema.Property, in pages: [PageFindings]) -> ExtractedField? {
        let labels = property.labelForms
        for page in pages {
            for (index, line) in page.page.lines.enumerated() {
                let text = page.text(line.range)
                let lowered = text.lowercased()
                for label in labels {
                    guard let found = lowered.range(of: label) else { continue }
                    // The label must start a word.
                    if found.lowerBound > lowered.startIndex, lowered[lowered.index(before: found.lowerBound)].isLetter { continue }
                    let afterLabel = lowered.distance(from: lowered.startIndex, to: found.upperBound)
                    let rest = Array(text.unicodeScalars)[afterLabel...]
                    let skipped = rest.prefix { $0 == ":" || $0 == " " || $0 == "." || $0 == "\t" }.count
                    let valueStart = line.range.lowerBound + afterLabel + skipped
                    if valueStart < line.range.upperBound {
                        let range = valueStart..<line.range.upperBound
                        let value = page.text(range).trimmingCharacters(in: .whitespaces)
                        guard !value.isEmpty, !property.wantsDigits || value.contains(where: \.isNumber) else { continue }
                        return make(property, .label, page, TextMatch(value: .string(value), range: range, confidence: 0.7))
                    }
                    if index + 1 < page.page.lines.count {
                        let next = page.page.lines[index + 1].range
                        let value = page.text(next)
                        guard !property.wantsDigits || value.contains(where: \.isNumber) else { continue }
                        return make(property, .label, page, TextMatch(value: .string(value), range: next, confidence: 0.6))
                    }
                }
            }
        }
        return nil
    }

    static let zoneFieldNames: Set<String> = [
        "mrz_type", "document_type", "issuing_country", "issuing_state", "issuer_country", "document_number", "passport_number",
        "date_of_birth", "birth_date", "expiry_date", "date_of_expiry", "expiration_date", "nationality", "sex", "gender", "surname",
        "last_name", "family_name", "given_names", "first_name", "given_name",
    ]

    /// Whether `property` names a field a machine-readable zone holds: on a page with a zone,
    /// the zone is where it is read, checked, and nowhere else.
    static func isZoneField(_ property: ExtractionSchema.Property) -> Bool { zoneFieldNames.contains(property.name.lowercased()) }

    /// The zone's reading of an ICAO field; `printed` are the zone's lines as the page has them.
    static func zoneField(
        _ property: ExtractionSchema.Property,
        zone: MachineReadableZone,
        printed: [String],
        on page: PageFindings
    ) -> ExtractedField? {
        let field: MachineReadableZone.Field
        switch property.name.lowercased() {
        case "mrz_type":
            field = MachineReadableZone.Field(value: zone.format.rawValue, line: 0, characters: 0..<zone.lines[0].count, checkDigitValid: nil)
        case "document_type": field = zone.documentType
        case "issuing_country", "issuing_state", "issuer_country": field = zone.issuingCountry
        case "document_number", "passport_number": field = zone.documentNumber
        case "date_of_birth", "birth_date": field = zone.dateOfBirth
        case "expiry_date", "date_of_expiry", "expiration_date": field = zone.expiryDate
        case "nationality": field = zone.nationality
        case "sex", "gender": field = zone.sex
        case "surname", "last_name", "family_name": field = zone.surname
        case "given_names", "first_name", "given_name": field = zone.givenNames
        default: return nil
        }
        // The zone's lines are single OCR words on the page; the field's line is its evidence.
        guard let lineRange = page.range(of: printed[field.line]) else { return nil }
        let valid = field.checkDigitValid != false && (zone.compositeValid || field.checkDigitValid == nil)
        return make(
            property,
            .mrz,
            page,
            TextMatch(value: .string(field.value), range: lineRange, confidence: valid ? 0.99 : 0.3),
            problems: valid ? [] : ["A check digit of the machine-readable zone fails."]
        )
    }

    static func make(
        _ property: ExtractionSchema.Property,
        _ extractor: Extractor,
        _ page: PageFindings,
        _ match: TextMatch<JSONValue>,
        problems: [String] = []
    ) -> ExtractedField {
        ExtractedField(
            name: property.name,
            value: match.value,
            provenance: page.page.provenance(of: match.range),
            evidence: page.text(match.range),
            confidence: match.confidence,
            extractor: extractor,
            problems: problems
        )
    }
}

/// A page with its values found once, for every property to choose from.
struct PageFindings {
    let page: ParsedPage
    let scalars: [Unicode.Scalar]
    let dates: [TextMatch<String>]
    let amounts: [TextMatch<MoneyAmount>]
    let ibans: [TextMatch<String>]
    let bics: [TextMatch<String>]

    init(_ page: ParsedPage) {
        self.page = page
        scalars = Array(page.text.unicodeScalars)
        dates = CalendarDates.dates(in: page.text)
        amounts = MoneyAmounts.amounts(in: page.text)
        ibans = BankIdentifiers.ibans(in: page.text)
        bics = BankIdentifiers.bics(in: page.text)
    }

    func text(_ range: Range<Int>) -> String {
        String(String.UnicodeScalarView(scalars[range.clamped(to: 0..<scalars.count)]))
    }

    func lineIndex(containing offset: Int) -> Int? {
        page.lines.firstIndex { $0.range.contains(offset) }
    }

    /// Where `line` (compared without spaces) stands as a whole line of the page.
    func range(of line: String) -> Range<Int>? {
        page.lines.first { MachineReadableZone.normalizedLine(text($0.range)) == line }?.range
    }
}
