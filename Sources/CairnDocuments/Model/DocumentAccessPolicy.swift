public import CairnCore

/// Who may read a document: its classification and the entities, branches and groups it is
/// restricted to. An empty list leaves that dimension open.
///
/// The rule is the one the design fixes: visible iff the classification is within the
/// principal's clearance and every non-empty list shares at least one value with the principal.
/// Tenancy is not part of the policy: documents never leave their tenant's partition.
public struct DocumentAccessPolicy: Sendable, Equatable, Hashable, Codable {
    public var classification: Classification
    public var entities: [String]
    public var branches: [String]
    public var groups: [String]

    public init(classification: Classification = .internal, entities: [String] = [], branches: [String] = [], groups: [String] = []) {
        self.classification = classification
        self.entities = entities
        self.branches = branches
        self.groups = groups
    }

    /// Whether `principal` may read a document under this policy.
    public func admits(_ principal: Principal) -> Bool {
        classification <= principal.attributes.clearance
            && Self.intersects(entities, principal.attributes.entities)
            && Self.intersects(branches, principal.attributes.branches)
            && Self.intersects(groups, principal.groups)
    }

    private static func intersects(_ required: [String], _ held: [String]) -> Bool {
        required.isEmpty || required.contains(where: held.contains)
    }

    /// Checks the lists' entries: each 1–100 characters, at most 50 per list.
    public func validate() throws(CairnError) {
        try TextRules.validate(entities, field: "a policy's entities", maximumCount: 50)
        try TextRules.validate(branches, field: "a policy's branches", maximumCount: 50)
        try TextRules.validate(groups, field: "a policy's groups", maximumCount: 50)
    }
}

extension Classification: Codable {}
