import CairnCore
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Jobs over HTTP")
struct JobsAPITests {
    @Test("Jobs are listed, read, cancelled and retried by their tenant only, with the right permissions", arguments: TestEngine.all)
    func lifecycle(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, fixture in
            let northbank = try #require(try await fixture.store.tenants.find(name: TenantName("northbank")))
            let admin = Principal.localAdministrator(of: northbank)
            let later = try await fixture.store.jobs.enqueue(
                .init(kind: "document.ingest", payload: #"{"document":"policy-7"}"#, runAt: Date().addingTimeInterval(3600)), by: admin
            ).job
            _ = try await fixture.store.jobs.enqueue(.init(kind: "audit.verify"), by: admin)

            let list = try await client.send(.get, "/v1/jobs?kind=document.ingest", token: fixture.northbankAdmin)
            #expect(list.status == .ok)
            let jobs = try #require(list.json["jobs"] as? [[String: Any]])
            #expect(jobs.map { $0["id"] as? String } == [later.id.description])
            #expect((jobs.first?["payload"] as? [String: Any])?["document"] as? String == "policy-7")
            #expect(((try await client.send(.get, "/v1/jobs?state=queued", token: fixture.northbankAdmin)).json["jobs"] as? [Any])?.count == 2)

            let one = try await client.send(.get, "/v1/jobs/\(later.id)", token: fixture.northbankAdmin)
            #expect(one.json["state"] as? String == "queued")
            #expect((one.json["progress"] as? [String: Any])?["fraction"] as? Double == 0)

            try await client.send(.get, "/v1/jobs", token: fixture.northbankViewer).expectProblem(.forbidden)
            try await client.send(.get, "/v1/jobs/\(later.id)", token: fixture.southbankAdmin).expectProblem(.notFound)
            try await client.send(.post, "/v1/jobs/\(later.id)/cancel", token: fixture.southbankAdmin).expectProblem(.notFound)
            try await client.send(.get, "/v1/jobs/not-a-job", token: fixture.northbankAdmin).expectProblem(.notFound)
            // An unknown value in the query string is malformed input for the runtime: 400.
            try await client.send(.get, "/v1/jobs?state=exploded", token: fixture.northbankAdmin).expectProblem(.badRequest)

            let cancelled = try await client.send(.post, "/v1/jobs/\(later.id)/cancel", token: fixture.northbankAdmin)
            #expect(cancelled.json["state"] as? String == "cancelled")
            try await client.send(.post, "/v1/jobs/\(later.id)/cancel", token: fixture.northbankAdmin).expectProblem(.conflict)
            let retried = try await client.send(.post, "/v1/jobs/\(later.id)/retry", token: fixture.northbankAdmin)
            #expect(retried.json["state"] as? String == "queued")
            try await client.send(.post, "/v1/jobs/\(later.id)/retry", token: fixture.northbankAdmin).expectProblem(.conflict)

            let audit = try await client.send(.get, "/v1/audit?action=job.cancel", token: fixture.northbankAdmin)
            #expect((audit.json["events"] as? [[String: Any]])?.first?["actor"] as? String == "api_key:northbank-admin")
        }
    }
}
