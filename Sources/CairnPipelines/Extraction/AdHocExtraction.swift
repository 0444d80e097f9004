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
        // Every document's schema is read first: a missing or broken one stops the run rather
        // than scoring its document 0.
        var schemas: [String: ExtractionSchema] = [:]
        for item in set.items {
            if let schema {
                schemas[item.id] = schema
            } else if let file = item.schema {
                schemas[item.id] = try ExtractionSchema(json: try Data(contentsOf: file))
            } else {
                throw CairnError(.invalidInput, "The golden set has no schemas/\(item.id).json; give a schema with --schema.")
            }
        }
        return try await set.evaluate(threshold: Self.acceptanceThreshold) { item in
            try await extract(file: item.document, schema: schemas[item.id]!)
        }
    }
}
