import ArgumentParser
import CairnAssistant
import CairnBench
import CairnCore
import CairnDocuments
import CairnEmbed
import CairnGateway
import CairnJobs
import CairnMockLLM
import CairnRuntime
import CairnSearch
import CairnStore
import Foundation
import Logging

/// `cairn bench answer`: what the assistant's pipeline costs around the model — retrieval,
/// assembly, verification and the trace — over a large corpus.
///
/// The corpus is a scratch SQLite store of `--chunks` chunks recorded through the ingestion
/// saga's repository calls, their texts and MiniLM vectors taken from a BEIR collection (the
/// vectors from the cache `cairn eval retrieval` fills) and repeated to size. The collection's
/// queries are asked: extractively (no model at all), and generatively against the `mock`
/// provider on loopback answering at once with two cited sentences, so that verification
/// works on every answer and model time is next to nothing. The anchor is search alone, the
/// same queries through `SearchService`.
struct BenchAnswer: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Assistant pipeline overhead (retrieval + assembly + verification) over many chunks."
    )

    @OptionGroup var logging: LoggingOptions

    @Option(help: "The BEIR folder whose passages and queries seed the corpus.")
    var beir: String

    @Option(help: "Chunks in the corpus.")
    var chunks = 100_000

    @Option(help: "Questions timed per mode (after 10 warm-up questions).")
    var questions = 200

    static let chunksPerDocument = 500

    func run(settings: Settings, logger base: Logger) async throws {
        guard (1_000...1_000_000).contains(chunks) else { throw CairnError(.invalidInput, "--chunks must be between 1,000 and 1,000,000.") }
        guard (10...2_000).contains(questions) else { throw CairnError(.invalidInput, "--questions must be between 10 and 2,000.") }
        var quiet = base
        quiet.logLevel = .error
        let logger = quiet
        let dataset = try BEIRDataset(directory: URL(fileURLWithPath: beir), split: "train")
        let model = try LocalSentenceEmbedder(modelDirectory: settings.embeddingModelDirectory)
        let passages = dataset.corpus.map(\.indexedText)
        let vectors = try await CachedSentenceEmbedder(model, directory: settings.cacheDirectory).embed(passages)
        let asked = Array(dataset.queries.map(\.text).prefix(questions + 10))

        try await CairnStore.withScratch(postgres: nil, maximumConnections: 4, schema: .cairn, logger: logger) { store in
            let began = ContinuousClock.now
            let owner = try await Self.record(chunks: chunks, passages: passages, vectors: vectors, in: store)
            let search = SearchService(
                store: store,
                index: SearchIndex(feed: store.indexFeed, dimension: model.dimension, logger: logger),
                embedder: model
            )
            // The first search loads the tenant's partition; it is part of the build, not of a question.
            _ = try await search.search(.init(query: "warm-up", k: 8), by: owner)
            print(
                String(
                    format: "answer corpus chunks=%d documents=%d build_seconds=%.1f",
                    chunks,
                    chunks / Self.chunksPerDocument,
                    (ContinuousClock.now - began).inSeconds
                )
            )

            let searchTimes = try await Self.time(asked) { question in _ = try await search.search(.init(query: question, k: 8), by: owner) }
            let extractive = Assistant(search: search, route: nil, traces: store.answerTraces, sessions: store.answerSessions)
            let extractiveTimes = try await Self.time(asked) { question in
                _ = try await extractive.answer(.init(question, mode: .extractive), for: owner)
            }

            let script = MockScript()
            script.setFault(
                .reply(
                    "The study reports a significant association between the exposure and the outcome [1]. The effect was also seen in randomised trials [2]."
                ),
                model: "writer-model"
            )
            let generativeTimes = try await MockModelServer.withRunning(script: script) { mock in
                let catalog = GatewayCatalog(
                    providers: [ModelProviderConfiguration(name: "mock", kind: .mock, baseURL: mock.baseURL + "/v1")],
                    deployments: [ModelDeployment(name: "writer", provider: "mock", model: "writer-model")],
                    aliases: [ModelAlias(name: "answers", deployments: ["writer"])]
                )
                let pool = DeploymentPool()
                let bookkeeping = GatewayBookkeeping(books: store.gatewayBooks, logger: logger)
                let gateway = ModelGateway(
                    catalogs: FixedGatewayCatalog(catalog),
                    pool: pool,
                    credentials: ProviderCredentials(environment: [:]),
                    localEmbedder: nil,
                    bookkeeping: bookkeeping,
                    logger: logger
                )
                let generative = Assistant(
                    search: search,
                    route: AnswerRoute(gateway: gateway, model: "answers"),
                    traces: store.answerTraces,
                    sessions: store.answerSessions
                )
                do {
                    let times = try await Self.time(asked) { question in
                        _ = try await generative.answer(.init(question, mode: .generative), for: owner)
                    }
                    try await pool.shutdown()
                    return times
                } catch {
                    try? await pool.shutdown()
                    throw error
                }
            }
            let anchor = Self.quantile(searchTimes, 0.5)
            print(String(format: "answer anchor=search p50_ms=%.2f p99_ms=%.2f", anchor, Self.quantile(searchTimes, 0.99)))
            for (mode, times) in [("extractive", extractiveTimes), ("generative", generativeTimes)] {
                let p50 = Self.quantile(times, 0.5)
                print(
                    String(
                        format: "answer mode=%@ p50_ms=%.2f p99_ms=%.2f ratio_to_search_p50=%.2f target_p50_ms=50",
                        mode,
                        p50,
                        Self.quantile(times, 0.99),
                        p50 / anchor
                    )
                )
            }
        }
    }

    /// Records `chunks` chunks in documents of ``chunksPerDocument``, each chunk a page of its
    /// own, through the saga's repository calls; returns the tenant's administrator.
    private static func record(chunks: Int, passages: [String], vectors: [[Float]], in store: CairnStore) async throws -> Principal {
        let tenant = try await store.tenants.create(name: TenantName("bench"), actor: "bench")
        let owner = Principal.localAdministrator(of: tenant)
        _ = try await store.documents.createCollection(by: owner, name: "corpus", description: "", defaultPolicy: DocumentAccessPolicy())
        let documents = store.documents
        for document in 0..<(chunks / chunksPerDocument) {
            let digest = String(format: "%064x", document)
            let outcome = try await documents.upload(
                DocumentRepository.Upload(
                    blob: StoredBlob(digest: BlobDigest(digest)!, size: 1, isNew: true),
                    fileName: "d\(document).txt",
                    mediaType: "text/plain",
                    format: "text",
                    approve: true
                ),
                as: DocumentRepository.NewDocument(collection: "corpus", source: "bench/\(document)"),
                by: owner,
                ingestion: NewJob(kind: "document.ingest"),
                tenantQueueCap: nil
            )
            guard case .queued(_, let version, _) = outcome else { throw CairnError(.internalFailure, "A fresh bench upload was not queued.") }
            let picks = (0..<chunksPerDocument).map { (document * chunksPerDocument + $0) % passages.count }
            try await documents.storePages(
                picks.enumerated().map { page, pick in
                    DocumentRepository.PageRecord(
                        number: page + 1,
                        text: passages[pick],
                        linesJSON: "[]",
                        source: "text-layer",
                        width: 612,
                        height: 792
                    )
                },
                of: version.id,
                tenant: tenant.id
            )
            let records = picks.enumerated().map { position, pick in
                DocumentRepository.ChunkRecord(
                    position: position,
                    text: passages[pick],
                    firstPage: position + 1,
                    lastPage: position + 1,
                    spansJSON: #"[{"end":\#(passages[pick].unicodeScalars.count),"page":\#(position + 1),"start":0}]"#,
                    boxesJSON: "[]",
                    headingPath: [],
                    wordPieces: passages[pick].split(separator: " ").count
                )
            }
            try await documents.storeChunks(records, of: version, tenant: tenant.id)
            try await documents.storeEmbeddings(
                zip(records, picks).map { ($0.id, vectors[$1]) },
                model: "all-MiniLM-L6-v2",
                of: version.id,
                tenant: tenant.id
            )
            let (_, current) = try await documents.ingestionTarget(version.id, tenant: tenant.id)
            try await documents.announceIndexed(current, tenant: tenant.id)
            _ = try await documents.activate(version.id, tenant: tenant.id)
        }
        return owner
    }

    /// Milliseconds per question, sorted, after the first ten (warm-up) questions.
    private static func time(_ questions: [String], _ ask: (String) async throws -> Void) async throws -> [Double] {
        var times: [Double] = []
        for (index, question) in questions.enumerated() {
            let began = ContinuousClock.now
            try await ask(question)
            if index >= 10 { times.append((ContinuousClock.now - began).inSeconds * 1000) }
        }
        return times.sorted()
    }

    private static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }
}
