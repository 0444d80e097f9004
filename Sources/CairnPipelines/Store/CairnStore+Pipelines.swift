public import CairnStore

extension CairnStore {
    /// The tenant's extraction pipelines and their versions.
    public var pipelines: Pipelines { Pipelines(database: database) }
}

/// The pipelines' tables: pipelines and their versions.
public enum PipelinesSchema {
    public static let migrations: [Migration] = [.pipelines]
}
