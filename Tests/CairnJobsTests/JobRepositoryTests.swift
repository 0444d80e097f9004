import CairnCore
import CairnJobs
import CairnStore
import CairnTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Job queue")
struct JobRepositoryTests {
    let lease = Duration.seconds(30)

    @Test("Enqueueing with an idempotency key twice creates one job", arguments: TestEngine.all)
    func idempotentEnqueue(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let first = try await store.jobs.enqueue(.init(kind: "document.ingest", payload: #"{"doc":1}"#, idempotencyKey: "upload-1"), by: admin)
            let second = try await store.jobs.enqueue(.init(kind: "document.ingest", payload: #"{"doc":2}"#, idempotencyKey: "upload-1"), by: admin)
            #expect(first.created && !second.created)
            #expect(second.job == first.job)
            let other = try await store.jobs.enqueue(.init(kind: "document.purge", idempotencyKey: "upload-1"), by: admin)
            #expect(other.created, "the key is scoped to the kind")
            #expect(try await store.jobs.list(for: admin).items.count == 2)
            await #expect(throws: CairnError.self) { try await store.jobs.enqueue(.init(kind: "x", payload: "{not json"), by: admin) }
            await #expect(throws: CairnError.self) { try await store.jobs.enqueue(.init(kind: "x", maxAttempts: 0), by: admin) }
            await #expect(throws: CairnError.self) { try await store.jobs.enqueue(.init(kind: "bad\u{0}kind"), by: admin) }
            #expect(try await store.jobs.list(for: admin).items.count == 2)
        }
    }

    @Test("Concurrent enqueues with one key create exactly one job", arguments: TestEngine.all)
    func concurrentIdempotency(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let results = try await withThrowingTaskGroup(of: (job: Job, created: Bool).self) { group in
                for _ in 0..<10 {
                    group.addTask { try await store.jobs.enqueue(.init(kind: "document.ingest", idempotencyKey: "same"), by: admin) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter(\.created).count == 1)
            #expect(Set(results.map(\.job.id)).count == 1)
        }
    }

    @Test("Concurrent enqueues past a tenant's cap admit exactly the cap and refuse the rest with a retry delay", arguments: TestEngine.all)
    func concurrentCap(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await store.jobs.enqueue(.init(kind: "bulk"), by: admin, tenantQueueCap: 5)
                            return true
                        } catch let error as CairnError where error.code == .overloaded {
                            #expect(error.retryAfter != nil)
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 5)
            #expect(try await store.jobs.list(for: admin).items.count == 5)
        }
    }

    @Test(
        "A retryable failure backs off, then the job ends dead after max_attempts with every error kept; a replay succeeds",
        arguments: TestEngine.all
    )
    func retriesDeadAndReplay(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let start = Date()
            let job = try await store.jobs.enqueue(.init(kind: "flaky", maxAttempts: 3), by: admin, now: start).job
            var now = start
            for attempt in 1...3 {
                let claimed = try #require(try await store.jobs.claim(worker: "w1", leaseFor: lease, perTenantCap: 4, now: now))
                #expect(claimed.id == job.id && claimed.attempt == attempt && claimed.state == .running)
                let outcome = try await store.jobs.fail(
                    job.id,
                    worker: "w1",
                    message: "upstream 503 (\(attempt))",
                    retryable: true,
                    jitter: 0.5,
                    now: now
                )
                #expect(outcome == (attempt < 3 ? .failed : .dead))
                let failed = try await store.jobs.get(job.id, for: admin)
                if attempt < 3 {
                    #expect(failed.state == .failed)
                    // Full jitter at 0.5 of a 1 s · 2^(n−1) ceiling.
                    #expect(abs(failed.runAt.timeIntervalSince(now) - 0.5 * pow(2, Double(attempt - 1))) < 0.01)
                    #expect(try await store.jobs.claim(worker: "w1", leaseFor: lease, perTenantCap: 4, now: now) == nil, "not before its backoff")
                    now = failed.runAt
                }
            }
            let dead = try await store.jobs.get(job.id, for: admin)
            #expect(dead.state == .dead)
            #expect(dead.errors.map(\.message) == ["upstream 503 (1)", "upstream 503 (2)", "upstream 503 (3)"])
            #expect(dead.errors.map(\.attempt) == [1, 2, 3])

            let replayed = try await store.jobs.replay(job.id, by: admin, now: now)
            #expect(replayed.state == .queued && replayed.attempt == 0 && replayed.errors.count == 3)
            let again = try #require(try await store.jobs.claim(worker: "w2", leaseFor: lease, perTenantCap: 4, now: now))
            #expect(try await store.jobs.complete([.init(id: again.id, result: #"{"ok":true}"#)], worker: "w2", now: now) == [again.id])
            let done = try await store.jobs.get(job.id, for: admin)
            #expect(done.state == .succeeded && done.result == #"{"ok":true}"# && done.progress == 1)
            let actions = try await store.audit.page(for: admin, filter: .init(action: "job.replay"), before: nil, limit: 10).events
            #expect(actions.count == 1)
        }
    }

    @Test("A non-retryable error goes straight to dead", arguments: TestEngine.all)
    func nonRetryable(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let job = try await store.jobs.enqueue(.init(kind: "parse", maxAttempts: 5), by: admin).job
            _ = try #require(try await store.jobs.claim(worker: "w1", leaseFor: lease, perTenantCap: 4))
            #expect(try await store.jobs.fail(job.id, worker: "w1", message: "the PDF is encrypted", retryable: false) == .dead)
            let dead = try await store.jobs.get(job.id, for: admin)
            #expect(dead.state == .dead && dead.errors.count == 1 && dead.errors[0].retryable == false)
        }
    }

    @Test("An expired lease is reaped back to the queue, and the old worker can no longer write", arguments: TestEngine.all)
    func leases(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let start = Date()
            let job = try await store.jobs.enqueue(.init(kind: "long"), by: admin, now: start).job
            _ = try #require(try await store.jobs.claim(worker: "w1", leaseFor: .seconds(10), perTenantCap: 4, now: start))
            #expect(
                try await store.jobs.heartbeat(
                    job.id,
                    worker: "w1",
                    leaseFor: .seconds(10),
                    progress: 0.4,
                    message: "page 40/100",
                    now: start.addingTimeInterval(5)
                ) == .held(cancelRequested: false)
            )
            #expect(try await store.jobs.reapExpiredLeases(now: start.addingTimeInterval(14)) == 0, "the heartbeat extended the lease")
            #expect(try await store.jobs.reapExpiredLeases(now: start.addingTimeInterval(16)) == 1)
            let requeued = try await store.jobs.get(job.id, for: admin)
            #expect(
                requeued.state == .queued && requeued.leaseOwner == nil && requeued.errors.count == 1 && requeued.progressMessage == "page 40/100"
            )
            #expect(try await store.jobs.heartbeat(job.id, worker: "w1", leaseFor: .seconds(10), now: start.addingTimeInterval(17)) == .lost)
            #expect(try await store.jobs.complete([.init(id: job.id)], worker: "w1", now: start.addingTimeInterval(17)).isEmpty)
            let second = try #require(
                try await store.jobs.claim(worker: "w2", leaseFor: .seconds(10), perTenantCap: 4, now: start.addingTimeInterval(17))
            )
            #expect(second.attempt == 2)
        }
    }

    @Test("Fairness: with 1,000 jobs queued by one tenant, another tenant's single job is claimed within the first slots", arguments: TestEngine.all)
    func fairness(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let busy = try await makeTenant(store, "northbank")
            let quiet = try await makeTenant(store, "southbank")
            let start = Date()
            for index in 0..<1_000 {
                _ = try await store.jobs.enqueue(.init(kind: "bulk", payload: #"{"n":\#(index)}"#), by: busy, now: start)
            }
            let single = try await store.jobs.enqueue(.init(kind: "urgent"), by: quiet, now: start.addingTimeInterval(1)).job
            var claimedTenants: [TenantID] = []
            for slot in 0..<4 {
                let job = try #require(
                    try await store.jobs.claim(worker: "w\(slot)", leaseFor: lease, perTenantCap: 3, now: start.addingTimeInterval(2))
                )
                claimedTenants.append(job.tenantID)
                if job.id == single.id { break }
            }
            #expect(claimedTenants.contains(quiet.tenantID))
            #expect(claimedTenants.count <= 2, "the quiet tenant's job should start by the second claim, not after the busy tenant's backlog")
        }
    }

    @Test("A tenant at its running cap yields every slot to others", arguments: TestEngine.all)
    func perTenantCap(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let busy = try await makeTenant(store, "northbank")
            for _ in 0..<5 { _ = try await store.jobs.enqueue(.init(kind: "bulk"), by: busy) }
            for slot in 0..<2 { _ = try #require(try await store.jobs.claim(worker: "w\(slot)", leaseFor: lease, perTenantCap: 2)) }
            #expect(try await store.jobs.claim(worker: "w2", leaseFor: lease, perTenantCap: 2) == nil)
        }
    }

    @Test("Cancellation is immediate for a waiting job and cooperative for a running one", arguments: TestEngine.all)
    func cancellation(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let waiting = try await store.jobs.enqueue(.init(kind: "a", runAt: Date().addingTimeInterval(3600)), by: admin).job
            #expect(try await store.jobs.requestCancellation(waiting.id, by: admin).state == .cancelled)

            let running = try await store.jobs.enqueue(.init(kind: "b"), by: admin).job
            _ = try #require(try await store.jobs.claim(worker: "w1", leaseFor: lease, perTenantCap: 4))
            let requested = try await store.jobs.requestCancellation(running.id, by: admin)
            #expect(requested.state == .running && requested.cancelRequested)
            #expect(try await store.jobs.heartbeat(running.id, worker: "w1", leaseFor: lease) == .held(cancelRequested: true))
            #expect(try await store.jobs.acknowledgeCancellation(running.id, worker: "w1"))
            #expect(try await store.jobs.get(running.id, for: admin).state == .cancelled)

            await #expect { try await store.jobs.requestCancellation(running.id, by: admin) } throws: { ($0 as? CairnError)?.code == .conflict }
        }
    }

    @Test("Another tenant's job is not found, and never listed", arguments: TestEngine.all)
    func tenancy(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            let job = try await store.jobs.enqueue(.init(kind: "a"), by: northbank).job
            let isNotFound: @Sendable (any Error) -> Bool = { ($0 as? CairnError)?.code == .notFound }
            await #expect(performing: { try await store.jobs.get(job.id, for: southbank) }, throws: isNotFound)
            await #expect(performing: { try await store.jobs.requestCancellation(job.id, by: southbank) }, throws: isNotFound)
            await #expect(performing: { try await store.jobs.replay(job.id, by: southbank) }, throws: isNotFound)
            #expect(try await store.jobs.list(for: southbank).items.isEmpty)
            #expect(try await store.jobs.list(for: northbank, state: .queued, kind: "a").items.map(\.id) == [job.id])
        }
    }

    @Test("Concurrent workers never claim the same job, claiming and completing in batches on their own sessions", arguments: TestEngine.all)
    func concurrentClaims(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            _ = try await store.jobs.enqueueBatch((0..<60).map { _ in .init(kind: "bulk") }, by: admin)
            let claimed = try await withThrowingTaskGroup(of: [JobID].self) { group in
                for worker in 0..<6 {
                    group.addTask {
                        try await store.database.withPlatformSession { session in
                            var mine: [JobID] = []
                            while case let jobs = try await store.jobs.claim(
                                worker: "w\(worker)",
                                limit: 4,
                                leaseFor: .seconds(30),
                                perTenantCap: 1_000,
                                via: session
                            ),
                                !jobs.isEmpty
                            {
                                mine += jobs.map(\.id)
                                let done = jobs.map { JobRepository.Completion(id: $0.id, result: #"{"worker":\#(worker)}"#) }
                                #expect(try await store.jobs.complete(done, worker: "w\(worker)", via: session) == Set(jobs.map(\.id)))
                            }
                            return mine
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == 60)
            #expect(Set(claimed).count == 60)
            let succeeded = try await store.jobs.list(for: admin, state: .succeeded, limit: 100).items
            #expect(succeeded.count == 60 && succeeded.allSatisfy { $0.result?.hasPrefix(#"{"worker":"#) == true })
        }
    }

    @Test("A batch completion records only the jobs whose lease the worker still holds", arguments: TestEngine.all)
    func batchCompletionChecksLeases(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            let start = Date()
            _ = try await store.jobs.enqueueBatch([.init(kind: "a"), .init(kind: "b")], by: admin, now: start)
            let jobs = try await store.jobs.claim(worker: "w1", limit: 2, leaseFor: .seconds(10), perTenantCap: 4, now: start)
            #expect(jobs.count == 2)
            // The first job's lease is taken over by another worker after a reap.
            _ = try await store.jobs.heartbeat(jobs[1].id, worker: "w1", leaseFor: .seconds(60), now: start)
            #expect(try await store.jobs.reapExpiredLeases(now: start.addingTimeInterval(11)) == 1)
            let retaken = try #require(
                try await store.jobs.claim(worker: "w2", leaseFor: .seconds(10), perTenantCap: 4, now: start.addingTimeInterval(11))
            )
            #expect(retaken.id == jobs[0].id)
            let recorded = try await store.jobs.complete(jobs.map { .init(id: $0.id) }, worker: "w1", now: start.addingTimeInterval(12))
            #expect(recorded == [jobs[1].id])
            #expect(try await store.jobs.get(jobs[0].id, for: admin).state == .running)
            #expect(try await store.jobs.get(jobs[1].id, for: admin).state == .succeeded)
        }
    }
}
