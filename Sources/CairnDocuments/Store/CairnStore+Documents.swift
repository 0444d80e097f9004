public import CairnStore

extension CairnStore {
    /// Collections, documents, versions and their lifecycle.
    public var documents: DocumentRepository { DocumentRepository(database: database) }
    /// The change feed and content index replicas load from.
    public var indexFeed: IndexFeed { IndexFeed(database: database) }
}

/// The documents' tables: collections, documents, versions, pages, chunks and the change feed.
public enum DocumentsSchema {
    public static let migrations: [Migration] = [.documents]
}
