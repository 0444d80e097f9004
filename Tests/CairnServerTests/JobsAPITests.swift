import CairnCore
import CairnJobs
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@Suite("Jobs over HTTP")
struct JobsAPITests {
    @Test("Jobs are listed, read, cancelled and retried by their tenant only, with the right permissions", arguments: TestEngine.all)
    func lifecycle(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, fixture in
            let northbank = try #require(try await fixture.store.tenants.find(name: TenantName("northbank")))
            let admin = Principal.localAdministrator(of: northbank)
            let later = try await fixture.store.jobs.enqueue(
                .init(kind: "document.ingest", payload: #"{"document":"policy-7"}"#, runAt: Date().addingTimeInterval(3600)),
                by: admin
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
            let unknownState = try await client.send(.get, "/v1/jobs?state=exploded", token: fixture.northbankAdmin).expectProblem(.badRequest)
            #expect((unknownState["detail"] as? String)?.contains("query parameter") == true, "\(unknownState)")

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

    @Test(
        "POST /v1/jobs queues submittable kinds; past the tenant's cap it answers 429 with Retry-After and writes nothing; other tenants are unaffected",
        arguments: TestEngine.all
    )
    func submitAndBackpressure(engine: TestEngine) async throws {
        try await withTestApp(engine, queueLimits: QueueLimits(perTenant: 3, total: 100)) { client, fixture in
            for index in 1...3 {
                let created = try await client.send(
                    .post,
                    "/v1/jobs",
                    token: fixture.northbankAdmin,
                    json: #"{"kind":"probe.effect","payload":{"key":"k\#(index)"}}"#
                )
                #expect(created.status == .created, "\(String(buffer: created.body))")
                #expect(created.json["state"] as? String == "queued")
                #expect(created.json["maxAttempts"] as? Int == 5, "the kind's default")
            }
            let refused = try await client.send(
                .post,
                "/v1/jobs",
                token: fixture.northbankAdmin,
                json: #"{"kind":"probe.effect","payload":{"key":"k4"}}"#
            )
            let problem = refused.expectProblem(.tooManyRequests)
            #expect(refused.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
            #expect((problem["detail"] as? String)?.contains("full") == true)
            let listed = try await client.send(.get, "/v1/jobs", token: fixture.northbankAdmin)
            #expect((listed.json["jobs"] as? [Any])?.count == 3, "the refused job left nothing behind")

            let other = try await client.send(
                .post,
                "/v1/jobs",
                token: fixture.southbankAdmin,
                json: #"{"kind":"probe.effect","payload":{"key":"k1"}}"#
            )
            #expect(other.status == .created)

            // The body's idempotencyKey dedupes jobs of one kind: the existing job comes back with 200.
            let keyed = #"{"kind":"probe.effect","payload":{"key":"s"},"idempotencyKey":"upload-9"}"#
            let first = try await client.send(.post, "/v1/jobs", token: fixture.southbankAdmin, json: keyed)
            let again = try await client.send(.post, "/v1/jobs", token: fixture.southbankAdmin, json: keyed)
            #expect(first.status == .created && again.status == .ok)
            #expect(first.json["id"] as? String == again.json["id"] as? String)

            try await client.send(.post, "/v1/jobs", token: fixture.southbankAdmin, json: #"{"kind":"document.purge","payload":{}}"#).expectProblem(
                .unprocessableContent
            )
            try await client.send(.post, "/v1/jobs", token: fixture.southbankAdmin, json: #"{"kind":"probe.effect","payload":[1]}"#).expectProblem(
                .unprocessableContent
            )
            try await client.send(.post, "/v1/jobs", token: fixture.southbankAdmin, json: #"{"kind":"probe.effect","payload":{},"maxAttempts":0}"#)
                .expectProblem(.unprocessableContent)
            try await client.send(.post, "/v1/jobs", token: fixture.northbankViewer, json: #"{"kind":"probe.effect","payload":{}}"#).expectProblem(
                .forbidden
            )
        }
    }

    @Test(
        "Idempotency-Key: a replay returns the identical response, a different body answers 422, and 10 concurrent requests create one resource",
        arguments: TestEngine.all
    )
    func idempotencyKeys(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, fixture in
            let body = #"{"name":"ingest-bot","roles":["service"]}"#
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "mint-1"]
            let first = try await client.send(.post, "/v1/api-keys", token: fixture.northbankAdmin, json: body, headers: key)
            #expect(first.status == .created)
            let replay = try await client.send(.post, "/v1/api-keys", token: fixture.northbankAdmin, json: body, headers: key)
            #expect(replay.status == .created)
            #expect(replay.body == first.body, "the very same bytes, secret included")
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            let keys = try await client.send(.get, "/v1/api-keys", token: fixture.northbankAdmin)
            #expect((keys.json["keys"] as? [[String: Any]])?.filter { $0["name"] as? String == "ingest-bot" }.count == 1)

            let conflicting = try await client.send(
                .post,
                "/v1/api-keys",
                token: fixture.northbankAdmin,
                json: #"{"name":"other-bot","roles":["service"]}"#,
                headers: key
            )
            #expect(conflicting.expectProblem(.unprocessableContent)["type"] as? String == "urn:cairn:problem:idempotency-key-reused")
            // Keys are the tenant's: the same key elsewhere is a new request.
            let elsewhere = try await client.send(.post, "/v1/api-keys", token: fixture.southbankAdmin, json: body, headers: key)
            #expect(elsewhere.status == .created)
            try await client.send(
                .post,
                "/v1/api-keys",
                token: fixture.northbankAdmin,
                json: body,
                headers: [HTTPField.Name("Idempotency-Key")!: "bad key"]
            )
            .expectProblem(.badRequest)

            let job = #"{"kind":"probe.effect","payload":{"key":"once"}}"#
            let concurrent: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "burst-1"]
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await client.send(.post, "/v1/jobs", token: fixture.northbankAdmin, json: job, headers: concurrent) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.allSatisfy { $0.status == .created }, "\(responses.map(\.status))")
            #expect(Set(responses.map { $0.json["id"] as? String }).count == 1, "every response names the one job")
            let jobs = try await client.send(.get, "/v1/jobs", token: fixture.northbankAdmin)
            #expect((jobs.json["jobs"] as? [Any])?.count == 1, "exactly one job was created")

            // The operator's keys live in the platform scope.
            let tenantKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "tenant-1"]
            let tenant = try await client.send(.post, "/v1/tenants", token: fixture.operatorToken, json: #"{"name":"eastbank"}"#, headers: tenantKey)
            let tenantAgain = try await client.send(
                .post,
                "/v1/tenants",
                token: fixture.operatorToken,
                json: #"{"name":"eastbank"}"#,
                headers: tenantKey
            )
            #expect(tenant.status == .created && tenantAgain.status == .created && tenant.body == tenantAgain.body)
        }
    }

    @Test("A saga failing at step 3 shows steps 2 and 1 compensated, in that order, through GET and the SSE stream", arguments: TestEngine.all)
    func sagaThroughTheAPI(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, fixture in
            let submitted = try await client.send(
                .post,
                "/v1/jobs",
                token: fixture.northbankAdmin,
                json: #"{"kind":"probe.saga","payload":{"key":"api","steps":4,"sleepMs":1000,"failAtStep":3}}"#
            )
            let id = try #require(submitted.json["id"] as? String)
            let worker = Worker(
                store: fixture.store,
                catalog: .standard,
                // Steps of 1 s keep the job running across several of the stream's 250 ms samples on a
                // loaded machine; a lease that cannot lapse keeps the attempt and its errors as scripted.
                configuration: WorkerConfiguration(concurrency: 1, lease: .seconds(120), pollInterval: .milliseconds(50)),
                logger: Logger(label: "cairn.test.worker")
            )
            let group = ServiceGroup(services: [worker], logger: Logger(label: "cairn.test"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // The stream follows the job until it finishes, then ends.
                let stream = try await client.send(.get, "/v1/jobs/\(id)/events", token: fixture.northbankAdmin)
                #expect(stream.status == .ok)
                #expect(stream.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                let events = String(buffer: stream.body).components(separatedBy: "\n\n").filter { $0.hasPrefix("event: job") }
                let states = events.compactMap { event -> String? in
                    let data = event.components(separatedBy: "\n").first { $0.hasPrefix("data: ") }?.dropFirst(6)
                    return data.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["state"] as? String
                }
                #expect(states.first == "queued" || states.first == "running")
                #expect(states.last == "dead")
                #expect(states.contains("running"))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let job = try await client.send(.get, "/v1/jobs/\(id)", token: fixture.northbankAdmin)
            let steps = try #require(job.json["steps"] as? [[String: Any]])
            #expect(steps.map { $0["state"] as? String } == ["compensated", "compensated", "failed", "pending"])
            let undone = steps.prefix(2).compactMap { $0["compensatedAt"] as? String }
            #expect(undone.count == 2 && undone[1] < undone[0], "step 2 was compensated before step 1: \(undone)")
            #expect((job.json["errors"] as? [[String: Any]])?.first?["retryable"] as? Bool == false)
            try await client.send(.get, "/v1/jobs/\(UUID())/events", token: fixture.northbankAdmin).expectProblem(.notFound)
        }
    }
}
