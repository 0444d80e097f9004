import CairnAPI
import CairnAssistant
import CairnCore
import CairnJobs
import CairnMockLLM
import CairnStore
import CairnTestSupport
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Agent runs in `cairn serve`, with the model behind the gateway being the `mock` provider on
/// loopback: a run waiting for approval survives a SIGKILL, and its side effect happens once.
@Suite("Agent runs across processes", .serialized)
struct AgentProcessTests {
    let home = CairnProcess.temporaryHome()

    @Test(
        "Killed while a run waits for approval, restarted, approved: the run completes and its side effect was made exactly once",
        .timeLimit(.minutes(10)),
        arguments: TestEngine.all
    )
    func approvalSurvivesKill(engine: TestEngine) async throws {
        try await withCLIDatabase(engine, home: home) { environment, store in
            let script = MockScript(requiredAPIKey: "mock-upstream-key")
            try await MockModelServer.withRunning(script: script) { mock in
                let catalogPath = home + "/catalog.json"
                try GatewayProcessTests.catalog(mockURL: mock.baseURL).write(toFile: catalogPath, atomically: true, encoding: .utf8)
                let admin = try await bootstrapTenant(home: home, environment: environment)
                let settings = environment.merging(DocumentProcessTests.jobSettings) { _, new in new }.merging([
                    "CAIRN_GATEWAY_CATALOG": catalogPath, "CAIRN_TEST_MOCK_KEY": "mock-upstream-key", "CAIRN_ASSISTANT_MODEL": "chat",
                ]) { _, new in new }
                let server = try await CairnProcess(serveWith: settings)
                let api = DocumentAPIClient(port: server.port)
                try await api.createCollection("policies", token: admin)
                let document = try await api.uploadServing(
                    "# Records Retention\n\n2.1 Customer account records are retained for 7 years after the relationship ends.\n",
                    named: "retention.md",
                    classification: "internal",
                    token: admin
                )

                let proposal = #"{"document_id":"\#(document)","reason":"The retention period may be out of date."}"#
                script.enqueue(.toolCall(name: "propose_document_review", arguments: proposal), model: "mock-model")
                let created = try await api.send(
                    .POST,
                    "/v1/runs",
                    token: admin,
                    json: ["goal": "Propose a review of the retention policy.", "tools": ["propose_document_review"]]
                )
                #expect(created.status == 202, "\(created)")
                let id = try created.decode(Components.Schemas.Run.self).id
                try await eventually("the run to wait for approval", timeout: .seconds(60)) {
                    try await api.send(.GET, "/v1/runs/\(id)", token: admin).decode(Components.Schemas.Run.self).state == .awaitingApproval
                }
                server.signal(SIGKILL)
                _ = try await server.waitForExit()
                // The killed process's leases lapse now rather than after the default 30 s, as a
                // reaper would find them (a lease short enough to lapse by itself could also lapse
                // under load while a job is still calling the model).
                _ = try await store.jobs.reapExpiredLeases(now: Date() + 300)

                // Restarted under four-eyes approval: the starter may no longer approve their own
                // run's call; the operator at the CLI is someone else.
                let restarted = try await CairnProcess(serveWith: settings.merging(["CAIRN_AGENT_FOUR_EYES": "true"]) { _, new in new })
                defer { restarted.stop() }
                let restartedAPI = DocumentAPIClient(port: restarted.port)
                let selfApproval = try await restartedAPI.send(.POST, "/v1/runs/\(id)/approve", token: admin, json: ["step": 2]).expectProblem(403)
                #expect(selfApproval.contains("Four-eyes approval is on"), "\(selfApproval)")
                script.enqueue(.reply("The review is proposed."), model: "mock-model")
                let wrongStep = try await CairnProcess.run(["runs", "approve", id, "--step", "3"], environment: environment)
                #expect(wrongStep.status == 1 && wrongStep.stderr.contains("waits on step 2, not step 3"), "\(wrongStep.stderr)")
                let approve = try await CairnProcess.run(["runs", "approve", id, "--step", "2"], environment: environment)
                #expect(approve.status == 0 && approve.stdout.contains("Approved"), "\(approve.stderr)")
                let finished = try await eventually("the run to complete", timeout: .seconds(60)) {
                    let run = try await restartedAPI.send(.GET, "/v1/runs/\(id)", token: admin).decode(Components.Schemas.Run.self)
                    return run.state == .completed ? run : nil
                }
                #expect(finished.outcome == "The review is proposed.")
                #expect(finished.steps.map(\.state) == [.completed, .completed, .completed], "\(finished.steps.map(\.state))")
                #expect(finished.steps[1].decidedBy == "cli" && finished.steps[1].idempotencyKey == "agent-run:\(id):step-2")

                let tenant = try #require(try await store.tenants.find(name: TenantName("northbank")))
                let proposals = try await store.agentRuns.proposals(for: .localAdministrator(of: tenant)).items
                #expect(proposals.count == 1 && proposals.first?.documentID.description == document, "the approved effect was made exactly once")
                #expect(script.requestCount(model: "mock-model") == 2, "one model call before the kill, one after the approval")

                // Deciding again is a conflict; the CLI shows the whole run.
                let manager = try await restartedAPI.createKey(named: "manager", roles: [.admin], token: admin)
                let again = try await restartedAPI.send(.POST, "/v1/runs/\(id)/approve", token: manager, json: ["step": 2])
                #expect(again.status == 409, "\(again)")
                let show = try await CairnProcess.run(["runs", "show", id], environment: environment)
                #expect(show.stdout.contains("step 2 tool propose_document_review") && show.stdout.contains(": completed by cli"), "\(show.stdout)")
                let list = try await CairnProcess.run(["runs", "list", "--tenant", "northbank", "--state", "completed"], environment: environment)
                #expect(list.stdout.contains(id), "\(list.stdout)")
                let proposed = try await CairnProcess.run(["runs", "proposals", "--tenant", "northbank"], environment: environment)
                #expect(proposed.stdout.contains("document \(document)") && proposed.stdout.contains("approved by cli"), "\(proposed.stdout)")
                // The curators' queue over HTTP; an analyst is not one to act on it.
                let queue = try await restartedAPI.send(.GET, "/v1/review-proposals", token: admin).decode(Components.Schemas.ReviewProposalList.self)
                #expect(queue.proposals.map(\.documentId) == [document] && queue.proposals.first?.idempotencyKey == "agent-run:\(id):step-2")
                let analyst = try await restartedAPI.createKey(named: "analyst", roles: [.analyst], token: admin)
                try await restartedAPI.send(.GET, "/v1/review-proposals", token: analyst).expectProblem(403)
                try await restartedAPI.send(.GET, "/v1/review-proposals?cursor=not-a-cursor!", token: admin).expectProblem(422)

                // Rejected over HTTP: the model is told, and nothing more is proposed.
                script.enqueue(.toolCall(name: "propose_document_review", arguments: proposal), model: "mock-model")
                let second = try await restartedAPI.send(.POST, "/v1/runs", token: admin, json: ["goal": "Propose it again."]).decode(
                    Components.Schemas.Run.self
                )
                try await eventually("the second run to wait", timeout: .seconds(60)) {
                    try await restartedAPI.send(.GET, "/v1/runs/\(second.id)", token: admin).decode(Components.Schemas.Run.self).state
                        == .awaitingApproval
                }
                script.enqueue(.reply("Not proposed."), model: "mock-model")
                let rejected = try await restartedAPI.send(
                    .POST,
                    "/v1/runs/\(second.id)/reject",
                    token: admin,
                    json: ["reason": "Already under review."]
                )
                #expect(rejected.status == 200, "\(rejected)")
                let ended = try await eventually("the second run to complete", timeout: .seconds(60)) {
                    let run = try await restartedAPI.send(.GET, "/v1/runs/\(second.id)", token: admin).decode(Components.Schemas.Run.self)
                    return run.state == .completed ? run : nil
                }
                #expect(ended.steps[1].state == .rejected)
                #expect(try await store.agentRuns.proposals(for: .localAdministrator(of: tenant)).items.count == 1)
                try await restartedAPI.expectHealthy()
            }
        }
    }
}
