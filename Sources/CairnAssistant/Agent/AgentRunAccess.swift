public import CairnCore
public import CairnDocuments

/// Who may see an agent run, read what it found, decide on its calls, and read the review
/// proposals it made. Pure rules over the run's starter and the principal asking; `AgentRuns`
/// applies them to what it reads, under the row lock where a decision is made.
public enum AgentRunAccess {
    /// Whether `principal` may see a run `owner` (an audit actor) started: the starter, and
    /// whoever manages runs. To anyone else the run does not exist.
    public static func canSee(runOwnedBy owner: String, _ principal: Principal) -> Bool {
        owner == principal.auditActor || principal.has(.manageRuns)
    }

    /// Whether `principal` reads what the run's tools returned and its model wrote: its starter,
    /// and whoever holds the database. A manager may lack the clearance, entities or groups of
    /// the starter, whose documents those texts quote.
    public static func readsInFull(runOwnedBy owner: String, _ principal: Principal) -> Bool {
        owner == principal.auditActor || principal.credential == .localAdministrator
    }

    /// Checks that `principal` may approve or reject the call a run `owner` started waits on.
    /// Under four-eyes approval the starter may reject but not approve; identity is the audit
    /// actor, so one person holding two credentials counts as two (ADR 0026).
    public static func checkDecision(
        approving: Bool,
        onRunOwnedBy owner: String,
        by principal: Principal,
        under rule: AgentApprovalRule
    ) throws(CairnError) {
        if approving, rule == .fourEyes, owner == principal.auditActor {
            throw CairnError(.forbidden, "Four-eyes approval is on: someone other than the run's starter must approve its calls.")
        }
    }

    /// Whether `principal` may read a review proposal about `document` made by a run that acted
    /// as `starter`. Its reason was written by a model that read what the starter may read and
    /// may quote any of it, so the reader must see the document and everything the starter
    /// could; the operator at the CLI reads all. A missing document or starter admits no one else.
    public static func canRead(proposalAbout document: Document?, startedBy starter: Principal?, _ principal: Principal) -> Bool {
        if principal.credential == .localAdministrator { return true }
        guard let document, let starter else { return false }
        return document.isVisible(to: principal) && principal.readsEverything(readableBy: starter)
    }
}
