public import CairnCore
import CairnJSONSchema
public import Foundation
import Yams

/// What a pipeline version does, as its author wrote it (YAML or JSON): the document types it
/// knows, each with the JSON Schema of its fields; the rules a case's fields must pass; which
/// fields must agree across a case's documents; and when a field may skip review.
///
/// ```yaml
/// description: Individual KYC
/// accept_threshold: 0.8
/// bounds: { cost_usd_per_document: 0.02, p95_ms: 30000 }
/// document_types:
///   - name: passport
///     keywords: [passport, "P<"]
///     critical: [document_number, date_of_birth]
///     schema: { type: object, properties: { document_number: { type: string, description: … } } }
/// rules:
///   - { kind: expires_after_today, field: passport.expiry_date }
///   - { kind: age_at_least, field: passport.date_of_birth, years: 18 }
/// cross_checks:
///   - { name: address, fields: [subject.address, utility_bill.address], threshold: 0.85 }
/// ```
public struct PipelineDefinition: Sendable, Equatable, Codable {
    public var description: String?
    /// A field this confident, with no failed rule, is accepted without review.
    public var acceptThreshold: Double
    public var bounds: Bounds?
    /// A gateway model (an alias) for classification and model-based extraction; none: rules only.
    public var model: String?
    public var documentTypes: [DocumentType]
    public var rules: [Rule]
    public var crossChecks: [CrossCheck]

    public struct Bounds: Sendable, Equatable, Codable {
        public var costUSDPerDocument: Double?
        public var p95Milliseconds: Double?

        enum CodingKeys: String, CodingKey {
            case costUSDPerDocument = "cost_usd_per_document"
            case p95Milliseconds = "p95_ms"
        }
    }

    public struct DocumentType: Sendable, Equatable, Codable {
        public var name: String
        public var description: String?
        /// Words whose presence on the first page classifies a document as this type.
        public var keywords: [String]
        /// Fields whose accuracy may never drop when a new version is promoted.
        public var critical: [String]
        public var schema: JSONValue
        /// The schema's property names in the order the author wrote them (JSON objects have
        /// none): the order a reviewer reads the fields in.
        public var fieldOrder: [String] = []

        enum CodingKeys: String, CodingKey {
            case name, description, keywords, critical, schema
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            description = try container.decodeIfPresent(String.self, forKey: .description)
            keywords = try container.decodeIfPresent([String].self, forKey: .keywords) ?? []
            critical = try container.decodeIfPresent([String].self, forKey: .critical) ?? []
            schema = try container.decode(JSONValue.self, forKey: .schema)
        }

        /// The schema's fields, in the author's order.
        public var fields: ExtractionSchema {
            get throws(CairnError) { try ExtractionSchema(schema: schema, order: fieldOrder) }
        }
    }

    /// A check on extracted values; a field that fails one goes to review, whatever its confidence.
    public struct Rule: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable, CaseIterable {
            /// The date in `field` is after today.
            case expiresAfterToday = "expires_after_today"
            /// The date in `field` is at most `days` old.
            case youngerThanDays = "younger_than_days"
            /// The birth date in `field` makes the person at least `years` old.
            case ageAtLeast = "age_at_least"
            /// `opening + credits − debits = closing`, to the cent, on one document type.
            case balancesReconcile = "balances_reconcile"
        }

        public var kind: Kind
        /// `type.field`, for the single-field rules.
        public var field: String?
        public var days: Int?
        public var years: Int?
        /// For `balances_reconcile`: `type.field` of each figure.
        public var opening: String?
        public var credits: String?
        public var debits: String?
        public var closing: String?
    }

    /// Fields that must agree across a case's documents (and the case's `subject`), compared
    /// after normalising case, diacritics, transliteration and word order.
    public struct CrossCheck: Sendable, Equatable, Codable {
        public var name: String
        /// `type.field` or `subject.field`.
        public var fields: [String]
        /// Similarity (0…1) at or above which two values agree.
        public var threshold: Double
    }

    enum CodingKeys: String, CodingKey {
        case description
        case acceptThreshold = "accept_threshold"
        case bounds, model
        case documentTypes = "document_types"
        case rules
        case crossChecks = "cross_checks"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        acceptThreshold = try container.decodeIfPresent(Double.self, forKey: .acceptThreshold) ?? 0.8
        bounds = try container.decodeIfPresent(Bounds.self, forKey: .bounds)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        documentTypes = try container.decode([DocumentType].self, forKey: .documentTypes)
        rules = try container.decodeIfPresent([Rule].self, forKey: .rules) ?? []
        crossChecks = try container.decodeIfPresent([CrossCheck].self, forKey: .crossChecks) ?? []
    }

    /// Reads a definition from YAML or JSON (JSON is YAML) and checks it whole.
    ///
    /// Throws `CairnError` (`invalidInput`) with one sentence naming the first thing wrong.
    public init(text: String) throws(CairnError) {
        let value: JSONValue
        do {
            guard let loaded = try Yams.load(yaml: text) else { throw CairnError(.invalidInput, "The pipeline definition is empty.") }
            value = try JSONValue(yaml: loaded)
        } catch let error as CairnError {
            throw error
        } catch {
            throw CairnError(.invalidInput, "The pipeline definition is not valid YAML or JSON.")
        }
        do {
            self = try JSONDecoder().decode(PipelineDefinition.self, from: JSONEncoder().encode(value))
            let types = (try? Yams.compose(yaml: text))?.mapping?["document_types"]?.sequence ?? []
            for (index, type) in types.enumerated() where index < documentTypes.count {
                documentTypes[index].fieldOrder = type.mapping?["schema"]?.mapping?["properties"]?.mapping?.keys.compactMap(\.string) ?? []
            }
        } catch let DecodingError.keyNotFound(key, context) {
            throw CairnError(.invalidInput, "The pipeline definition lacks '\(Self.path(context.codingPath + [key]))'.")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw CairnError(.invalidInput, "'\(Self.path(context.codingPath))' in the pipeline definition has the wrong type.")
        } catch let DecodingError.dataCorrupted(context) {
            throw CairnError(.invalidInput, "'\(Self.path(context.codingPath))' in the pipeline definition is not valid.")
        } catch {
            throw CairnError(.invalidInput, "The pipeline definition could not be read.")
        }
        try validate()
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    /// Names of document types (and pipelines): a lower-case letter, then up to 63 lower-case
    /// letters, digits, `_` and `-`.
    static func isName(_ text: String) -> Bool {
        text.wholeMatch(of: /[a-z][a-z0-9_\-]{0,63}/) != nil
    }

    /// Checks what decoding cannot: unique names, schemas that compile and describe objects,
    /// critical fields and rule references that exist, thresholds within 0…1.
    func validate() throws(CairnError) {
        guard (0...1).contains(acceptThreshold) else { throw CairnError(.invalidInput, "accept_threshold must lie between 0 and 1.") }
        guard !documentTypes.isEmpty else { throw CairnError(.invalidInput, "The pipeline definition names no document type.") }
        var fieldsByType: [String: Set<String>] = [:]
        for type in documentTypes {
            guard Self.isName(type.name), type.name != "other", type.name != "subject" else {
                throw CairnError(
                    .invalidInput,
                    "'\(type.name)' cannot name a document type: use lower-case letters, digits, _ and -, and neither 'other' nor 'subject'."
                )
            }
            guard fieldsByType[type.name] == nil else { throw CairnError(.invalidInput, "The document type '\(type.name)' is defined twice.") }
            do {
                _ = try JSONSchema(type.schema)
            } catch {
                throw CairnError(.invalidInput, "The schema of '\(type.name)' is not a valid JSON Schema: \(error).")
            }
            let names = Set(try type.fields.properties.map(\.name))
            fieldsByType[type.name] = names
            for field in type.critical where !names.contains(field) {
                throw CairnError(.invalidInput, "The critical field '\(field)' is not in the schema of '\(type.name)'.")
            }
        }
        func check(_ reference: String?, in what: String, subjectAllowed: Bool = false) throws(CairnError) {
            guard let reference else { throw CairnError(.invalidInput, "The \(what) needs a field, written type.field.") }
            let parts = reference.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw CairnError(.invalidInput, "'\(reference)' in the \(what) is not written type.field.") }
            if subjectAllowed, parts[0] == "subject" { return }
            guard fieldsByType[parts[0]]?.contains(parts[1]) == true else {
                throw CairnError(.invalidInput, "The \(what) refers to '\(reference)', which no document type defines.")
            }
        }
        for rule in rules {
            let what = "rule \(rule.kind.rawValue)"
            switch rule.kind {
            case .expiresAfterToday: try check(rule.field, in: what)
            case .youngerThanDays:
                try check(rule.field, in: what)
                guard (rule.days ?? 0) > 0 else { throw CairnError(.invalidInput, "The rule younger_than_days needs days, a positive number.") }
            case .ageAtLeast:
                try check(rule.field, in: what)
                guard (rule.years ?? 0) > 0 else { throw CairnError(.invalidInput, "The rule age_at_least needs years, a positive number.") }
            case .balancesReconcile:
                for reference in [rule.opening, rule.credits, rule.debits, rule.closing] { try check(reference, in: what) }
            }
        }
        for crossCheck in crossChecks {
            guard crossCheck.fields.count >= 2 else {
                throw CairnError(.invalidInput, "The cross-check '\(crossCheck.name)' needs at least two fields to compare.")
            }
            guard (0...1).contains(crossCheck.threshold) else {
                throw CairnError(.invalidInput, "The threshold of the cross-check '\(crossCheck.name)' must lie between 0 and 1.")
            }
            for field in crossCheck.fields { try check(field, in: "cross-check '\(crossCheck.name)'", subjectAllowed: true) }
        }
    }
}

extension JSONValue {
    /// The value Yams loaded, as JSON: maps with string keys, sequences, scalars.
    init(yaml value: Any) throws(CairnError) {
        switch value {
        case let text as String: self = .string(text)
        case let flag as Bool: self = .bool(flag)
        case let number as Int: self = .number(Double(number))
        case let number as Double: self = .number(number)
        case is NSNull: self = .null
        case let items as [Any]:
            var values: [JSONValue] = []
            for item in items { values.append(try JSONValue(yaml: item)) }
            self = .array(values)
        case let map as [AnyHashable: Any]:
            var members: [String: JSONValue] = [:]
            for (key, item) in map {
                guard let key = key.base as? String else { throw CairnError(.invalidInput, "A key in the pipeline definition is not text.") }
                members[key] = try JSONValue(yaml: item)
            }
            self = .object(members)
        default:
            throw CairnError(.invalidInput, "The pipeline definition holds a value that is not JSON (a date or binary data).")
        }
    }
}
