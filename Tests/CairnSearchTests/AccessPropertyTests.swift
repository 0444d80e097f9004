import CairnCore
import CairnDocuments
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@testable import CairnSearch

/// The access property of search, on random corpora and random callers: no hit a caller may
/// not see, never a hit from a retired document or an unserved version, exactly `k` hits
/// whenever the caller may see `k` matching chunks, and nothing from another tenant.
///
/// What a caller may see is worked out here, independently of the index: from the policies,
/// `DocumentAccessPolicy.admits`, and the lifecycle each document was taken through.
@Suite("Search access property")
struct AccessPropertyTests {
    /// `CAIRN_PROPERTY_CASES` runs more (a soak) or fewer.
    static var casesPerEngine: Int { ProcessInfo.processInfo.environment["CAIRN_PROPERTY_CASES"].flatMap { Int($0) } ?? 100_000 }
    /// Recording a corpus costs about a second on PostgreSQL; 5,000 searches cost about five.
    static let casesPerCorpus = 5_000
    /// Searches in flight at once: concurrent catch-ups on the index actor are part of what runs.
    static let concurrentSearches = 8

    /// `CAIRN_PROPERTY_SEED` (decimal or 0x-hex) replays a reported run.
    static var seed: UInt64 {
        let text = ProcessInfo.processInfo.environment["CAIRN_PROPERTY_SEED"] ?? ""
        return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) ?? defaultSeed : UInt64(text) ?? defaultSeed
    }
    static let defaultSeed: UInt64 = 0xCA1B_5EA2_C400_0001

    @Test("Every hit is one the principal may see, k hits when k are visible, and no other tenant's", arguments: TestEngine.all)
    func accessProperty(engine: TestEngine) async throws {
        let seed = Self.seed
        let summary = try await withTestStore(engine) { store in
            let service = makeSearchService(store)
            var summary = RunSummary()
            for corpusNumber in 0..<max(1, Self.casesPerEngine / Self.casesPerCorpus) {
                // Seeds a step apart would give the same stream shifted by one draw: mix them first.
                var mixer = SeededGenerator(seed: seed ^ UInt64(corpusNumber) << 32)
                var random = SeededGenerator(seed: mixer.next())
                let corpus = try await AccessCorpus.build(store: store, service: service, number: corpusNumber, random: &random)
                let cases = (0..<Self.casesPerCorpus).map { SearchCase.random(number: $0, random: &random) }
                let results = try await Self.run(cases, on: corpus, service: service)
                summary.add(results, corpus: corpusNumber)
                if summary.violations.count >= 20 { break }
            }
            return summary
        }
        #expect(
            summary.violations.isEmpty,
            "seed 0x\(String(seed, radix: 16)) (replay with CAIRN_PROPERTY_SEED=0x\(String(seed, radix: 16))) on \(engine): \(summary.violations.count) violation(s), first ones:\n\(summary.violations.prefix(20).joined(separator: "\n"))"
        )
        #expect(summary.cases >= min(Self.casesPerEngine, Self.casesPerCorpus) || !summary.violations.isEmpty)
        // A property run that never meets the interesting cases proves little.
        #expect(summary.exactlyKChecks > summary.cases / 10, "too few cases had at least k visible matching chunks")
        #expect(summary.shortResults > summary.cases / 50, "too few cases had fewer than k visible matching chunks")
        #expect(summary.forbiddenDrafts > 0 && summary.curatorDrafts > 0)
        #expect(summary.hits > summary.cases, "too few hits to check")
        #expect(summary.emptyVisible > 0, "no case where the principal could see nothing")
    }

    /// Runs the cases against `corpus`, a bounded number at a time; returns each case's findings.
    private static func run(_ cases: [SearchCase], on corpus: AccessCorpus, service: SearchService) async throws -> [CaseResult] {
        try await withThrowingTaskGroup(of: CaseResult.self) { group in
            var results: [CaseResult] = []
            results.reserveCapacity(cases.count)
            var next = 0
            while next < min(concurrentSearches, cases.count) {
                let item = cases[next]
                group.addTask { try await check(item, on: corpus, service: service) }
                next += 1
            }
            while let result = try await group.next() {
                results.append(result)
                if next < cases.count {
                    let item = cases[next]
                    group.addTask { try await check(item, on: corpus, service: service) }
                    next += 1
                }
            }
            return results
        }
    }

    /// Searches one case and checks what came back against the corpus model.
    private static func check(_ item: SearchCase, on corpus: AccessCorpus, service: SearchService) async throws -> CaseResult {
        let tenant = corpus.tenants[item.tenant]
        let other = corpus.tenants[1 - item.tenant]
        let principal = searcher(
            of: tenant.owner,
            roles: item.roles,
            clearance: item.clearance,
            entities: item.entities,
            branches: item.branches,
            groups: item.groups
        )
        var result = CaseResult(number: item.number)
        func violation(_ text: String) { result.violations.append("case \(item.number) [\(item)]: \(text)") }

        let request = SearchService.Request(query: item.query, k: item.k, mode: item.mode, includeDrafts: item.includeDrafts)
        let mayReadDrafts = item.roles.contains(.curator)
        let response: SearchService.Response
        do {
            response = try await service.search(request, by: principal)
        } catch let error as CairnError where error.code == .forbidden && item.includeDrafts && !mayReadDrafts {
            result.forbiddenDrafts = true
            return result
        }
        if item.includeDrafts && !mayReadDrafts {
            violation("a search of drafts without a curator role was answered (\(response.hits.count) hits) instead of refused as forbidden")
            return result
        }
        if item.includeDrafts { result.curatorDrafts = true }
        if response.mode != item.mode { violation("ran as \(response.mode), asked for \(item.mode)") }

        // What the principal may retrieve, worked out from the model.
        let queryTerms = Set(corpus.analyzer.terms(in: item.query))
        var visible: [ChunkID: ChunkModel] = [:]
        var visibleMatching = 0
        for document in tenant.documents.values where document.policy.admits(principal) {
            guard let version = document.searchedVersion(includeDrafts: item.includeDrafts) else { continue }
            for chunk in tenant.chunksByVersion[version] ?? [] {
                visible[chunk.id] = chunk
                if !chunk.terms.isDisjoint(with: queryTerms) { visibleMatching += 1 }
            }
        }
        let expectedCount = min(item.k, item.mode == .lexical ? visibleMatching : visible.count)
        if visible.isEmpty { result.emptyVisible = true }
        if expectedCount == item.k { result.exactlyK = true } else { result.short = true }
        result.hits = response.hits.count

        if response.hits.count != expectedCount {
            violation(
                "\(response.hits.count) hits, expected \(expectedCount) (\(visible.count) visible chunks, \(visibleMatching) matching lexically)"
            )
        }
        if Set(response.hits.map(\.chunkID)).count != response.hits.count { violation("a chunk came back twice") }
        for (position, hit) in response.hits.enumerated() {
            if let leaked = other.chunks[hit.chunkID] {
                violation("hit \(hit.chunkID) belongs to the other tenant (document \(leaked.documentID))")
                continue
            }
            if other.documents[hit.documentID] != nil {
                violation("hit \(hit.chunkID) names document \(hit.documentID) of the other tenant")
                continue
            }
            guard let chunk = tenant.chunks[hit.chunkID] else {
                violation("hit \(hit.chunkID) is no chunk this tenant recorded")
                continue
            }
            guard let document = tenant.documents[chunk.documentID] else {
                violation("hit \(hit.chunkID) belongs to no document of the tenant")
                continue
            }
            if !document.policy.admits(principal) {
                violation("hit \(hit.chunkID) is from document \(document.id) whose policy \(document.policy) does not admit the principal")
            }
            if document.retired { violation("hit \(hit.chunkID) is from retired document \(document.id)") }
            let searched = document.searchedVersion(includeDrafts: item.includeDrafts)
            if searched != chunk.versionID {
                violation(
                    "hit \(hit.chunkID) is from version \(chunk.versionNumber) (\(document.describe(chunk.versionID))) of document \(document.id); the version to search is \(searched.map { document.describe($0) } ?? "none")"
                )
            }
            if hit.documentID != chunk.documentID || hit.versionID != chunk.versionID || hit.versionNumber != chunk.versionNumber
                || hit.text != chunk.text
            {
                violation("hit \(hit.chunkID) is pinned to document \(hit.documentID) v\(hit.versionNumber) with text \"\(hit.text)\", not its own")
            }
            if item.mode == .lexical, chunk.terms.isDisjoint(with: queryTerms) {
                violation("lexical hit \(hit.chunkID) \"\(chunk.text)\" shares no term with the query")
            }
            if position > 0, response.hits[position - 1].score < hit.score { violation("hits are not in descending score order at \(position)") }
            if hit.retrievers.isEmpty || (item.mode != .hybrid && hit.retrievers != [item.mode == .lexical ? .lexical : .vector]) {
                violation("hit \(hit.chunkID) names retrievers \(hit.retrievers) in \(item.mode) mode")
            }
        }
        return result
    }
}

// MARK: The model

/// A chunk as recorded, with its analysed terms.
private struct ChunkModel: Sendable {
    let id: ChunkID
    let documentID: DocumentID
    let versionID: DocumentVersionID
    let versionNumber: Int
    let text: String
    let terms: Set<String>
}

/// A document's policy and lifecycle as the test took it through the repository.
private struct DocumentModel: Sendable {
    let id: DocumentID
    let policy: DocumentAccessPolicy
    /// The approved version the document serves.
    var served: (id: DocumentVersionID, number: Int)?
    /// Versions activated without approval (ready drafts), in upload order.
    var readyDrafts: [(id: DocumentVersionID, number: Int)] = []
    var retired = false
    /// Every version recorded, with how far it got, for failure messages.
    var history: [DocumentVersionID: String] = [:]

    /// The newest ready draft newer than the served version: the one curators search instead.
    var pendingDraft: (id: DocumentVersionID, number: Int)? {
        readyDrafts.filter { $0.number > (served?.number ?? 0) }.max { $0.number < $1.number }
    }

    /// The version a search must read: none for a retired document; with drafts, the pending
    /// draft in place of the served version; otherwise the served version.
    func searchedVersion(includeDrafts: Bool) -> DocumentVersionID? {
        guard !retired else { return nil }
        if includeDrafts, let draft = pendingDraft { return draft.id }
        return served?.id
    }

    func describe(_ version: DocumentVersionID) -> String { history[version] ?? "unknown version" }
}

/// One tenant's recorded documents and chunks.
private struct TenantModel: Sendable {
    let owner: Principal
    var documents: [DocumentID: DocumentModel] = [:]
    var chunks: [ChunkID: ChunkModel] = [:]
    var chunksByVersion: [DocumentVersionID: [ChunkModel]] = [:]
}

/// Two tenants' documents, recorded through the saga's repository calls, in two phases: the
/// second after the index partitions were loaded, so it reaches them through the change feed.
private struct AccessCorpus: Sendable {
    static let vocabulary = [
        "loan", "mortgage", "rates", "fee", "credit", "risk", "account", "payment", "branch", "deposit", "interest", "capital", "overdraft",
        "savings",
    ]
    static let entityPool = ["uk", "us", "de"]
    static let branchPool = ["london", "leeds", "york"]
    static let groupPool = ["risk", "credit", "audit"]

    var tenants: [TenantModel]
    let analyzer = TextAnalyzer()

    static func build(store: CairnStore, service: SearchService, number: Int, random: inout SeededGenerator) async throws -> AccessCorpus {
        let pools = entityPool + branchPool + groupPool
        var recorders: [SagaRecorder] = []
        for side in ["a", "b"] { recorders.append(try await SagaRecorder.make(store, tenant: "corpus-\(number)-\(side)", pools: pools)) }
        var corpus = AccessCorpus(tenants: recorders.map { TenantModel(owner: $0.owner) })
        for (side, recorder) in recorders.enumerated() {
            let count = side == 0 ? Int.random(in: 10...16, using: &random) : Int.random(in: 4...7, using: &random)
            for index in 0..<count { try await corpus.addDocument(index, tenant: side, recorder: recorder, random: &random) }
        }
        // Loads both partitions now, so what follows arrives as changes.
        for recorder in recorders {
            _ = try await service.search(SearchService.Request(query: "loan", k: 1, mode: .hybrid), by: recorder.owner)
        }
        for (side, recorder) in recorders.enumerated() {
            for id in corpus.tenants[side].documents.keys.sorted(by: { $0.description < $1.description }) {
                try await corpus.change(id, tenant: side, recorder: recorder, random: &random)
            }
            let count = side == 0 ? Int.random(in: 3...6, using: &random) : Int.random(in: 1...3, using: &random)
            for index in 100..<(100 + count) { try await corpus.addDocument(index, tenant: side, recorder: recorder, random: &random) }
        }
        return corpus
    }

    static func randomPolicy(random: inout SeededGenerator) -> DocumentAccessPolicy {
        func list(_ pool: [String]) -> [String] {
            guard Bool.random(using: &random) else { return [] }
            return Array(pool.shuffled(using: &random).prefix(Int.random(in: 1...2, using: &random)))
        }
        return DocumentAccessPolicy(
            classification: Classification.allCases.randomElement(using: &random)!,
            entities: list(entityPool),
            branches: list(branchPool),
            groups: list(groupPool)
        )
    }

    static func randomTexts(random: inout SeededGenerator) -> [String] {
        (0..<Int.random(in: 1...4, using: &random)).map { _ in
            (0..<Int.random(in: 2...7, using: &random)).map { _ in vocabulary.randomElement(using: &random)! }.joined(separator: " ")
        }
    }

    mutating func addDocument(_ index: Int, tenant side: Int, recorder: SagaRecorder, random: inout SeededGenerator) async throws {
        let policy = Self.randomPolicy(random: &random)
        let texts = Self.randomTexts(random: &random)
        let fate = VersionFate.random(random: &random)
        let records = SagaRecorder.chunkRecords(texts, ids: texts.map { _ in ChunkID(random.uuid()) })
        let (document, version) = try await recorder.ingestDocument(
            source: "doc-\(index)",
            policy: policy,
            chunks: records,
            approve: fate.approves,
            through: fate.lastStep
        )
        tenants[side].documents[document.id] = DocumentModel(id: document.id, policy: policy)
        try await record(version, of: document.id, fate: fate, tenant: side, recorder: recorder, records: records)
        if Int.random(in: 0..<8, using: &random) == 0 {
            _ = try await recorder.store.documents.retire(document.id, by: recorder.owner)
            tenants[side].documents[document.id]?.retired = true
        }
    }

    /// A lifecycle change to a document already in the index: retire it, add a version (approved,
    /// a draft, or one left unfinished), approve its pending draft, or leave it be.
    mutating func change(_ id: DocumentID, tenant side: Int, recorder: SagaRecorder, random: inout SeededGenerator) async throws {
        guard let document = tenants[side].documents[id], !document.retired else { return }
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<12:
            _ = try await recorder.store.documents.retire(id, by: recorder.owner)
            tenants[side].documents[id]?.retired = true
        case 12..<45:
            let texts = Self.randomTexts(random: &random)
            let fate = VersionFate.random(random: &random)
            let records = SagaRecorder.chunkRecords(texts, ids: texts.map { _ in ChunkID(random.uuid()) })
            let version = try await recorder.ingestVersion(of: id, chunks: records, approve: fate.approves, through: fate.lastStep)
            try await record(version, of: id, fate: fate, tenant: side, recorder: recorder, records: records)
        case 45..<60:
            guard let draft = document.pendingDraft else { return }
            _ = try await recorder.store.documents.approve(id, by: recorder.owner)
            tenants[side].documents[id]?.served = draft
            tenants[side].documents[id]?.readyDrafts.removeAll { $0.id == draft.id }
            tenants[side].documents[id]?.history[draft.id, default: ""] += ", then approved"
        default:
            return
        }
    }

    /// Records what `fate` made of `version` in the model (and finishes a failed one).
    private mutating func record(
        _ version: DocumentVersion,
        of id: DocumentID,
        fate: VersionFate,
        tenant side: Int,
        recorder: SagaRecorder,
        records: [DocumentRepository.ChunkRecord]
    ) async throws {
        if fate == .failed { try await recorder.store.documents.markFailed(version.id, reason: "The test gave up on it.", tenant: recorder.tenant) }
        let models = records.map { record in
            ChunkModel(
                id: record.id,
                documentID: id,
                versionID: version.id,
                versionNumber: version.number,
                text: record.text,
                terms: Set(analyzer.terms(in: record.text))
            )
        }
        if fate.lastStep >= .chunks {
            for model in models { tenants[side].chunks[model.id] = model }
            tenants[side].chunksByVersion[version.id] = models
        }
        tenants[side].documents[id]?.history[version.id] = "v\(version.number) \(fate)"
        switch fate {
        case .approved: tenants[side].documents[id]?.served = (version.id, version.number)
        case .draft: tenants[side].documents[id]?.readyDrafts.append((version.id, version.number))
        case .unfinished, .failed: break
        }
    }
}

/// How far a version gets.
private enum VersionFate: Sendable, Equatable, CustomStringConvertible {
    /// Uploaded with approval and activated: served.
    case approved
    /// Activated without approval: a ready draft.
    case draft
    /// Stopped before activation (a saga still running, or crashed).
    case unfinished(SagaStep, approve: Bool)
    /// Chunked, then given up on.
    case failed

    static func random(random: inout SeededGenerator) -> VersionFate {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<50: .approved
        case 50..<75: .draft
        case 75..<90: .unfinished(SagaStep.allCases.dropLast().randomElement(using: &random)!, approve: Bool.random(using: &random))
        default: .failed
        }
    }

    var approves: Bool {
        switch self {
        case .approved: true
        case .draft, .failed: false
        case .unfinished(_, let approve): approve
        }
    }

    var lastStep: SagaStep {
        switch self {
        case .approved, .draft: .activate
        case .unfinished(let step, _): step
        case .failed: .chunks
        }
    }

    var description: String {
        switch self {
        case .approved: "approved and activated"
        case .draft: "activated as a draft"
        case .unfinished(let step, let approve): "stopped after \(step) (approve on upload: \(approve))"
        case .failed: "chunked, then failed"
        }
    }
}

// MARK: Cases and results

/// A random caller, query, k and mode.
private struct SearchCase: Sendable, CustomStringConvertible {
    let number: Int
    /// 0: the first tenant, 1: the second (one case in ten).
    let tenant: Int
    let roles: Set<Role>
    let clearance: Classification
    let entities: [String]
    let branches: [String]
    let groups: [String]
    let query: String
    let k: Int
    let mode: SearchMode
    let includeDrafts: Bool

    static func random(number: Int, random: inout SeededGenerator) -> SearchCase {
        var roles: Set<Role> = []
        while roles.isEmpty { roles = Set([Role.viewer, .analyst, .curator].filter { _ in Bool.random(using: &random) }) }
        func subset(_ pool: [String]) -> [String] { pool.filter { _ in Int.random(in: 0..<5, using: &random) < 2 } }
        let words = (0..<Int.random(in: 1...3, using: &random)).map { _ in AccessCorpus.vocabulary.randomElement(using: &random)! }
        return SearchCase(
            number: number,
            tenant: Int.random(in: 0..<10, using: &random) == 0 ? 1 : 0,
            roles: roles,
            clearance: Classification.allCases.randomElement(using: &random)!,
            entities: subset(AccessCorpus.entityPool),
            branches: subset(AccessCorpus.branchPool),
            groups: subset(AccessCorpus.groupPool),
            query: words.joined(separator: " "),
            k: Int.random(in: 1...10, using: &random),
            mode: SearchMode.allCases.randomElement(using: &random)!,
            includeDrafts: Int.random(in: 0..<4, using: &random) == 0
        )
    }

    var description: String {
        "tenant \(tenant == 0 ? "A" : "B"), roles \(roles.map(\.rawValue).sorted()), clearance \(clearance), entities \(entities), branches \(branches), groups \(groups), query \"\(query)\", k \(k), \(mode), drafts \(includeDrafts)"
    }
}

private struct CaseResult: Sendable {
    let number: Int
    var violations: [String] = []
    var hits = 0
    var exactlyK = false
    var short = false
    var emptyVisible = false
    var forbiddenDrafts = false
    var curatorDrafts = false
}

private struct RunSummary: Sendable {
    var cases = 0
    var hits = 0
    var exactlyKChecks = 0
    var shortResults = 0
    var emptyVisible = 0
    var forbiddenDrafts = 0
    var curatorDrafts = 0
    var violations: [String] = []

    mutating func add(_ results: [CaseResult], corpus: Int) {
        for result in results.sorted(by: { $0.number < $1.number }) {
            cases += 1
            hits += result.hits
            if result.exactlyK { exactlyKChecks += 1 }
            if result.short { shortResults += 1 }
            if result.emptyVisible { emptyVisible += 1 }
            if result.forbiddenDrafts { forbiddenDrafts += 1 }
            if result.curatorDrafts { curatorDrafts += 1 }
            violations += result.violations.map { "corpus \(corpus), \($0)" }
        }
    }
}
