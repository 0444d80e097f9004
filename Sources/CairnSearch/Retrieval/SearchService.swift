public import CairnCore
public import CairnDocuments
public import CairnEmbed
public import CairnStore
import Foundation
import Tracing

/// Searches a tenant's documents for a principal: the policy applied inside retrieval, BM25 and
/// vector hits fused, every hit pinned to its document, version and pages.
public struct SearchService: Sendable {
    private let index: SearchIndex
    /// The model chunks were embedded with; `nil` runs lexical-only.
    public let embedder: (any SentenceEmbedder)?
    private let store: CairnStore

    /// - Parameter embedder: the model chunks were embedded with; `nil` runs lexical-only.
    public init(store: CairnStore, index: SearchIndex, embedder: (any SentenceEmbedder)?) {
        self.store = store
        self.index = index
        self.embedder = embedder
    }

    /// Whether vector search is available; without a model Cairn says so in `/readyz`, the logs
    /// and every search response.
    public var isLexicalOnly: Bool { embedder == nil }

    /// The model query vectors come from, if one is loaded.
    public var embeddingModel: String? { embedder?.modelName }

    /// The sentence every response carries when no embedding model is loaded.
    public static let lexicalOnlyNotice = "No embedding model is loaded, so this search used BM25 only; run scripts/setup.sh to fetch the model."

    public struct Request: Sendable {
        public var query: String
        public var k: Int
        public var collection: String?
        public var mode: SearchMode
        public var fusion: Fusion
        public var documents: [DocumentID]?
        public var tags: [String]
        public var includeDrafts: Bool

        public init(
            query: String,
            k: Int = 10,
            collection: String? = nil,
            mode: SearchMode = .hybrid,
            fusion: Fusion = .standard,
            documents: [DocumentID]? = nil,
            tags: [String] = [],
            includeDrafts: Bool = false
        ) {
            self.query = query
            self.k = k
            self.collection = collection
            self.mode = mode
            self.fusion = fusion
            self.documents = documents
            self.tags = tags
            self.includeDrafts = includeDrafts
        }
    }

    /// A passage found, with where it sits.
    public struct Hit: Sendable, Equatable {
        public let chunkID: ChunkID
        public let documentID: DocumentID
        public let versionID: DocumentVersionID
        public let versionNumber: Int
        public let title: String
        public let firstPage: Int
        public let lastPage: Int
        public let headingPath: [String]
        public let text: String
        /// JSON `[{"page", "start", "end"}]`: where the text sits in each page's text.
        public let spansJSON: String
        public let score: Double
        public let retrievers: [Retriever]
    }

    public struct Response: Sendable {
        public let hits: [Hit]
        /// The mode that ran: `lexical` when vectors were asked for but no model is loaded.
        public let mode: SearchMode
        /// Set when the search could not be what was asked (no embedding model).
        public let notice: String?
    }

    public func search(_ request: Request, by principal: Principal) async throws -> Response {
        try TextRules.validate(request.query, field: "A query", maximumLength: 2000)
        guard (1...100).contains(request.k) else { throw CairnError(.invalidInput, "k must be between 1 and 100.") }
        try TextRules.validate(request.tags, field: "tags", maximumCount: 20)
        guard (request.documents?.count ?? 0) <= 1000 else { throw CairnError(.invalidInput, "A search names at most 1,000 documents.") }
        if case .weighted(let weight) = request.fusion, !(0...1).contains(weight) {
            throw CairnError(.invalidInput, "The vector weight must be between 0 and 1.")
        }
        if request.includeDrafts, !principal.has(.readDraftDocuments) {
            throw CairnError(.forbidden, "Searching drafts needs the 'documents.read-drafts' permission.")
        }
        var collection: CollectionID?
        if let name = request.collection {
            try TextRules.validate(name, field: "A collection name", maximumLength: 100)
            do {
                collection = try await store.documents.collection(named: name, for: principal).id
            } catch let error as CairnError where error.code == .notFound {
                // The collection is a field of the request, not the resource at its route: an
                // unknown one is a flaw in the request (422), as `/v1/answers` and the agent's
                // tool report it, not a missing route (404).
                throw CairnError(.invalidInput, "There is no collection named '\(name.prefix(100))' to search in.", underlying: error)
            }
        }
        var mode = request.mode
        var notice: String?
        var vector: [Float]?
        if mode != .lexical {
            if let embedder {
                vector = try await withSpan("embed query") { _ in try await embedder.embed([request.query]).first }
            } else {
                mode = .lexical
                notice = Self.lexicalOnlyNotice
            }
        }
        let filter = SearchFilter(
            collection: collection,
            documents: request.documents.map(Set.init),
            tags: request.tags,
            includeDrafts: request.includeDrafts
        )
        let found = try await withSpan("retrieve") { span in
            span.attributes["cairn.search.mode"] = mode.rawValue
            span.attributes["cairn.search.k"] = request.k
            return try await index.search(
                text: request.query,
                vector: vector,
                mode: mode,
                k: request.k,
                fusion: request.fusion,
                filter: filter,
                principal: principal
            )
        }
        let hits = found.map { hit, chunk, document in
            Hit(
                chunkID: chunk.id,
                documentID: chunk.documentID,
                versionID: chunk.versionID,
                versionNumber: document.versionNumbers[chunk.versionID] ?? 0,
                title: document.title,
                firstPage: chunk.firstPage,
                lastPage: chunk.lastPage,
                headingPath: chunk.headingPath,
                text: chunk.text,
                spansJSON: chunk.spansJSON,
                score: hit.score,
                retrievers: hit.retrievers
            )
        }
        return Response(hits: hits, mode: mode, notice: notice)
    }
}
