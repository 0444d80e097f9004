import CairnCore
import CairnDocuments
import CairnStore
import CairnTestSupport
import Testing

@testable import CairnSearch

@Suite("Search filters")
struct SearchFilterTests {
    @Test(
        "A collection, document or tag filter narrows hits to what it names; an unknown collection is a flaw in the request",
        arguments: TestEngine.all
    )
    func filters(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let library = try await SagaRecorder.make(store, tenant: "northbank", pools: [])
            _ = try await store.documents.createCollection(by: library.owner, name: "archive", description: "", defaultPolicy: DocumentAccessPolicy())
            let archive = SagaRecorder(store: store, owner: library.owner, collection: "archive")
            let (current, _) = try await library.ingestDocument(
                source: "current.pdf",
                policy: DocumentAccessPolicy(),
                chunks: SagaRecorder.chunkRecords(["liquidity risk appetite statement"]),
                approve: true
            )
            let (old, _) = try await archive.ingestDocument(
                source: "old.pdf",
                policy: DocumentAccessPolicy(),
                chunks: SagaRecorder.chunkRecords(["liquidity risk appetite of 2019"]),
                approve: true
            )
            let search = makeSearchService(store)
            let analyst = searcher(of: library.owner, roles: [.analyst])
            func documents(_ request: SearchService.Request) async throws -> Set<DocumentID> {
                Set(try await search.search(request, by: analyst).hits.map(\.documentID))
            }
            for mode in SearchMode.allCases {
                #expect(try await documents(.init(query: "liquidity risk", mode: mode)) == [current.id, old.id])
                #expect(try await documents(.init(query: "liquidity risk", collection: "library", mode: mode)) == [current.id])
                #expect(try await documents(.init(query: "liquidity risk", collection: "archive", mode: mode)) == [old.id])
                #expect(try await documents(.init(query: "liquidity risk", mode: mode, documents: [old.id])) == [old.id])
                #expect(try await documents(.init(query: "liquidity risk", mode: mode, tags: ["board"])).isEmpty)
            }
            await #expect {
                _ = try await search.search(.init(query: "liquidity", collection: "nowhere"), by: analyst)
            } throws: { error in
                (error as? CairnError)?.code == .invalidInput
                    && (error as? CairnError)?.message == "There is no collection named 'nowhere' to search in."
            }
        }
    }
}
