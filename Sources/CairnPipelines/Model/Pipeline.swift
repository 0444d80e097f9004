public import CairnCore
public import Foundation

public typealias PipelineID = EntityID<Pipeline>

/// A named extraction pipeline of a tenant and its versions. A version never changes once
/// created; the active one serves new case documents until another is promoted.
public struct Pipeline: Sendable, Equatable {
    public let id: PipelineID
    public let name: String
    /// The version that serves, if one does.
    public let activeVersion: Int?
    public let createdAt: Date
    /// Oldest first.
    public let versions: [Version]

    public struct Version: Sendable, Equatable {
        public let number: Int
        /// The definition as its author wrote it (YAML or JSON), byte for byte.
        public let source: String
        /// SHA-256 of `source`, hex: what an auditor compares.
        public let checksum: String
        public let createdBy: String
        public let createdAt: Date

        /// The definition, read again from its source (it was checked when created).
        public var definition: PipelineDefinition {
            get throws(CairnError) { try PipelineDefinition(text: source) }
        }
    }

    public var latestVersion: Int? { versions.last?.number }

    /// Whether `name` may name a pipeline: a lower-case letter, then letters, digits, `_`, `-`.
    public static func isValidName(_ name: String) -> Bool { PipelineDefinition.isName(name) }
}
