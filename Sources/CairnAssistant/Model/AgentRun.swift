public import CairnCore
public import CairnGateway
public import Foundation

public typealias AgentRunID = EntityID<AgentRun>

/// A tool an agent run may call. The raw values are the names the model sees.
public enum AgentTool: String, Sendable, CaseIterable, Codable, Comparable {
    case searchDocuments = "search_documents"
    case readDocumentPage = "read_document_page"
    case listDocuments = "list_documents"
    case getJobStatus = "get_job_status"
    case proposeDocumentReview = "propose_document_review"

    /// Whether calling the tool changes anything. Such a call always waits for a person to
    /// approve it, whatever the run's goal, the model or a retrieved document says.
    public var hasSideEffects: Bool { self == .proposeDocumentReview }

    /// The tools a principal holding `roles` may give an agent: only what the roles could do by
    /// hand through the API. Fixed in code, like the permission table.
    public static func allowed(for roles: Set<Role>) -> Set<AgentTool> {
        roles.reduce(into: []) { tools, role in
            switch role {
            case .admin, .curator: tools.formUnion(allCases)
            case .analyst: tools.formUnion([.searchDocuments, .readDocumentPage, .listDocuments, .proposeDocumentReview])
            case .service: tools.formUnion([.searchDocuments, .readDocumentPage, .listDocuments, .getJobStatus])
            // Case workers' customer data never reaches an agent's tools.
            case .reviewer, .caseWorker, .viewer: break
            }
        }
    }

    public static func < (lhs: AgentTool, rhs: AgentTool) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How far one run may go before it is stopped.
public struct AgentLimits: Sendable, Equatable, Codable {
    /// Model calls, each one step of the loop.
    public var modelCalls: Int
    /// Time spent working, in milliseconds; time waiting for an approval does not count.
    public var activeMilliseconds: Int64
    /// What the run's model calls may cost together.
    public var cost: USD

    public init(modelCalls: Int = 12, activeMilliseconds: Int64 = 300_000, cost: USD = USD(nanodollars: 500_000_000)) {
        self.modelCalls = modelCalls
        self.activeMilliseconds = activeMilliseconds
        self.cost = cost
    }
}

/// Who may approve the side-effecting call a run waits on. Either way a manager
/// (`runs.manage`) may, and anyone who may approve may also reject.
public enum AgentApprovalRule: Sendable, Equatable {
    /// The run's starter may approve their own run's calls.
    case starterOrManager
    /// Never the starter: every effect is seen by a second person (`CAIRN_AGENT_FOUR_EYES`).
    case fourEyes
}

/// An agent's pursuit of a goal: model calls and tool calls in turn, each stored as a step.
///
/// The steps are the run's whole memory. A worker that picks a run up (after an approval, a
/// crash or a restart) rebuilds the conversation from them and carries on from the first step
/// not yet settled, so a finished step is never done again.
public struct AgentRun: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable, Codable {
        /// A worker is on it, or will be shortly.
        case running
        /// A side-effecting tool call waits for a person's decision.
        case awaitingApproval = "awaiting_approval"
        /// The model gave its final answer (``AgentRun/outcome``).
        case completed
        /// A limit was reached or the run could not go on (``AgentRun/outcome`` says why).
        case failed
    }

    public let id: AgentRunID
    public let tenantID: TenantID
    /// The starter's audit actor; the run acts with the starter's access.
    public let owner: String
    public let goal: String
    public let tools: [AgentTool]
    public let state: State
    /// The final answer, or why the run failed.
    public fileprivate(set) var outcome: String?
    public let limits: AgentLimits
    public let usage: Usage
    public let createdAt: Date
    public let updatedAt: Date
    /// Oldest first.
    public fileprivate(set) var steps: [AgentStep]

    public init(
        id: AgentRunID,
        tenantID: TenantID,
        owner: String,
        goal: String,
        tools: [AgentTool],
        state: State,
        outcome: String?,
        limits: AgentLimits,
        usage: Usage,
        createdAt: Date,
        updatedAt: Date,
        steps: [AgentStep]
    ) {
        self.id = id
        self.tenantID = tenantID
        self.owner = owner
        self.goal = goal
        self.tools = tools
        self.state = state
        self.outcome = outcome
        self.limits = limits
        self.usage = usage
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.steps = steps
    }

    /// What the run has used of its ``limits``.
    public struct Usage: Sendable, Equatable, Codable {
        public var modelCalls: Int
        public var activeMilliseconds: Int64
        public var cost: USD

        public init(modelCalls: Int = 0, activeMilliseconds: Int64 = 0, cost: USD = .zero) {
            self.modelCalls = modelCalls
            self.activeMilliseconds = activeMilliseconds
            self.cost = cost
        }

        /// The limit this usage has reached, as a sentence; `nil` while within all of them.
        public func exhausted(_ limits: AgentLimits) -> String? {
            if modelCalls >= limits.modelCalls { return "The run stopped after \(limits.modelCalls) model calls, its step limit." }
            if activeMilliseconds >= limits.activeMilliseconds {
                return "The run stopped after \(limits.activeMilliseconds / 1000) seconds of work, its time limit."
            }
            if cost >= limits.cost { return "The run stopped when its model calls had cost \(cost), its budget being \(limits.cost)." }
            return nil
        }
    }

    /// The side-effecting call waiting for a decision, if any.
    public var awaitingStep: AgentStep? { steps.first { $0.state == .awaitingApproval } }
}

/// One step of a run: a model call, or one tool call the model asked for.
public struct AgentStep: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case model
        case tool
    }

    public enum State: String, Sendable, CaseIterable, Codable {
        /// Done; its output is final.
        case completed
        /// A read-only tool call not yet made.
        case pending
        /// A side-effecting tool call waiting for a person.
        case awaitingApproval = "awaiting_approval"
        /// Approved; the effect is made next, exactly once.
        case approved
        /// A person said no; the model is told so.
        case rejected
        /// Not made: a tool outside the run's set, or arguments that do not hold.
        case refused
        /// Made, and failed; the model is told why.
        case failed

        /// Whether the step needs nothing more before the model is called again.
        public var isSettled: Bool { self != .pending && self != .approved && self != .awaitingApproval }
    }

    /// From 1.
    public let position: Int
    public let kind: Kind
    public let state: State
    /// For a model step: the text it wrote, if any. For a tool step: the result the model reads.
    public fileprivate(set) var output: String?
    /// For a tool step: the tool as the model named it (it may name one that does not exist).
    public let tool: String?
    /// For a tool step: the model's id for the call, which its result answers.
    public let callID: String?
    /// For a tool step: the arguments as JSON text, as the model wrote them.
    public let arguments: String?
    /// For a side-effecting call: the key its effect is recorded under, which makes it happen once.
    public let idempotencyKey: String?
    /// Who approved or rejected the call.
    public let decidedBy: String?
    /// For a model step: the call, with its tokens and cost.
    public let model: AnswerTrace.ModelCall?
    /// Guardrail decisions about this step: injection flags on what a tool returned, refusals.
    public let guardrails: [AnswerTrace.GuardrailDecision]
    public let createdAt: Date
    public let updatedAt: Date

    public init(
        position: Int,
        kind: Kind,
        state: State,
        output: String?,
        tool: String?,
        callID: String?,
        arguments: String?,
        idempotencyKey: String?,
        decidedBy: String?,
        model: AnswerTrace.ModelCall?,
        guardrails: [AnswerTrace.GuardrailDecision],
        createdAt: Date,
        updatedAt: Date
    ) {
        self.position = position
        self.kind = kind
        self.state = state
        self.output = output
        self.tool = tool
        self.callID = callID
        self.arguments = arguments
        self.idempotencyKey = idempotencyKey
        self.decidedBy = decidedBy
        self.model = model
        self.guardrails = guardrails
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension AgentRun {
    /// The run as someone other than its starter reads it (a manager deciding an approval):
    /// what tools returned and what the model wrote are left out, since they quote documents
    /// the reader may not be cleared for. The goal, every call with its arguments, the states,
    /// deciders and guardrail decisions stay.
    public var withoutContent: AgentRun {
        var run = self
        run.outcome = nil
        for index in run.steps.indices { run.steps[index].output = nil }
        return run
    }
}
