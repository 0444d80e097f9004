public import CairnCore
import CairnJSONSchema
public import Foundation

/// The checks a pipeline version's fields must pass before they may skip review: its rules on
/// one document's values, its document type's JSON Schema, and its cross-checks across the
/// case's documents and the applicant's declared subject.
public struct FieldRules: Sendable {
    public let definition: PipelineDefinition
    public let today: Date

    public init(definition: PipelineDefinition, today: Date = Date()) {
        self.definition = definition
        self.today = today
    }

    /// Problems per field name of one document of `type`: schema violations and failed rules.
    public func problems(of fields: [ExtractedField], type: String) -> [String: [String]] {
        var problems: [String: [String]] = [:]
        let values = Dictionary(fields.map { ($0.name, $0.value) }) { first, _ in first }
        if let schema = definition.documentTypes.first(where: { $0.name == type })?.schema, let compiled = try? JSONSchema(schema) {
            for violation in compiled.validate(.object(values)) {
                let name = violation.instanceLocation.split(separator: "/").first.map(String.init) ?? ""
                problems[name, default: []].append("The value breaks the schema: \(violation.message)")
            }
        }
        func date(_ reference: String?) -> (field: String, date: Date)? {
            guard let reference, let (ruleType, field) = Self.split(reference), ruleType == type,
                let text = values[field]?.string, let date = Self.isoDate(text)
            else { return nil }
            return (field, date)
        }
        let calendar = Calendar(identifier: .gregorian)
        for rule in definition.rules {
            switch rule.kind {
            case .expiresAfterToday:
                if let (field, expiry) = date(rule.field), expiry <= today {
                    problems[field, default: []].append("The document expired on \(Self.day(expiry)).")
                }
            case .youngerThanDays:
                if let (field, issued) = date(rule.field), let days = rule.days,
                    let limit = calendar.date(byAdding: .day, value: -days, to: today), issued < limit
                {
                    problems[field, default: []].append("The document is older than \(days) days (dated \(Self.day(issued))).")
                }
            case .ageAtLeast:
                if let (field, birth) = date(rule.field), let years = rule.years,
                    let adulthood = calendar.date(byAdding: .year, value: years, to: birth), adulthood > today
                {
                    problems[field, default: []].append("The person is younger than \(years).")
                }
            case .balancesReconcile:
                let references = [rule.opening, rule.credits, rule.debits, rule.closing].compactMap { $0.flatMap(Self.split) }
                guard references.count == 4, references.allSatisfy({ $0.0 == type }) else { continue }
                let figures = references.map { values[$0.1]?.number ?? values[$0.1]?.string.flatMap { Double($0) } }
                guard let opening = figures[0], let credits = figures[1], let debits = figures[2], let closing = figures[3] else { continue }
                if abs(opening + credits - debits - closing) >= 0.005 {
                    let message = String(
                        format: "Opening %.2f + credits %.2f − debits %.2f is not the closing balance %.2f.",
                        opening,
                        credits,
                        debits,
                        closing
                    )
                    problems[references[3].1, default: []].append(message)
                }
            }
        }
        return problems
    }

    /// Problems per (document, field) from the cross-checks: each field a check compares, in a
    /// check whose values do not all agree with the first found (the subject's, if declared).
    public func crossCheckProblems(
        fields: [(document: CaseDocumentID, type: String, field: ExtractedField)],
        subject: [String: JSONValue]
    ) -> [CaseDocumentID: [String: [String]]] {
        var problems: [CaseDocumentID: [String: [String]]] = [:]
        for check in definition.crossChecks {
            var subjectValue: String?
            var found: [(document: CaseDocumentID, name: String, value: String)] = []
            for reference in check.fields {
                guard let (type, name) = Self.split(reference) else { continue }
                if type == "subject" {
                    subjectValue = subjectValue ?? subject[name]?.string
                } else {
                    found += fields.filter { $0.type == type && $0.field.name == name }.compactMap { entry in
                        entry.field.value.string.map { (entry.document, name, $0) }
                    }
                }
            }
            guard let anchor = subjectValue ?? found.first?.value else { continue }
            for entry in found {
                let similarity = FieldComparison.similarity(anchor, entry.value)
                if similarity < check.threshold {
                    problems[entry.document, default: [:]][entry.name, default: []].append(
                        String(
                            format: "The %@ check failed: \"%@\" against \"%@\" (similarity %.2f, below %.2f).",
                            check.name,
                            entry.value,
                            anchor,
                            similarity,
                            check.threshold
                        )
                    )
                }
            }
        }
        return problems
    }

    static func split(_ reference: String) -> (String, String)? {
        let parts = reference.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    static func isoDate(_ text: String) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day())
    }
}
