public import CairnCore
public import Foundation

/// A folder of documents with the output a person expects from each:
/// `documents/ID.EXT`, `labels/ID.json`, and optionally `schemas/ID.json` (which overrides the
/// document type's schema for that document). The extraction development sets have this shape.
public struct GoldenSet: Sendable {
    public struct Item: Sendable {
        public let id: String
        public let document: URL
        public let labels: URL
        public let schema: URL?
    }

    public let folder: URL
    /// In the order of their ids.
    public let items: [Item]

    /// Reads the folder's layout; the files themselves are read when used.
    ///
    /// Throws `CairnError` (`invalidInput`) for a folder without `documents/` and `labels/`, a
    /// document without a label, or no documents at all.
    public init(folder: URL) throws(CairnError) {
        self.folder = folder
        let files = FileManager.default
        func list(_ name: String) -> [URL]? {
            try? files.contentsOfDirectory(at: folder.appendingPathComponent(name), includingPropertiesForKeys: nil)
                .filter { !$0.lastPathComponent.hasPrefix(".") }
        }
        guard let documents = list("documents"), let labels = list("labels") else {
            throw CairnError(.invalidInput, "\(folder.path) is not a golden set: it needs documents/ and labels/ folders.")
        }
        let labelsByID = Dictionary(labels.map { ($0.deletingPathExtension().lastPathComponent, $0) }) { first, _ in first }
        let schemasByID = Dictionary((list("schemas") ?? []).map { ($0.deletingPathExtension().lastPathComponent, $0) }) { first, _ in first }
        var items: [Item] = []
        for document in documents.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            let id = document.deletingPathExtension().lastPathComponent
            guard let label = labelsByID[id] else {
                throw CairnError(.invalidInput, "The golden set has no labels/\(id).json for documents/\(document.lastPathComponent).")
            }
            items.append(Item(id: id, document: document, labels: label, schema: schemasByID[id]))
        }
        guard !items.isEmpty else { throw CairnError(.invalidInput, "The golden set \(folder.path) has no documents.") }
        self.items = items
    }
}

extension GoldenSet {
    /// Runs `extract` on every document in turn, timing it, and judges the fields it returns
    /// against the document's labels with `threshold`. A document whose reading fails with a
    /// `CairnError` scores 0, its sentence kept in the report; a label file that is not JSON
    /// stops the evaluation.
    public func evaluate(threshold: Double, _ extract: (Item) async throws -> [ExtractedField]) async throws -> EvaluationReport {
        var documents: [EvaluationReport.Document] = []
        for item in items {
            guard let expected = try? JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: item.labels)) else {
                throw CairnError(.invalidInput, "labels/\(item.labels.lastPathComponent) is not JSON.")
            }
            let start = ContinuousClock.now
            var fields: [ExtractedField] = []
            var failure: String?
            do {
                fields = try await extract(item)
            } catch let error as CairnError where error.code == .invalidInput {
                failure = error.message
            }
            let elapsed = ContinuousClock.now - start
            documents.append(
                EvaluationReport.judge(
                    id: item.id,
                    expected: expected,
                    fields: fields,
                    threshold: threshold,
                    milliseconds: Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15,
                    costUSD: 0,
                    failure: failure
                )
            )
        }
        return EvaluationReport(documents: documents)
    }
}
