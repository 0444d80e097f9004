import CairnAssistant
import CairnCore
import CairnDocuments
import CairnEmbed
import CairnIngest
import CairnJobs
import CairnPipelines
import CairnRuntime
import CairnSearch
import CairnServer
import CairnStore
import Foundation
import Logging

/// The document features as one process wires them: the blob store, the embedding model when
/// it is installed, parsing and chunking, the ingestion job handlers, and this node's index.
struct DocumentRuntime: Sendable {
    let blobs: LocalBlobStore
    /// The remote server when one is configured, else the model in process; `nil` when neither
    /// is there: search runs on BM25 alone, and says so.
    let embedder: (any SentenceEmbedder)?
    /// The model in process, when installed, whatever serves search: the gateway's `local`
    /// embeddings model.
    let localEmbedder: LocalSentenceEmbedder?
    /// Ingestion and purges.
    let handlers: [any JobHandler]
    let uploadLimit: Int
    let parser: DocumentParser
    let agentApprovals: AgentApprovalRule

    static func load(_ settings: Settings, logger: Logger) throws -> DocumentRuntime {
        let blobs = try LocalBlobStore(root: settings.blobDirectory)
        let local = try loadEmbedder(settings.embeddingModelDirectory, remote: try settings.remoteEmbedder != nil, logger: logger)
        let embedder: (any SentenceEmbedder)? = try settings.remoteEmbedder ?? local
        let parser = DocumentParser(limits: ParsingLimits(), ocrLanguage: try settings.ocrLanguage)
        // Without the model's vocabulary, sizes are estimated: English averages about 1.3 word
        // pieces per word in MiniLM's vocabulary.
        let wordPieceCount: @Sendable (String) -> Int
        if let local {
            wordPieceCount = { local.wordPieceCount($0) }
        } else {
            wordPieceCount = { $0.split(whereSeparator: \.isWhitespace).count * 4 / 3 }
        }
        let chunker = Chunker(wordPieceCount: wordPieceCount)
        let handlers: [any JobHandler] = [
            IngestDocument(blobs: blobs, parser: parser, chunker: chunker, embedder: embedder),
            PurgeDocument(blobs: blobs),
            ExtractCaseDocument(blobs: blobs, parser: parser),
        ]
        return DocumentRuntime(
            blobs: blobs,
            embedder: embedder,
            localEmbedder: local,
            handlers: handlers,
            uploadLimit: try settings.uploadLimit,
            parser: parser,
            agentApprovals: try settings.agentApprovals
        )
    }

    /// The job kinds this process runs: the standard ones, ingestion, purges and case-document
    /// extraction, and agent runs when `agent` is given.
    func catalog(agent: Agent? = nil) -> JobCatalog {
        .standard(adding: handlers + (agent.map { [AgentRunHandler(agent: $0)] } ?? []))
    }

    /// The API's document services over `store`, with this node's index replicas.
    ///
    /// - Parameter models: the gateway's routes for the assistant: the model that writes
    ///   generative answers and runs agents, and the judge; `nil` answers extractively and
    ///   refuses agent runs.
    func services(store: CairnStore, tenantQueueCap: Int, models: GatewayRuntime? = nil, logger: Logger) -> DocumentServices {
        let index = SearchIndex(feed: store.indexFeed, dimension: embedder?.dimension, logger: logger)
        return DocumentServices(
            library: DocumentLibrary(store: store, blobs: blobs, maximumUploadBytes: uploadLimit, tenantQueueCap: tenantQueueCap),
            search: SearchService(store: store, index: index, embedder: embedder),
            parser: parser,
            answerRoute: models?.answerRoute,
            judgeRoute: models?.judgeRoute,
            agentApprovals: agentApprovals
        )
    }

    /// The model in process, when installed. With a remote server configured its absence is
    /// no warning: the server embeds, and chunk sizes are estimated.
    private static func loadEmbedder(_ directory: URL, remote: Bool, logger: Logger) throws -> LocalSentenceEmbedder? {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path) else {
            if remote { return nil }
            logger.warning(
                "No embedding model is installed; search runs on BM25 alone until it is (scripts/setup.sh fetches it)",
                metadata: ["directory": "\(directory.path)"]
            )
            return nil
        }
        return try LocalSentenceEmbedder(modelDirectory: directory)
    }
}
