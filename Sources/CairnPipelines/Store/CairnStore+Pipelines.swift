public import CairnStore

extension CairnStore {
    /// The tenant's extraction pipelines and their versions.
    public var pipelines: Pipelines { Pipelines(database: database) }
    /// The tenant's KYC cases and their documents.
    public var cases: Cases { Cases(database: database) }
    /// What extraction makes of case documents: their pages and fields.
    public var caseExtractions: CaseExtractions { CaseExtractions(database: database) }
    /// Each pipeline's golden cases.
    public var goldenCases: GoldenCases { GoldenCases(database: database) }
    /// The reviewers' queue of case documents with fields in review.
    public var reviewTasks: ReviewTasks { ReviewTasks(database: database) }
}

/// The pipelines' tables: pipelines and their versions, cases and their documents.
public enum PipelinesSchema {
    public static let migrations: [Migration] = [.pipelines, .cases, .caseExtraction, .goldenCases]
}
