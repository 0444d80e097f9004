public import CairnCore
public import CairnIngest

/// One value an extractor read from a document, with everything a reviewer needs to trust it or
/// correct it.
public struct ExtractedField: Sendable, Codable, Equatable {
    /// The schema property it fills (a top-level name).
    public let name: String
    public let value: JSONValue
    /// Where it was read; `nil` only for a format without layout (DOCX, HTML, text).
    public let page: Int?
    public let box: BoundingBox?
    public let evidence: String
    /// 0…1: how sure the extractor is; below the version's threshold the field goes to review.
    public let confidence: Double
    public let extractor: Extractor
    /// Why the field may be wrong even when confident (a check digit that fails, a rule).
    public let problems: [String]

    /// A field as stored: every part given.
    public init(
        name: String,
        value: JSONValue,
        page: Int?,
        box: BoundingBox?,
        evidence: String,
        confidence: Double,
        extractor: Extractor,
        problems: [String]
    ) {
        self.name = name
        self.value = value
        self.page = page
        self.box = box
        self.evidence = evidence
        self.confidence = confidence
        self.extractor = extractor
        self.problems = problems
    }

    /// A field as an extractor reads it: its evidence is what its provenance's box shows, when
    /// it has one.
    public init(
        name: String,
        value: JSONValue,
        provenance: Provenance?,
        evidence: String,
        confidence: Double,
        extractor: Extractor,
        problems: [String] = []
    ) {
        self.name = name
        self.value = value
        self.page = provenance?.page
        self.box = provenance?.box
        self.evidence = provenance?.evidence ?? evidence
        self.confidence = confidence
        self.extractor = extractor
        self.problems = problems
    }
}

/// What produced a value.
public enum Extractor: String, Sendable, Codable, CaseIterable {
    /// A machine-readable zone, check digits verified.
    case mrz
    case iban
    case bic
    case date
    case amount
    /// The value printed after a label naming the field ("Invoice number: 42183017").
    case label
    /// The document's first line: where issuers print their name.
    case header
    /// A language model through the gateway, its evidence located in the page's words.
    case model
}
