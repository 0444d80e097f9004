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
