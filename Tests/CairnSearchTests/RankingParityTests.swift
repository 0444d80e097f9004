import CairnCore
import CairnDocuments
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@testable import CairnSearch

/// The same served corpus — the same chunk ids, texts and vectors — ranks identically wherever
/// it is stored and however it got there: on SQLite and on PostgreSQL, uploaded in either order,
/// loaded at once or through the change feed, after versions were superseded and documents
/// retired, next to another tenant's documents, and on a replica built fresh.
@Suite("Ranking parity")
struct RankingParityTests {
    static let queries = [
        "loan rates", "mortgage", "credit risk capital", "fee", "overdraft savings account", "interest", "payment branch deposit",
        "rates rates loan", "risk", "unheard-of words",
    ]

    /// How a store comes to hold the corpus.
    enum Layout: String, CaseIterable, Sendable {
        /// Uploaded in order, then loaded by a replica in one go.
        case plain
        /// Uploaded in reverse order to a replica already serving, some documents first as another
        /// version that the corpus's version supersedes, between documents retired again, with a
        /// second tenant's documents over the same words.
        case churned
    }

    @Test("One corpus ranks identically on every engine and replica, in every mode")
    func identicalRankings() async throws {
        var random = SeededGenerator(seed: 0x7A12_1700)
        let corpus = ParityCorpus.make(random: &random)
        var runs: [(label: String, rankings: Rankings)] = []
        for engine in TestEngine.all {
            for layout in Layout.allCases {
                let (rankings, fresh) = try await withTestStore(engine) { store in
                    try await Self.rankings(of: corpus, on: store, layout: layout)
                }
                runs.append(("\(engine) \(layout)", rankings))
                runs.append(("\(engine) \(layout), fresh replica", fresh))
            }
        }
        if TestEngine.postgresIsRequired { #expect(runs.contains { $0.label.hasPrefix("postgres") }) }
        let reference = runs[0]
        #expect(reference.rankings.values.contains { $0.count >= 10 }, "the reference rankings are too short to compare")
        #expect(
            reference.rankings.values.contains { zip($0, $0.dropFirst()).contains { $0.score == $1.score } },
            "no ties: the tie-break goes untested"
        )
        for run in runs.dropFirst() {
            for (key, expected) in reference.rankings.sorted(by: { $0.key < $1.key }) {
                let actual = run.rankings[key] ?? []
                guard actual != expected else { continue }
                let position = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
                Issue.record(
                    """
                    \(run.label) ranks \(key) differently from \(reference.label) at position \(position + 1):
                      \(reference.label): \(expected.dropFirst(position).prefix(3))
                      \(run.label): \(actual.dropFirst(position).prefix(3))
                    """
                )
            }
        }
    }

    typealias Rankings = [String: [RankedHit]]

    /// A hit as compared: the chunk, its exact score, and who found it.
    struct RankedHit: Equatable, Sendable, CustomStringConvertible {
        let chunk: ChunkID
        let score: Double
        let retrievers: [Retriever]

        var description: String { "\(chunk.description.prefix(8)) \(score) \(retrievers.map(\.rawValue))" }
    }

    /// Records `corpus` on `store` as `layout` says; returns the rankings of a replica that was
    /// serving throughout and of one built afterwards.
    static func rankings(of corpus: ParityCorpus, on store: CairnStore, layout: Layout) async throws -> (Rankings, Rankings) {
        let recorder = try await SagaRecorder.make(store, tenant: "bank", pools: ["uk", "us"])
        let service = makeSearchService(store)
        switch layout {
        case .plain:
            for document in corpus.documents {
                _ = try await recorder.ingestDocument(source: document.source, policy: document.policy, chunks: document.records, approve: true)
            }
        case .churned:
            let neighbour = try await SagaRecorder.make(store, tenant: "neighbour", pools: [])
            for (index, text) in ["loan loan loan rates", "mortgage fee fee", "credit risk", "overdraft"].enumerated() {
                _ = try await neighbour.ingestDocument(
                    source: "n\(index)",
                    policy: DocumentAccessPolicy(),
                    chunks: SagaRecorder.chunkRecords([text, text + " interest"]),
                    approve: true
                )
            }
            _ = try await service.search(SearchService.Request(query: "loan", k: 1), by: recorder.owner)
            _ = try await service.search(SearchService.Request(query: "loan", k: 1), by: neighbour.owner)
            for (index, document) in corpus.documents.reversed().enumerated() {
                if index % 3 == 0 {
                    // A first version the corpus's version replaces.
                    let (created, _) = try await recorder.ingestDocument(
                        source: document.source,
                        policy: document.policy,
                        chunks: SagaRecorder.chunkRecords(["superseded loan mortgage draft text \(index)", "risk"]),
                        approve: true
                    )
                    _ = try await recorder.ingestVersion(of: created.id, chunks: document.records, approve: true)
                    // And a later one that never finishes: not indexed.
                    _ = try await recorder.ingestVersion(
                        of: created.id,
                        chunks: SagaRecorder.chunkRecords(["unfinished loan"]),
                        approve: true,
                        through: .announce
                    )
                } else {
                    _ = try await recorder.ingestDocument(source: document.source, policy: document.policy, chunks: document.records, approve: true)
                }
                if index % 4 == 1 {
                    // A document that comes and goes, leaving free slots behind.
                    let (passing, _) = try await recorder.ingestDocument(
                        source: "passing-\(index)",
                        policy: DocumentAccessPolicy(),
                        chunks: SagaRecorder.chunkRecords(["loan rates fee", "mortgage mortgage credit", "savings"]),
                        approve: true
                    )
                    _ = try await service.search(SearchService.Request(query: "loan", k: 1), by: recorder.owner)
                    _ = try await store.documents.retire(passing.id, by: recorder.owner)
                }
            }
        }
        let serving = try await rankings(service, owner: recorder.owner)
        let fresh = try await rankings(makeSearchService(store), owner: recorder.owner)
        return (serving, fresh)
    }

    /// Every query in every mode at a few depths, for a principal seeing everything and for
    /// one whose entity admits part of the corpus.
    static func rankings(_ service: SearchService, owner: Principal) async throws -> Rankings {
        let principals = [
            ("all", searcher(of: owner, roles: [.viewer], entities: ["uk", "us"])),
            ("us-only", searcher(of: owner, roles: [.viewer], clearance: .confidential, entities: ["us"])),
        ]
        var rankings: Rankings = [:]
        for (name, principal) in principals {
            for query in queries {
                for mode in SearchMode.allCases {
                    for k in [3, 10, 40] {
                        let response = try await service.search(SearchService.Request(query: query, k: k, mode: mode), by: principal)
                        rankings["\(name) \"\(query)\" \(mode) k=\(k)"] = response.hits.map {
                            RankedHit(chunk: $0.chunkID, score: $0.score, retrievers: $0.retrievers)
                        }
                    }
                }
            }
        }
        return rankings
    }
}

/// Documents with fixed chunk ids and texts over a small vocabulary, with repeated texts so
/// that equal scores, and so the tie-break by chunk id, are common in every mode.
struct ParityCorpus: Sendable {
    struct Document: Sendable {
        let source: String
        let policy: DocumentAccessPolicy
        let records: [DocumentRepository.ChunkRecord]
    }

    let documents: [Document]

    static let vocabulary = [
        "loan", "mortgage", "rates", "fee", "credit", "risk", "account", "payment", "branch", "deposit", "interest", "capital", "overdraft",
        "savings", "the", "of",
    ]

    static func make(random: inout SeededGenerator) -> ParityCorpus {
        var texts: [String] = []
        var documents: [Document] = []
        for number in 0..<36 {
            let chunkTexts = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                if !texts.isEmpty, Int.random(in: 0..<5, using: &random) == 0 { return texts.randomElement(using: &random)! }
                let text = (0..<Int.random(in: 2...9, using: &random)).map { _ in vocabulary.randomElement(using: &random)! }.joined(separator: " ")
                texts.append(text)
                return text
            }
            let policy =
                switch number % 3 {
                case 0: DocumentAccessPolicy(classification: .internal, entities: ["uk"])
                case 1: DocumentAccessPolicy(classification: .confidential, entities: ["us"])
                default: DocumentAccessPolicy(classification: .public)
                }
            let ids = chunkTexts.map { _ in ChunkID(random.uuid()) }
            documents.append(Document(source: "doc-\(number)", policy: policy, records: SagaRecorder.chunkRecords(chunkTexts, ids: ids)))
        }
        return ParityCorpus(documents: documents)
    }
}
