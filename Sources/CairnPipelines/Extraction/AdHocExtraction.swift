public import CairnCore
public import CairnIngest
public import Foundation

/// Extraction without a pipeline: one file and a schema in, fields with provenance out (the
/// shape of `POST /v1/extractions` and `cairn extract`).
public struct AdHocExtraction: Sendable {
    /// A field at least this confident, with no problem raised, is accepted without review.
    public static let acceptanceThreshold = 0.8

    public let parser: DocumentParser
    public let extractor: DeterministicExtractor

    public init(parser: DocumentParser = DocumentParser(), extractor: DeterministicExtractor = DeterministicExtractor()) {
        self.parser = parser
        self.extractor = extractor
    }

    /// The fields of `schema` found in the file at `file` (its format told by its content, its
    /// name only confirming it).
    ///
    /// Throws `CairnError` with one sentence when the file cannot be read as a document.
    public func extract(file: URL, declaredName: String? = nil, schema: ExtractionSchema) async throws -> [ExtractedField] {
        let format = try DocumentFormat.detect(fileAt: file, declaredName: declaredName ?? file.lastPathComponent, declaredMediaType: nil)
        let document = try await parser.parse(contentsOf: file, format: format)
        return extractor.extract(document, schema: schema)
    }

    /// Runs over every document of `set`, each with its own `schemas/ID.json` unless `schema`
    /// is given, and scores the fields against its labels. A document that fails to parse
    /// scores 0, its failure kept in the report.
    ///
    /// Throws `CairnError` when a document has no schema to extract by, or a schema or label
    /// file is not JSON.
    public func evaluate(_ set: GoldenSet, schema: ExtractionSchema? = nil) async throws -> EvaluationReport {
        var documents: [EvaluationReport.Document] = []
        for item in set.items {
            let itemSchema: ExtractionSchema
            if let schema {
                itemSchema = schema
            } else if let file = item.schema {
                itemSchema = try ExtractionSchema(json: try Data(contentsOf: file))
            } else {
                throw CairnError(.invalidInput, "The golden set has no schemas/\(item.id).json; give a schema with --schema.")
            }
            guard let expected = try? JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: item.labels)) else {
                throw CairnError(.invalidInput, "labels/\(item.labels.lastPathComponent) is not JSON.")
            }
            let start = ContinuousClock.now
            var fields: [ExtractedField] = []
            var failure: String?
            do {
                fields = try await extract(file: item.document, schema: itemSchema)
            } catch let error as CairnError {
                failure = error.message
            }
            let elapsed = ContinuousClock.now - start
            documents.append(
                EvaluationReport.judge(
                    id: item.id,
                    expected: expected,
                    fields: fields,
                    threshold: Self.acceptanceThreshold,
                    milliseconds: Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15,
                    costUSD: 0,
                    failure: failure
                )
            )
        }
        return EvaluationReport(documents: documents)
    }
}
