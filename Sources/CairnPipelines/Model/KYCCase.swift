public import CairnCore
public import Foundation

public typealias CaseID = EntityID<KYCCase>
public typealias CaseDocumentID = EntityID<CaseDocument>

/// A customer's case pack and what became of it: opened with a reference and a kind, filled
/// with documents, extracted by a pipeline version, reviewed, decided. Its documents are
/// customer data: they never enter the search index, answers or agent tools.
public struct KYCCase: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case kycIndividual = "kyc_individual"
        case kycBusiness = "kyc_business"

        /// The pipeline a case of this kind runs through unless it names another.
        public var defaultPipeline: String { rawValue.replacingOccurrences(of: "_", with: "-") }
    }

    /// `open → processing → awaiting_review → approved | rejected | escalated`.
    public enum State: String, Sendable, Codable, CaseIterable {
        case open
        case processing
        case awaitingReview = "awaiting_review"
        case approved
        case rejected
        case escalated

        public var isDecided: Bool { [.approved, .rejected, .escalated].contains(self) }
    }

    public enum Decision: String, Sendable, Codable, CaseIterable {
        case approve
        case reject
        case escalate

        public var state: State {
            switch self {
            case .approve: .approved
            case .reject: .rejected
            case .escalate: .escalated
            }
        }
    }

    public let id: CaseID
    public let tenantID: TenantID
    /// The bank's own reference for the case (an application number).
    public let reference: String
    public let kind: Kind
    /// What the applicant declared (name, date of birth, address…): what documents are
    /// cross-checked against.
    public let subject: [String: JSONValue]
    public let scope: CaseScope
    public let pipeline: String
    public let state: State
    public let createdBy: String
    public let createdAt: Date
    public let updatedAt: Date
    public let decision: DecisionRecord?
    /// Oldest first.
    public let documents: [CaseDocument]

    public struct DecisionRecord: Sendable, Equatable {
        public let decision: Decision
        public let reason: String
        public let decidedBy: String
        public let decidedAt: Date
    }

    /// Whether a decision may be taken now: only once extraction is done and a person has
    /// something to decide on.
    public var isDecidable: Bool { state == .awaitingReview }
}

/// Where a case belongs in the bank: the legal entity and branch whose staff may see it. A
/// principal sees a scoped case only if its attributes name that entity (and branch); the CLI's
/// local administrator, who holds the database, sees every case.
public struct CaseScope: Sendable, Equatable, Codable {
    public var entity: String?
    public var branch: String?

    public init(entity: String? = nil, branch: String? = nil) {
        self.entity = entity
        self.branch = branch
    }

    public func admits(_ principal: Principal) -> Bool {
        if principal.credential == .localAdministrator { return true }
        let entityAdmits = entity.map { principal.attributes.entities.contains($0) } ?? true
        let branchAdmits = branch.map { principal.attributes.branches.contains($0) } ?? true
        return entityAdmits && branchAdmits
    }
}

/// One file of a case pack.
public struct CaseDocument: Sendable, Equatable {
    public enum State: String, Sendable, Codable {
        /// Stored; waiting for its extraction job.
        case queued
        case processing
        /// Extracted: its fields are stored.
        case extracted
        /// Could not be read; `failure` says why in one sentence. The case's other documents go on.
        case failed
    }

    public let id: CaseDocumentID
    public let caseID: CaseID
    public let fileName: String
    public let blobDigest: String
    public let byteCount: Int
    public let state: State
    /// The type the pipeline classified it as, once it has (`other` when none fits).
    public let documentType: String?
    public let pipelineVersion: Int?
    public let failure: String?
    public let createdAt: Date
}
