public import CairnIngest
public import Foundation

/// A pipeline version run over a golden set as it runs over a case document: classified by the
/// version's keywords, extracted by the type's schema (or the golden set's own schema for that
/// document), checked by its rules, accepted at its threshold; then scored against the labels.
public struct PipelineEvaluation: Sendable {
    public let parser: DocumentParser
    public let today: Date

    public init(parser: DocumentParser = DocumentParser(), today: Date = Date()) {
        self.parser = parser
        self.today = today
    }

    public func evaluate(_ definition: PipelineDefinition, on set: GoldenSet) async throws -> EvaluationReport {
        let rules = FieldRules(definition: definition, today: today)
        let classifier = DocumentClassifier(definition: definition)
        return try await set.evaluate(threshold: definition.acceptThreshold) { item in
            let format = try DocumentFormat.detect(fileAt: item.document, declaredName: item.document.lastPathComponent, declaredMediaType: nil)
            let document = try await parser.parse(contentsOf: item.document, format: format)
            let typeName = classifier.type(of: document.pages)
            let type = definition.documentTypes.first { $0.name == typeName }
            let schema: ExtractionSchema
            if let file = item.schema {
                schema = try ExtractionSchema(json: try Data(contentsOf: file))
            } else if let type {
                schema = try type.fields
            } else {
                return []
            }
            let fields = DeterministicExtractor(today: today).extract(document, schema: schema)
            let problems = rules.problems(of: fields, type: typeName)
            return fields.map { $0.adding(problems: problems[$0.name] ?? []) }
        }
    }
}
