/// An extracted field of a case document, with where it stands: accepted without a person,
/// waiting for review, or settled by a reviewer.
public struct CaseField: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Confident, and no rule or cross-check failed.
        case accepted
        /// Below the version's threshold, or a rule or cross-check failed: a person decides.
        case review
        /// A reviewer changed the value.
        case corrected
        /// A reviewer found the field is not in the document.
        case notPresent = "not_present"
    }

    public let documentID: CaseDocumentID
    public let field: ExtractedField
    public let status: Status

    public init(documentID: CaseDocumentID, field: ExtractedField, status: Status) {
        self.documentID = documentID
        self.field = field
        self.status = status
    }
}
