import CairnCore
import CairnDocuments
import CairnJobs
import CairnSearch
import CairnStore
import CairnTestSupport
import Foundation
import Synchronization
import Testing

/// A document's versions switch at once for searchers: while a new version is recorded, chunked,
/// embedded, indexed and approved, searches running all along see exactly one version — the old
/// one until the switch, the new one from the moment it committed — never a mixture, never none.
@Suite("Version switch under concurrent search")
struct VersionSwitchTests {
    /// Who searches: a viewer reads the served version; a curator searching drafts reads the
    /// newest ready draft in its place, so the two switch at different moments on the draft path.
    enum Audience: String, CaseIterable, Sendable {
        case viewer
        case curatorWithDrafts
    }

    static let query = "mortgage rate"

    /// Version `number`'s chunks: `number + 1` of them, every one matching the query in every mode.
    static func chunks(ofVersion number: Int) -> [DocumentRepository.ChunkRecord] {
        SagaRecorder.chunkRecords(
            (0...number).map { "mortgage rate schedule version\(number) part\($0) \(["fixed", "tracker", "variable", "offset"][$0 % 4]) terms" }
        )
    }

    @Test("Concurrent searches see exactly one version while the next is ingested and approved", arguments: TestEngine.all)
    func oneVersionAtATime(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let recorder = try await SagaRecorder.make(store, tenant: "northbank", pools: [])
            let service = makeSearchService(store)
            let principals: [Audience: Principal] = [
                .viewer: searcher(of: recorder.owner, roles: [.viewer]),
                .curatorWithDrafts: searcher(of: recorder.owner, roles: [.curator]),
            ]
            let (document, first) = try await recorder.ingestDocument(
                source: "mortgage-rates.txt",
                policy: DocumentAccessPolicy(),
                chunks: Self.chunks(ofVersion: 1),
                approve: true
            )
            try #require(first.lifecycle == .approved)
            let timeline = SwitchTimeline(initial: first.id, chunkCount: 2)

            try await withThrowingTaskGroup(of: Void.self) { group in
                // Two loops per audience, so catch-ups also interleave on the index actor.
                for audience in Audience.allCases {
                    for loop in 0..<2 {
                        group.addTask {
                            try await Self.searchContinuously(
                                audience,
                                loop: loop,
                                principal: principals[audience]!,
                                service: service,
                                timeline: timeline
                            )
                        }
                    }
                }
                defer { timeline.stop() }
                try await timeline.waitForSearches(3)
                for number in 2...9 {
                    // Odd rounds approve on upload (the switch is `activate`); even rounds go
                    // through a ready draft that a curator approves afterwards.
                    let approveOnUpload = number % 2 == 1
                    var version = try await recorder.uploadVersion(of: document.id, approve: approveOnUpload)
                    let chunks = Self.chunks(ofVersion: number)
                    timeline.expect(version.id, chunkCount: chunks.count)
                    try await timeline.waitForSearches(3)
                    for step in [SagaStep.pages, .chunks, .embeddings, .announce] {
                        try await Task.sleep(for: .milliseconds(5))
                        try await recorder.perform(step, on: &version, chunks: chunks)
                        try await timeline.waitForSearches(3)
                    }
                    try await Task.sleep(for: .milliseconds(5))
                    if approveOnUpload {
                        try await timeline.switching([.viewer, .curatorWithDrafts], to: version.id) {
                            try await recorder.perform(.activate, on: &version, chunks: chunks)
                        }
                        #expect(version.lifecycle == .approved)
                    } else {
                        try await timeline.switching([.curatorWithDrafts], to: version.id) {
                            try await recorder.perform(.activate, on: &version, chunks: chunks)
                        }
                        #expect(version.lifecycle == .draft)
                        try await timeline.waitForSearches(5)
                        try await timeline.switching([.viewer], to: version.id) {
                            _ = try await store.documents.approve(document.id, by: recorder.owner)
                        }
                    }
                    try await timeline.waitForSearches(5)
                }
                timeline.stop()
                try await group.waitForAll()
            }

            let outcome = timeline.outcome
            #expect(outcome.violations.isEmpty, "\(outcome.violations.count) violation(s):\n\(outcome.violations.prefix(20).joined(separator: "\n"))")
            for audience in Audience.allCases {
                #expect(outcome.finalVersion[audience] == 9, "\(audience) ended on version \(outcome.finalVersion[audience] ?? 0), not 9")
                #expect(outcome.searches[audience, default: 0] > 100, "too few searches for \(audience) to tell")
            }
        }
    }

    /// Runs searches for `audience` until told to stop, checking each against the timeline.
    static func searchContinuously(
        _ audience: Audience,
        loop: Int,
        principal: Principal,
        service: SearchService,
        timeline: SwitchTimeline
    ) async throws {
        let modes = SearchMode.allCases
        var round = loop
        while !timeline.isStopped {
            let mode = modes[round % modes.count]
            round += 1
            let started = timeline.moment(audience)
            let response = try await service.search(
                SearchService.Request(query: query, k: 10, mode: mode, includeDrafts: audience == .curatorWithDrafts),
                by: principal
            )
            timeline.record(response.hits, of: audience, mode: mode, startedAt: started)
        }
    }

    /// What the switch rests on: a replica reading a document's state from the feed reads one
    /// committed moment, so a document that serves a version at every moment is never read as
    /// serving none (which the replica would apply by dropping the document from the index).
    @Test("A replica reading the feed during approvals always finds the served version", arguments: TestEngine.all)
    func feedReadsOneMoment(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let recorder = try await SagaRecorder.make(store, tenant: "northbank", pools: [])
            let (document, _) = try await recorder.ingestDocument(
                source: "mortgage-rates.txt",
                policy: DocumentAccessPolicy(),
                chunks: Self.chunks(ofVersion: 1),
                approve: true
            )
            let reads = FeedReadLog()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        while !reads.isStopped {
                            let states = try await store.indexFeed.documents([document.id], tenant: recorder.tenant)
                            reads.record(states.first)
                        }
                    }
                }
                defer { reads.stop() }
                // Each round: a ready draft, then its approval, which retires the served version
                // and serves the draft in one transaction.
                for number in 2...31 {
                    _ = try await recorder.ingestVersion(of: document.id, chunks: Self.chunks(ofVersion: number % 9 + 1), approve: false)
                    _ = try await store.documents.approve(document.id, by: recorder.owner)
                }
                reads.stop()
                try await group.waitForAll()
            }
            let (count, unserved) = reads.summary
            #expect(count > 100, "too few feed reads overlapped the approvals")
            #expect(unserved.isEmpty, "\(unserved.count) of \(count) feed reads found the active document serving no version: \(unserved.prefix(3))")
        }
    }

    @Test("An upload of the latest version's bytes is unchanged: no version, no job", arguments: TestEngine.all)
    func unchangedUpload(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let recorder = try await SagaRecorder.make(store, tenant: "northbank", pools: [])
            let owner = recorder.owner
            let first = uniqueDigest()
            let new = DocumentRepository.NewDocument(collection: recorder.collection, source: "fees.txt")
            let ingestion = NewJob(kind: "document.ingest")
            guard
                case .queued(let document, let version1, _) = try await store.documents.upload(
                    recorder.upload(approve: true, digest: first),
                    as: new,
                    by: owner,
                    ingestion: ingestion,
                    tenantQueueCap: nil
                )
            else {
                Issue.record("the first upload was not queued")
                return
            }
            try await recorder.run(version1, chunks: SagaRecorder.chunkRecords(["fee schedule"]), from: .pages, through: .activate)
            let jobsBefore = try await store.jobs.list(for: owner).items.count

            // The same bytes again, at the same source and as a new version of the document.
            let again = try await store.documents.upload(
                recorder.upload(approve: true, digest: first),
                as: new,
                by: owner,
                ingestion: ingestion,
                tenantQueueCap: nil
            )
            guard case .unchanged(let sameDocument, let sameVersion) = again else {
                Issue.record("re-uploading the latest bytes gave \(again)")
                return
            }
            #expect(sameDocument.id == document.id && sameVersion.id == version1.id)
            let againAsVersion = try await store.documents.uploadVersion(
                recorder.upload(approve: false, digest: first),
                of: document.id,
                by: owner,
                ingestion: ingestion,
                tenantQueueCap: nil
            )
            guard case .unchanged(_, let sameVersionAgain) = againAsVersion else {
                Issue.record("re-uploading the latest bytes as a version gave \(againAsVersion)")
                return
            }
            #expect(sameVersionAgain.id == version1.id)
            #expect(try await store.documents.detail(document.id, for: owner).1.map(\.number) == [1])
            #expect(try await store.jobs.list(for: owner).items.count == jobsBefore)

            // Only the latest version counts: other bytes make version 2, the first bytes again version 3.
            let second = try await recorder.uploadVersion(of: document.id, approve: false, digest: uniqueDigest())
            let third = try await recorder.uploadVersion(of: document.id, approve: false, digest: first)
            #expect(second.number == 2 && third.number == 3)
            #expect(try await store.documents.detail(document.id, for: owner).1.map(\.number) == [3, 2, 1])
            #expect(try await store.jobs.list(for: owner).items.count == jobsBefore + 2)
        }
    }
}

/// What each audience may see over time, and what the search loops saw.
///
/// A switch for an audience is bracketed by `switching`: a search may see the new version only
/// if it ended after the switch began, and must see it (and only it) if it started after the
/// switch returned — a search sees every change committed before it began.
final class SwitchTimeline: Sendable {
    typealias Audience = VersionSwitchTests.Audience

    struct Moment: Sendable {
        let generation: Int
        /// The audiences whose switch was under way.
        let switching: [Audience]
    }

    struct Outcome: Sendable {
        var violations: [String] = []
        var searches: [Audience: Int] = [:]
        /// Per audience: the version number of the last search's hits.
        var finalVersion: [Audience: Int] = [:]
    }

    private struct State {
        /// Per audience, the version visible at each generation.
        var versions: [Audience: [DocumentVersionID]]
        var pending: [Audience: DocumentVersionID] = [:]
        var chunkCounts: [DocumentVersionID: Int]
        var searches: [Audience: Int] = [:]
        var outcome = Outcome()
        var stopped = false
    }

    private let state: Mutex<State>

    init(initial: DocumentVersionID, chunkCount: Int) {
        state = Mutex(
            State(versions: Dictionary(uniqueKeysWithValues: Audience.allCases.map { ($0, [initial]) }), chunkCounts: [initial: chunkCount])
        )
    }

    var isStopped: Bool { state.withLock { $0.stopped } }
    var outcome: Outcome { state.withLock { $0.outcome } }

    func stop() { state.withLock { $0.stopped = true } }

    func expect(_ version: DocumentVersionID, chunkCount: Int) { state.withLock { $0.chunkCounts[version] = chunkCount } }

    func moment(_ audience: Audience) -> Moment {
        state.withLock { state in
            Moment(generation: state.versions[audience]!.count - 1, switching: Audience.allCases.filter { state.pending[$0] != nil })
        }
    }

    /// Runs `change`, the commit that makes `version` what `audiences` see.
    func switching(_ audiences: [Audience], to version: DocumentVersionID, _ change: () async throws -> Void) async throws {
        state.withLock { state in for audience in audiences { state.pending[audience] = version } }
        try await change()
        state.withLock { state in
            for audience in audiences {
                state.pending[audience] = nil
                state.versions[audience]!.append(version)
            }
        }
    }

    /// Checks one search's hits against what could have been visible between its start and now.
    func record(_ hits: [SearchService.Hit], of audience: Audience, mode: SearchMode, startedAt start: Moment) {
        state.withLock { state in
            let versions = state.versions[audience]!
            var allowed = Array(versions[start.generation...])
            if let pending = state.pending[audience] { allowed.append(pending) }
            let seen = Set(hits.map(\.versionID))
            let switches = { (audiences: [Audience]) in
                audiences.isEmpty ? "no switch" : "the \(audiences.map(\.rawValue).joined(separator: " and ")) switch"
            }
            let ending = Audience.allCases.filter { state.pending[$0] != nil }
            let search =
                "\(audience) \(mode) search #\(state.searches[audience, default: 0]) (started at generation \(start.generation) during \(switches(start.switching)), ended during \(switches(ending)))"
            if hits.isEmpty {
                state.outcome.violations.append("\(search): no hits, though every version matches the query")
            } else if seen.count > 1 {
                state.outcome.violations.append("\(search): hits mix versions \(Set(hits.map(\.versionNumber)).sorted())")
            } else if let version = seen.first {
                if !allowed.contains(version) {
                    let number = hits[0].versionNumber
                    state.outcome.violations.append(
                        "\(search): saw version \(number), which \(versions.firstIndex(of: version).map { "was replaced before the search began (generation \($0))" } ?? "was not switched to yet")"
                    )
                }
                if hits.count != state.chunkCounts[version] {
                    state.outcome.violations.append(
                        "\(search): \(hits.count) hits of version \(hits[0].versionNumber), which has \(state.chunkCounts[version] ?? 0) chunks"
                    )
                }
                state.outcome.finalVersion[audience] = hits[0].versionNumber
            }
            state.searches[audience, default: 0] += 1
            state.outcome.searches[audience, default: 0] += 1
        }
    }

    /// Waits until every audience has finished `count` more searches (30 s at most).
    func waitForSearches(_ count: Int) async throws {
        let target = state.withLock { state in Audience.allCases.map { state.searches[$0, default: 0] + count } }
        let deadline = ContinuousClock.now + .seconds(30)
        while state.withLock({ state in zip(Audience.allCases, target).contains { state.searches[$0, default: 0] < $1 } }) {
            guard ContinuousClock.now < deadline else {
                throw CairnError(.unavailable, "The search loops did not finish \(count) more searches within 30 seconds.")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// What the feed readers of `feedReadsOneMoment` found.
final class FeedReadLog: Sendable {
    private struct State {
        var count = 0
        var unserved: [String] = []
        var stopped = false
    }

    private let state = Mutex(State())

    var isStopped: Bool { state.withLock { $0.stopped } }
    var summary: (count: Int, unserved: [String]) { state.withLock { ($0.count, $0.unserved) } }

    func stop() { state.withLock { $0.stopped = true } }

    func record(_ document: IndexFeed.IndexedDocument?) {
        state.withLock { state in
            state.count += 1
            if let document, document.servedVersion == nil {
                state.unserved.append("read #\(state.count): served none, draft \(document.draftVersion.map(\.description) ?? "none")")
            } else if document == nil {
                state.unserved.append("read #\(state.count): the document is missing")
            }
        }
    }
}
