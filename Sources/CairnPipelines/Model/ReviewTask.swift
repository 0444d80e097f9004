public import CairnCore
public import Foundation

/// A case document with fields sent to review, waiting for a reviewer. Its id is the
/// document's: a document is reviewed once, as a whole.
public struct ReviewTask: Sendable, Equatable {
    public let id: CaseDocumentID
    public let caseID: CaseID
    public let caseReference: String
    public let fileName: String
    public let documentType: String?
    /// Fields still in review.
    public let openFields: Int
    public let createdAt: Date
    /// Every field of the document (in lists: none).
    public let fields: [CaseField]
}

/// A reviewer's verdict on one field.
public enum FieldVerdict: Sendable, Equatable {
    /// The extracted value is right.
    case accept
    /// The value is this instead.
    case correct(JSONValue)
    /// The document does not hold the field.
    case notPresent
}
