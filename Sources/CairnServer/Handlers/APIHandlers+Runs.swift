import CairnAPI
import CairnAssistant
import CairnCore
import CairnStore
import Foundation

extension APIHandlers {
    func createRun(_ input: Operations.CreateRun.Input) async throws -> Operations.CreateRun.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let run = try await documents.agent.start(goal: body.goal, tools: body.tools?.map(\.rawValue), by: try RequestCaller.principal())
        return .accepted(.init(body: .json(.init(run))))
    }

    func listRuns(_ input: Operations.ListRuns.Input) async throws -> Operations.ListRuns.Output {
        let query = input.query
        let page = try await documents.agent.runs(
            for: try RequestCaller.principal(),
            state: query.state.flatMap { AgentRun.State(rawValue: $0.rawValue) },
            limit: query.limit ?? 100,
            after: query.cursor
        )
        return .ok(.init(body: .json(.init(runs: page.items.map(Components.Schemas.Run.init), nextCursor: page.nextCursor))))
    }

    func getRun(_ input: Operations.GetRun.Input) async throws -> Operations.GetRun.Output {
        .ok(.init(body: .json(.init(try await documents.agent.run(try Self.runID(input.path.runId), for: try RequestCaller.principal())))))
    }

    func approveRun(_ input: Operations.ApproveRun.Input) async throws -> Operations.ApproveRun.Output {
        var step: Int?
        if case .json(let body)? = input.body { step = body.step }
        let run = try await documents.agent.decide(.approve, on: try Self.runID(input.path.runId), step: step, by: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(run))))
    }

    func rejectRun(_ input: Operations.RejectRun.Input) async throws -> Operations.RejectRun.Output {
        var step: Int?
        var reason: String?
        if case .json(let body)? = input.body { (step, reason) = (body.step, body.reason) }
        let run = try await documents.agent.decide(
            .reject(reason: reason),
            on: try Self.runID(input.path.runId),
            step: step,
            by: try RequestCaller.principal()
        )
        return .ok(.init(body: .json(.init(run))))
    }

    func listReviewProposals(_ input: Operations.ListReviewProposals.Input) async throws -> Operations.ListReviewProposals.Output {
        let page = try await documents.agent.proposals(for: try RequestCaller.principal(), limit: input.query.limit ?? 100, after: input.query.cursor)
        return .ok(.init(body: .json(.init(proposals: page.items.map(Components.Schemas.ReviewProposal.init), nextCursor: page.nextCursor))))
    }

    private static func runID(_ text: String) throws(CairnError) -> AgentRunID {
        guard let id = AgentRunID(text) else { throw CairnError(.notFound, "There is no run with id '\(text.prefix(80))'.") }
        return id
    }
}
