import ArgumentParser
import CairnCore
import CairnDocuments
import CairnIngest
import CairnJobs
import CairnRuntime
import CairnSearch
import CairnServer
import CairnStore
import Foundation
import Logging

struct IngestCommand: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Upload files (or every supported file under a folder) into a collection and ingest them, with progress.",
        discussion: """
            Acts as the tenant's local administrator on the configured database. The collection is created on first \
            use with the access policy given here as its default. Files whose bytes equal their latest version are left \
            as they are. Ingestion runs in this process (and in any worker that claims it first).
            """
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "Files or folders to ingest.")
    var paths: [String]

    @Option(help: "The collection's name.")
    var collection: String

    @OptionGroup var tenant: DefaultTenantOption

    @Option(help: "Classification: public, internal, confidential or restricted (default internal).")
    var classification: String?

    @Option(help: "A legal entity the documents are restricted to. Repeat for several.")
    var entity: [String] = []

    @Option(help: "A branch the documents are restricted to. Repeat for several.")
    var branch: [String] = []

    @Option(help: "A group the documents are restricted to. Repeat for several.")
    var group: [String] = []

    @Flag(help: "Approve each version once it is ready, so it is served and searchable at once.")
    var approve = false

    func run(settings: Settings, logger: Logger) async throws {
        let tenantName = try TenantName(tenant.tenant)
        let policy = DocumentAccessPolicy(
            classification: try classification.map { text throws(CairnError) -> Classification in try parseChoice(text, as: "a classification") }
                ?? .internal,
            entities: entity,
            branches: branch,
            groups: group
        )
        try policy.validate()
        let files = try Self.files(in: paths).map { IngestFile(url: $0, title: nil) }
        try await Self.ingest(files, tenant: tenantName, collection: collection, policy: policy, approve: approve, settings: settings, logger: logger)
    }

    /// A file to ingest, and its title when it should not default to the file's name.
    struct IngestFile {
        let url: URL
        let title: String?
    }

    /// Uploads `files` into `collection` (created with `policy` as its default on first use),
    /// runs their ingestion in this process, prints a line per file, and fails when any did.
    static func ingest(
        _ files: [IngestFile],
        tenant tenantName: TenantName,
        collection: String,
        policy: DocumentAccessPolicy,
        approve: Bool,
        settings: Settings,
        logger: Logger
    ) async throws {
        let runtime = try DocumentRuntime.load(settings, logger: logger)
        let worker = try settings.worker
        let queueLimits = try settings.queueLimits
        let outcomes = try await withStore(settings, logger: logger) { store in
            let tenant = try await store.tenants.existing(tenantName)
            let principal = Principal.localAdministrator(of: tenant)
            if try await !store.documents.collections(for: principal).contains(where: { $0.name == collection }) {
                _ = try await store.documents.createCollection(by: principal, name: collection, description: "", defaultPolicy: policy)
                print("Created collection \(collection).")
            }
            let library = runtime.services(store: store, tenantQueueCap: queueLimits.perTenant, logger: logger).library
            var outcomes: [(file: URL, outcome: Result<DocumentRepository.UploadOutcome, CairnError>)] = []
            for file in files {
                let incoming = DocumentLibrary.IncomingFile(bytes: FileChunks(url: file.url), fileName: file.url.lastPathComponent, mediaType: nil)
                let new = DocumentRepository.NewDocument(collection: collection, source: file.url.path, title: file.title, policy: policy)
                do {
                    outcomes.append((file.url, .success(try await library.upload(incoming, as: new, approve: approve, password: nil, by: principal))))
                } catch let error as CairnError {
                    outcomes.append((file.url, .failure(error)))
                }
            }
            let jobs = outcomes.compactMap { item -> JobID? in
                if case .success(.queued(_, _, let job)) = item.outcome { job.id } else { nil }
            }
            try await Self.runJobs(jobs, store: store, catalog: runtime.catalog(), worker: worker, principal: principal, logger: logger)
            return try await outcomes.asyncMap { file, outcome in
                switch outcome {
                case .failure(let error): (file, "failed: \(error.message)")
                case .success(.unchanged): (file, "unchanged (identical to its latest version)")
                case .success(.queued(let document, let version, _)):
                    (file, Self.describe(try await store.documents.detail(document.id, for: principal).1.first { $0.id == version.id }))
                }
            }
        }
        for (file, line) in outcomes { print("\(file.path): \(line)") }
        let failed = outcomes.filter { $0.1.hasPrefix("failed") }.count
        print("\(outcomes.count - failed) of \(outcomes.count) file\(outcomes.count == 1 ? "" : "s") ingested.")
        if failed > 0 { throw ExitCode.failure }
    }

    /// Runs a worker in this process until every job has finished, drawing a progress bar.
    private static func runJobs(
        _ ids: [JobID],
        store: CairnStore,
        catalog: JobCatalog,
        worker configuration: WorkerConfiguration,
        principal: Principal,
        logger: Logger
    ) async throws {
        guard !ids.isEmpty else { return }
        let worker = Worker(store: store, catalog: catalog, configuration: configuration, logger: logger)
        let progress = ProgressBar(total: ids.count)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            while true {
                var finished = 0
                var fraction = 0.0
                var message = ""
                for id in ids {
                    let job = try await store.jobs.get(id, for: principal)
                    if [.succeeded, .dead, .cancelled].contains(job.state) {
                        finished += 1
                        fraction += 1
                    } else {
                        fraction += job.progress
                        if job.state == .running { message = job.progressMessage ?? message }
                    }
                }
                progress.draw(done: finished, fraction: fraction / Double(ids.count), message: message)
                if finished == ids.count { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            progress.finish()
            group.cancelAll()
        }
    }

    private static func describe(_ version: DocumentVersion?) -> String {
        guard let version else { return "recorded" }
        switch version.processing {
        case .ready:
            let pages = version.pageCount.map { "\($0) page\($0 == 1 ? "" : "s"), " } ?? ""
            return
                "\(version.lifecycle == .approved ? "approved" : "ready (draft)"): version \(version.number), \(pages)\(version.chunkCount ?? 0) passages"
        case .failed: return "failed: \(version.failure ?? "no reason recorded")"
        case .processing: return "still processing (a worker will finish it)"
        case .purged: return "purged"
        }
    }

    /// The files named, with folders expanded to the supported files under them, sorted.
    static func files(in paths: [String]) throws(CairnError) -> [URL] {
        guard !paths.isEmpty else { throw CairnError(.invalidInput, "Name at least one file or folder to ingest.") }
        let supported: Set<String> = ["pdf", "docx", "html", "htm", "md", "markdown", "txt", "text"]
        var files: [URL] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CairnError(.notFound, "There is no file or folder at \(path).")
            }
            let url = URL(fileURLWithPath: path).standardizedFileURL
            if isDirectory.boolValue {
                let found = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
                files += found.filter { supported.contains($0.pathExtension.lowercased()) }.sorted { $0.path < $1.path }
            } else {
                files.append(url)
            }
        }
        guard !files.isEmpty else { throw CairnError(.invalidInput, "No PDF, DOCX, HTML, Markdown or text file was found there.") }
        return files
    }
}

/// A one-line progress bar on standard error, redrawn in place when it is a terminal.
private final class ProgressBar: Sendable {
    let total: Int
    private let isTerminal = isatty(STDERR_FILENO) != 0

    init(total: Int) { self.total = total }

    func draw(done: Int, fraction: Double, message: String) {
        guard isTerminal else { return }
        let width = 30
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "[\(bar)] \(done)/\(total) \(message.prefix(60))"
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// A file read in 1 MiB pieces, so an upload never holds it whole.
struct FileChunks: AsyncSequence {
    let url: URL

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        let url: URL

        mutating func next() async throws -> [UInt8]? {
            guard let handle else { throw CairnError(.notFound, "\(url.path) cannot be opened.") }
            let data = try handle.read(upToCount: 1 << 20) ?? Data()
            if data.isEmpty {
                try handle.close()
                return nil
            }
            return [UInt8](data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(handle: try? FileHandle(forReadingFrom: url), url: url)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

struct SearchCommand: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search a tenant's approved documents as its local administrator.",
        discussion: "Prints the best passages with their document, version and pages."
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "What to look for.")
    var query: String

    @Option(help: "hybrid, lexical or vector.")
    var mode: String = "hybrid"

    @Option(help: "How many hits (1–100).")
    var k: Int = 10

    @Option(help: "Only this collection.")
    var collection: String?

    @OptionGroup var tenant: DefaultTenantOption

    func run(settings: Settings, logger: Logger) async throws {
        let mode: SearchMode = try parseChoice(mode, as: "a search mode")
        let runtime = try DocumentRuntime.load(settings, logger: logger)
        let response = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
            let search = runtime.services(store: store, tenantQueueCap: 1, logger: logger).search
            return try await search.search(.init(query: query, k: k, collection: collection, mode: mode), by: administrator)
        }
        if let notice = response.notice { print("note: \(notice)") }
        if response.hits.isEmpty { print("No approved passage you can see matches.") }
        for (rank, hit) in response.hits.enumerated() {
            let pages = hit.firstPage == hit.lastPage ? "p. \(hit.firstPage)" : "pp. \(hit.firstPage)–\(hit.lastPage)"
            let found = hit.retrievers.map(\.rawValue).joined(separator: "+")
            print("\(rank + 1). \(hit.title) (version \(hit.versionNumber), \(pages)) score \(String(format: "%.4f", hit.score)) [\(found)]")
            if !hit.headingPath.isEmpty { print("   § \(hit.headingPath.joined(separator: " › "))") }
            let snippet = hit.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            print("   \(snippet.prefix(240))\(snippet.count > 240 ? "…" : "")")
        }
    }
}
