import CairnAssistant
import CairnCore
import CairnDocuments
import Foundation
import Testing

/// The rules over agent runs, without a database: who sees a run, who reads it in full, who may
/// decide on its calls, and who reads the proposals it made.
@Suite("Agent run access")
struct AgentRunAccessTests {
    static let tenant = TenantID()
    // A valid literal; the initialiser only rejects malformed names.
    static let tenantName = try! TenantName("northbank")

    static func principal(_ subject: String, _ roles: Set<Role>, clearance: Classification = .internal, entities: [String] = []) -> Principal {
        Principal(
            tenantID: tenant,
            tenantName: tenantName,
            subject: subject,
            roles: roles,
            groups: [],
            attributes: AccessAttributes(entities: entities, clearance: clearance),
            credential: .apiKey(APIKeyID())
        )
    }

    static let operatorAtCLI = Principal(
        tenantID: tenant,
        tenantName: tenantName,
        subject: "cli",
        roles: [.admin],
        groups: [],
        attributes: AccessAttributes(clearance: .restricted),
        credential: .localAdministrator
    )

    static func document(_ policy: DocumentAccessPolicy, state: DocumentState = .active) -> Document {
        Document(
            id: DocumentID(),
            tenantID: tenant,
            collectionID: CollectionID(),
            title: "Retention",
            source: "retention.pdf",
            tags: [],
            policy: policy,
            state: state,
            activeVersionID: DocumentVersionID(),
            createdAt: Date(),
            createdBy: "cli",
            updatedAt: Date()
        )
    }

    let alice = Self.principal("alice", [.analyst])
    let bob = Self.principal("bob", [.analyst])
    let manager = Self.principal("mona", [.admin], clearance: .public)

    @Test("The starter and run managers see a run; other analysts do not")
    func visibility() {
        #expect(AgentRunAccess.canSee(runOwnedBy: alice.auditActor, alice))
        #expect(!AgentRunAccess.canSee(runOwnedBy: alice.auditActor, bob))
        #expect(AgentRunAccess.canSee(runOwnedBy: alice.auditActor, manager))
    }

    @Test("Only the starter and the operator read a run's content; a manager sees it without")
    func content() {
        #expect(AgentRunAccess.readsInFull(runOwnedBy: alice.auditActor, alice))
        #expect(!AgentRunAccess.readsInFull(runOwnedBy: alice.auditActor, manager))
        #expect(AgentRunAccess.readsInFull(runOwnedBy: alice.auditActor, Self.operatorAtCLI))
    }

    @Test("Under four-eyes the starter may reject but not approve; a manager may approve")
    func fourEyes() throws {
        #expect(throws: CairnError.self) {
            try AgentRunAccess.checkDecision(approving: true, onRunOwnedBy: alice.auditActor, by: alice, under: .fourEyes)
        }
        try AgentRunAccess.checkDecision(approving: false, onRunOwnedBy: alice.auditActor, by: alice, under: .fourEyes)
        try AgentRunAccess.checkDecision(approving: true, onRunOwnedBy: alice.auditActor, by: manager, under: .fourEyes)
        try AgentRunAccess.checkDecision(approving: true, onRunOwnedBy: alice.auditActor, by: alice, under: .starterOrManager)
    }

    @Test("A proposal is read by those who see its document and everything its starter could")
    func proposals() {
        let curator = Self.principal("carl", [.curator], clearance: .confidential, entities: ["northbank-uk"])
        let starter = Self.principal("alice", [.analyst], clearance: .internal, entities: ["northbank-uk"])
        let open = Self.document(DocumentAccessPolicy(classification: .internal))
        #expect(AgentRunAccess.canRead(proposalAbout: open, startedBy: starter, curator))

        let wider = Self.principal("alice", [.analyst], clearance: .restricted)
        #expect(!AgentRunAccess.canRead(proposalAbout: open, startedBy: wider, curator), "the starter could read more than the curator")

        let secret = Self.document(DocumentAccessPolicy(classification: .restricted))
        #expect(!AgentRunAccess.canRead(proposalAbout: secret, startedBy: starter, curator), "the curator may not see the document")
        #expect(!AgentRunAccess.canRead(proposalAbout: nil, startedBy: starter, curator))
        #expect(AgentRunAccess.canRead(proposalAbout: secret, startedBy: wider, Self.operatorAtCLI))
    }
}
