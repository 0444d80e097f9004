import CairnAPI
import CairnTestSupport
import Foundation
import NIOHTTP1
import Testing
import ZIPFoundation

/// Documents through the shipped binary: uploads over HTTP, ingestion by the workers inside
/// `cairn serve` on SQLite, and search, as an integrator sees them.
@Suite("Documents through the cairn process", .serialized)
struct DocumentProcessTests {
    let home = CairnProcess.temporaryHome()

    /// Workers that pick up work promptly; four ingestions at once.
    static let jobSettings = [
        "CAIRN_JOBS_POLL_MILLISECONDS": "200",
        "CAIRN_JOBS_CONCURRENCY": "4",
        "CAIRN_JOBS_TENANT_CONCURRENCY": "4",
    ]

    // MARK: The shared PDFs

    @Test(
        "Every shared PDF uploaded over HTTP ends ready (page counts as files.json says) or failed with one sentence; search cites real pages",
        .enabled(if: SharedPDFs.isPresent, "needs ../shared/data"),
        .timeLimit(.minutes(30))
    )
    func everySharedPDF() async throws {
        let folder = SharedPDFs.folder
        let corpus = SharedPDFs.corpus
        #expect(corpus.count >= 80, "found \(corpus.count) PDFs under \(folder.path)")
        let (server, api, admin) = try await start()
        defer { server.stop() }

        struct Upload {
            let key: String
            let path: String
            let document: String
            let version: String
        }
        var uploads: [Upload] = []
        var refused: Set<String> = []
        func upload(_ path: String, as key: String, password: String?) async throws {
            var metadata: [String: Any] = ["collection": "corpus", "approve": true, "source": key, "title": key, "mediaType": "application/pdf"]
            if let password { metadata["password"] = password }
            let bytes = try Data(contentsOf: folder.appendingPathComponent(path))
            let response = try await api.upload(metadata: metadata, fileName: (path as NSString).lastPathComponent, bytes: bytes, token: admin)
            if bytes.isEmpty {
                // pdfplumber's empty.pdf is 0 bytes: refused at the door, nothing recorded.
                #expect(response.expectProblem(422) == "The file is empty.", "\(key)")
                refused.insert(path)
                return
            }
            #expect(response.status == 202, "\(key): \(response)")
            guard response.status == 202 else { return }
            let result = try response.decode(Components.Schemas.UploadResult.self)
            #expect(result.job?.kind == "document.ingest", "\(key): \(response)")
            #expect(result.version.processing == .processing && result.version.lifecycle == .draft && result.version.format == .pdf)
            uploads.append(Upload(key: key, path: path, document: result.document.id, version: result.version.id))
        }
        for path in corpus {
            try await upload(path, as: path, password: SharedPDFs.passwords[path])
        }
        // The encrypted sample again, without its password: a document of its own (another source).
        let locked = "without-password/" + SharedPDFs.encryptedSample
        try await upload(SharedPDFs.encryptedSample, as: locked, password: nil)

        var settled: [String: Components.Schemas.DocumentVersion] = [:]
        do {
            try await eventually("every upload to finish processing", timeout: .seconds(25 * 60), interval: .seconds(1)) {
                () async throws -> Bool in
                for upload in uploads where settled[upload.key] == nil {
                    let detail = try await api.detail(upload.document, token: admin)
                    if let version = detail.versions.first(where: { $0.id == upload.version }), version.processing != .processing {
                        settled[upload.key] = version
                    }
                }
                return settled.count == uploads.count
            }
        } catch {
            Issue.record("Still processing: \(uploads.filter { settled[$0.key] == nil }.map(\.key))")
            throw error
        }

        let listedPages = SharedPDFs.listed.mapValues(\.pages)
        #expect(listedPages.count >= 30)
        var readyPages: [String: (version: String, pages: Int)] = [:]
        for upload in uploads {
            let version = try #require(settled[upload.key])
            #expect([.ready, .failed].contains(version.processing), "\(upload.key): \(version.processing)")
            if version.processing == .failed {
                #expect(isOneSentence(version.failure), "\(upload.key): the failure is not one sentence: \(version.failure ?? "nil")")
                if upload.key == locked {
                    #expect(version.failure == "The PDF is encrypted; give its password to open it.", "\(upload.key): \(version.failure ?? "nil")")
                } else if let expected = SharedPDFs.unreadable[upload.path] {
                    #expect(version.failure?.contains(expected) == true, "\(upload.key): \(version.failure ?? "nil")")
                } else if SharedPDFs.textless.contains(upload.path) {
                    #expect(
                        version.failure == "The document has no text, and none could be recognised in its images.",
                        "\(upload.key): \(version.failure ?? "nil")"
                    )
                } else {
                    Issue.record("\(upload.key) failed, though the parser reads it: \(version.failure ?? "nil")")
                }
                #expect(version.lifecycle == .draft, "\(upload.key): a failed version is never approved")
            } else {
                #expect(
                    SharedPDFs.unreadable[upload.path] == nil && !SharedPDFs.textless.contains(upload.path) && upload.key != locked,
                    "\(upload.key) became ready but must fail"
                )
                #expect(version.failure == nil)
                #expect(version.lifecycle == .approved, "\(upload.key) was uploaded with approve=true")
                #expect((version.chunks ?? 0) >= 1, "\(upload.key): ready with \(version.chunks ?? 0) chunks")
                let pages = version.pages ?? 0
                #expect(pages >= 1, "\(upload.key): ready with \(pages) pages")
                if let listed = listedPages[upload.path] {
                    #expect(pages == listed, "\(upload.key): \(pages) pages, files.json says \(listed)")
                }
                readyPages[upload.document] = (version.id, pages)
            }
        }
        for path in SharedPDFs.passwords.keys {
            #expect(
                uploads.contains { $0.key == path && settled[$0.key]?.processing == .ready },
                "\(path), uploaded with its password, is not ready"
            )
        }
        for path in SharedPDFs.unreadable.keys.sorted() + SharedPDFs.textless.sorted() {
            #expect(refused.contains(path) || uploads.contains { $0.key == path && settled[$0.key]?.processing == .failed }, "\(path) did not fail")
        }

        // A failed upload is not a dead end: the same bytes with the password that was missing
        // make a version that opens.
        let lockedDocument = try #require(uploads.first { $0.key == locked }?.document)
        let retry = try await api.upload(
            metadata: [
                "collection": "corpus", "approve": true, "source": locked, "password": SharedPDFs.passwords[SharedPDFs.encryptedSample] ?? "",
            ],
            fileName: "libreoffice-writer-password.pdf",
            bytes: try Data(contentsOf: folder.appendingPathComponent(SharedPDFs.encryptedSample)),
            token: admin
        )
        #expect(retry.status == 202, "re-uploading a failed version's bytes with its password: \(retry)")
        if retry.status == 202 {
            let result = try retry.decode(Components.Schemas.UploadResult.self)
            #expect(result.document.id == lockedDocument && result.version.number == 2)
            let version = try await api.settled(result.version.id, of: lockedDocument, token: admin)
            #expect(version.processing == .ready, "\(version.failure ?? "")")
            if version.processing == .ready, let pages = version.pages { readyPages[lockedDocument] = (version.id, pages) }
        }

        try await api.expectHealthy()
        #expect(try await api.send(.GET, "/readyz", token: nil).status == 200)

        // Search cites pages each document has, in the version that serves.
        var cited = 0
        for query in ["report", "data", "total", "lorem ipsum", "page", "information"] {
            for hit in try await api.hits(query, k: 50, token: admin) {
                cited += 1
                guard let ready = readyPages[hit.documentId] else {
                    Issue.record("'\(query)' found \(hit.title), which is not a ready upload")
                    continue
                }
                #expect(hit.versionId == ready.version, "\(hit.title): hit in version \(hit.versionId)")
                #expect(
                    1 <= hit.pages.first && hit.pages.first <= hit.pages.last && hit.pages.last <= ready.pages,
                    "\(hit.title): pages \(hit.pages) of \(ready.pages)"
                )
                let spansInside = hit.spans.allSatisfy { (hit.pages.first...hit.pages.last).contains($0.page) && $0.start < $0.end }
                #expect(!hit.spans.isEmpty && spansInside, "\(hit.title): spans \(hit.spans) for pages \(hit.pages)")
            }
        }
        #expect(cited > 0, "no search found anything in \(readyPages.count) ready documents")
        let failed = uploads.count - readyPages.count
        print("shared PDFs: \(readyPages.count) ready, \(failed) failed, \(refused.count) refused at upload; \(cited) search hits checked")
        // The cited text is where the span says, in the page as served.
        for hit in try await api.hits("report", k: 5, token: admin) {
            let span = try #require(hit.spans.first)
            let page = try await api.send(.GET, "/v1/documents/\(hit.documentId)/versions/\(hit.versionId)/pages/\(span.page)", token: admin)
            #expect(page.status == 200, "\(page)")
            let text = try page.decode(Components.Schemas.DocumentPage.self).text
            let scalars = Array(text.unicodeScalars)
            #expect(span.end <= scalars.count, "\(hit.title): span \(span) past the page's \(scalars.count) characters")
            guard span.end <= scalars.count else { continue }
            let cited = String(String.UnicodeScalarView(scalars[span.start..<span.end]))
            #expect(
                Self.words(hit.text).contains(Self.words(cited)),
                "\(hit.title) page \(span.page): the span's text '\(cited.prefix(120))' is not in the hit"
            )
        }
        try await api.expectHealthy()
    }

    /// The text with every run of whitespace made one space.
    private static func words(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    // MARK: Bad input

    @Test("Bad files are each refused with a problem or fail with a reason, and the server keeps serving what it stored", .timeLimit(.minutes(10)))
    func badInput() async throws {
        let limit = 1_500_000
        let (server, api, admin) = try await start(["CAIRN_UPLOAD_MAX_BYTES": String(limit)])
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-bad-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let baseline = try await api.uploadServing(
            "# Liquidity\n\nThe treasury desk files the liquidity coverage report every Tuesday.\n",
            named: "liquidity.md",
            token: admin
        )

        func upload(_ bytes: Data, named name: String, mediaType: String? = nil) async throws -> DocumentAPIClient.Response {
            var metadata: [String: Any] = ["collection": "policies", "approve": true]
            if let mediaType { metadata["mediaType"] = mediaType }
            return try await api.upload(metadata: metadata, fileName: name, bytes: bytes, token: admin)
        }

        // Refused at the door: nothing is recorded.
        #expect(try await upload(Data(), named: "empty.pdf").expectProblem(422) == "The file is empty.")
        let pdfAsDOCX = try await upload(Data(SharedPDFs.loopingPageTree.utf8), named: "contract.docx").expectProblem(422)
        #expect(pdfAsDOCX == "The file's content is PDF but its name says DOCX.")
        let htmlAsPDF = try await upload(
            Data("<!DOCTYPE html><html><body><p>Rates</p></body></html>".utf8),
            named: "rates.html",
            mediaType: "application/pdf"
        )
        #expect(htmlAsPDF.expectProblem(422) == "The file's content is HTML but its media type says PDF.")
        let fileFirst = try await api.upload(
            metadata: ["collection": "policies"],
            fileName: "notes.txt",
            bytes: Data("Notes.".utf8),
            token: admin,
            metadataFirst: false
        )
        #expect(fileFirst.expectProblem(422).contains("'metadata' part before the 'file' part"))
        // A null in the metadata part is refused as in a JSON body, before the file is read.
        let nullInMetadata = try await api.upload(
            metadata: ["collection": "policies", "policy": ["groups": NSNull()]],
            fileName: "notes.txt",
            bytes: Data("Notes.".utf8),
            token: admin
        )
        #expect(nullInMetadata.expectProblem(422).contains("/metadata/policy/groups is null"))
        // Over the limit by a little (the body's declared length is within the limit plus the
        // room left for the metadata part, so the blob store stops it) and by a lot (stopped
        // by its declared length before any of it is read): the same answer either way.
        for size in [limit + 100_000, limit + 2_000_000] {
            let response = try await upload(Data(repeating: UInt8(ascii: "a"), count: size), named: "large.txt")
            let detail = response.expectProblem(413)
            #expect(detail.contains(String(limit)), "a \(size)-byte upload: \(detail)")
        }

        // Accepted, then failed by ingestion with a reason.
        let bomb = try Self.zipBomb(in: folder)
        let failures = [
            ("bomb.docx", try Data(contentsOf: bomb), "zip bomb"),
            ("loop.pdf", Data(SharedPDFs.loopingPageTree.utf8), "page tree"),
        ]
        for (name, bytes, expected) in failures {
            let response = try await upload(bytes, named: name)
            #expect(response.status == 202, "\(name): \(response)")
            guard response.status == 202 else { continue }
            let result = try response.decode(Components.Schemas.UploadResult.self)
            let version = try await api.settled(result.version.id, of: result.document.id, token: admin, timeout: .seconds(180))
            #expect(version.processing == .failed, "\(name) became \(version.processing)")
            #expect(isOneSentence(version.failure), "\(name): \(version.failure ?? "nil")")
            #expect(version.failure?.contains(expected) == true, "\(name): \(version.failure ?? "nil")")
        }

        // Tens of thousands of scripts around one paragraph: the paragraph is the document.
        let scripts = String(repeating: "<script>zanzibarquux(1)</script>\n", count: 15_000)
        let page =
            "<!DOCTYPE html><html><head><title>Funding</title>\(scripts)</head><body>"
            + "<p>The overnight funding desk reconciles collateral positions before noon.</p>\(scripts)</body></html>"
        #expect(page.utf8.count < limit)
        let scripted = try await upload(Data(page.utf8), named: "funding.html")
        #expect(scripted.status == 202, "\(scripted)")
        let scriptedResult = try scripted.decode(Components.Schemas.UploadResult.self)
        let scriptedVersion = try await api.settled(scriptedResult.version.id, of: scriptedResult.document.id, token: admin, timeout: .seconds(180))
        #expect(scriptedVersion.processing == .ready, "\(scriptedVersion.failure ?? "")")
        #expect(try await api.hits("collateral positions", token: admin).map(\.documentId) == [scriptedResult.document.id])
        #expect(try await api.hits("zanzibarquux", token: admin).isEmpty, "a word only inside <script> was indexed")

        // Still serving, and what was stored before is all still there.
        try await api.expectHealthy()
        #expect(try await api.hits("liquidity coverage", token: admin).map(\.documentId) == [baseline])
        let listed = try await api.send(.GET, "/v1/documents", token: admin).decode(Components.Schemas.DocumentList.self).documents
        #expect(listed.count == 4, "the baseline, the bomb, the loop and the scripts; refused uploads record nothing: \(listed.map(\.title))")
        let serverErrors = server.stderr.split(separator: "\n").filter { $0.contains(#""http.status":"5"#) }
        #expect(serverErrors.isEmpty, "bad input is not a server error: \(serverErrors)")
    }

    // MARK: Lifecycle

    @Test(
        "A document's life over HTTP: draft, approved, a new version, an unchanged re-upload, retired, deleted and purged, all audited",
        .timeLimit(.minutes(10))
    )
    func lifecycle() async throws {
        let (server, api, admin) = try await start(model: true)
        defer { server.stop() }
        let viewer = try await api.createKey(named: "viewer", roles: [.viewer], token: admin)
        let curator = try await api.createKey(named: "curator", roles: [.curator], token: admin)
        let first = "# Retention\n\nCustomer records are kept for seven years after the account closes; the aardvark register is kept for ten.\n"
        let second = "# Retention\n\nCustomer records are kept for eight years after the account closes; the pangolin register is kept for twelve.\n"

        // v1 without approve: a draft only a curator finds, and only when asking for drafts.
        let uploaded = try await api.upload(metadata: ["collection": "policies"], fileName: "retention.md", bytes: Data(first.utf8), token: curator)
        #expect(uploaded.status == 202, "\(uploaded)")
        let v1 = try uploaded.decode(Components.Schemas.UploadResult.self)
        let document = v1.document.id
        #expect(v1.version.number == 1 && v1.version.format == .markdown)
        let readyDraft = try await api.settled(v1.version.id, of: document, token: curator)
        #expect(readyDraft.processing == .ready && readyDraft.lifecycle == .draft, "\(readyDraft)")
        #expect(try await api.hits("retention records", token: viewer).isEmpty, "a viewer found a draft")
        #expect(try await api.hits("retention records", token: curator).isEmpty, "a draft was found without asking for drafts")
        let drafts = try await api.hits("retention records", includeDrafts: true, token: curator)
        #expect(drafts.map(\.documentId) == [document] && drafts.allSatisfy { $0.version == 1 })
        try await api.search("retention records", includeDrafts: true, token: viewer).expectProblem(403)
        // A collection named in a request that names none is a flaw in the request, not a missing route.
        try await api.send(.POST, "/v1/search", token: viewer, json: ["query": "retention", "collection": "nowhere"]).expectProblem(422)
        let misfiled = try await api.upload(metadata: ["collection": "nowhere"], fileName: "retention.md", bytes: Data(first.utf8), token: curator)
        misfiled.expectProblem(422)
        try await api.send(.POST, "/v1/documents/\(document)/approve", token: viewer).expectProblem(403)

        // Approved: everyone finds it.
        let approved = try await api.send(.POST, "/v1/documents/\(document)/approve", token: curator)
        #expect(approved.status == 200, "\(approved)")
        #expect(try approved.decode(Components.Schemas.Document.self).activeVersionId == v1.version.id)
        #expect(try await api.hits("aardvark register", token: viewer).map(\.version) == [1])
        if ProcessInfo.processInfo.environment["CAIRN_TEST_MODEL_DIR"] != nil {
            let response = try await api.client(viewer).searchDocuments(body: .json(.init(query: "aardvark register"))).ok.body.json
            #expect(
                response.mode == .hybrid && response.notice == nil,
                "the test model is linked in, so search is hybrid: \(response.mode) \(response.notice ?? "")"
            )
        }

        // v2 with approve: v1 serves until v2 is ready, then only v2.
        let replaced = try await api.upload(
            to: "/v1/documents/\(document)/versions",
            metadata: ["approve": true],
            fileName: "retention.md",
            bytes: Data(second.utf8),
            token: curator
        )
        #expect(replaced.status == 202, "\(replaced)")
        let v2 = try replaced.decode(Components.Schemas.UploadResult.self)
        #expect(v2.document.id == document && v2.version.number == 2)
        var seenWhileProcessing = 0
        try await eventually("version 2 to be ready", timeout: .seconds(120), interval: .milliseconds(250)) { () async throws -> Bool in
            let hits = try await api.hits("retention records", token: viewer)
            let now = try await api.detail(document, token: curator).versions.first { $0.id == v2.version.id }
            if now?.processing == .processing {
                seenWhileProcessing += 1
                #expect(hits.map(\.versionId) == [v1.version.id], "while version 2 is processing, version 1 serves: \(hits.map(\.version))")
                return false
            }
            #expect(now?.processing == .ready, "\(now?.failure ?? "")")
            return true
        }
        print("lifecycle: \(seenWhileProcessing) searches ran while version 2 was processing")
        let afterSwitch = try await api.hits("retention records", token: viewer)
        #expect(afterSwitch.map(\.versionId) == [v2.version.id], "\(afterSwitch.map(\.version))")
        // (Lexical: vector search finds the nearest passage whatever the words.)
        #expect(try await api.hits("aardvark", mode: .lexical, token: viewer).isEmpty, "the replaced version is still searchable")
        #expect(
            try await api.hits("aardvark", token: viewer).allSatisfy { $0.versionId == v2.version.id },
            "the replaced version is still searchable"
        )
        #expect(try await api.hits("pangolin", mode: .lexical, token: viewer).map(\.version) == [2])
        let detail = try await api.detail(document, token: curator)
        #expect(detail.document.activeVersionId == v2.version.id)
        #expect(detail.versions.map(\.lifecycle) == [.approved, .retired], "newest first: \(detail.versions.map(\.lifecycle))")

        // The same bytes again, as a version or as the same source: nothing new, no job.
        for (path, metadata) in [
            ("/v1/documents/\(document)/versions", ["approve": true] as [String: Any]),
            ("/v1/documents", ["collection": "policies", "approve": true]),
        ] {
            let again = try await api.upload(to: path, metadata: metadata, fileName: "retention.md", bytes: Data(second.utf8), token: curator)
            #expect(again.status == 200, "\(path): \(again)")
            let unchanged = try again.decode(Components.Schemas.UploadResult.self)
            #expect(unchanged.job == nil && unchanged.version.id == v2.version.id && unchanged.document.id == document)
        }
        #expect(try await api.detail(document, token: curator).versions.count == 2)

        // Retired: gone from search for everyone, drafts included.
        let retired = try await api.send(.POST, "/v1/documents/\(document)/retire", token: curator)
        #expect(retired.status == 200, "\(retired)")
        #expect(try retired.decode(Components.Schemas.Document.self).state == .retired)
        #expect(try await api.hits("pangolin register", token: viewer).isEmpty)
        #expect(try await api.hits("pangolin register", includeDrafts: true, token: curator).isEmpty)

        // Deleted: a purge job that succeeds and leaves no content.
        let deleted = try await api.send(.DELETE, "/v1/documents/\(document)", token: curator)
        #expect(deleted.status == 202, "\(deleted)")
        let purge = try deleted.decode(Components.Schemas.Job.self)
        #expect(purge.kind == "document.purge")
        let finished = try await eventually("the purge job to finish", timeout: .seconds(60), interval: .milliseconds(250)) {
            () async throws -> Components.Schemas.Job? in
            let job = try await api.send(.GET, "/v1/jobs/\(purge.id)", token: admin).decode(Components.Schemas.Job.self)
            return [.queued, .running].contains(job.state) ? nil : job
        }
        #expect(finished.state == .succeeded, "\(finished.errors.map(\.message))")
        let purged = try await api.send(.GET, "/v1/documents/\(document)", token: admin)
        if purged.status == 200 {
            #expect(try purged.decode(Components.Schemas.DocumentDetail.self).versions.allSatisfy { $0.processing == .purged }, "\(purged)")
            let page = try await api.send(.GET, "/v1/documents/\(document)/versions/\(v2.version.id)/pages/1", token: admin)
            page.expectProblem(404)
        } else {
            purged.expectProblem(404)
        }

        // The audit trail holds each step, by who took it.
        let audit = try await api.send(.GET, "/v1/audit?limit=500", token: admin)
        #expect(audit.status == 200, "\(audit)")
        let events = try audit.decode(Components.Schemas.AuditPage.self).events.filter { $0.targetId == document }
        let actions = events.map(\.action)
        for action in ["document.create", "document.version.upload", "document.version.approve", "document.retire", "document.delete"] {
            #expect(actions.contains(action), "no \(action) in the audit trail of document \(document): \(actions)")
        }
        #expect(actions.filter { $0 == "document.version.approve" }.count == 2, "v1 by the curator's call, v2 once ready: \(actions)")
        #expect(actions.filter { $0 == "document.version.upload" }.count >= 1, "\(actions)")
        #expect(events.allSatisfy { $0.actor == "api_key:curator" }, "\(events.map { "\($0.action) by \($0.actor)" })")
        try await api.expectHealthy()
    }

    // MARK: Helpers

    /// Starts `cairn serve` on this test's home with tenant `northbank`, its admin key and the
    /// collections `corpus` and `policies`. `model` links the test embedding model in, when
    /// `CAIRN_TEST_MODEL_DIR` names one, for hybrid search; otherwise the server is lexical-only.
    private func start(_ environment: [String: String] = [:], model: Bool = false) async throws -> (CairnProcess, DocumentAPIClient, String) {
        if model, let directory = ProcessInfo.processInfo.environment["CAIRN_TEST_MODEL_DIR"] { try CairnProcess.linkModel(directory, into: home) }
        let admin = try await bootstrapTenant(home: home)
        let server = try await CairnProcess(
            serveWith: ["CAIRN_HOME": home].merging(Self.jobSettings) { _, new in new }.merging(environment) { _, new in new }
        )
        let api = DocumentAPIClient(port: server.port)
        for name in ["corpus", "policies"] { try await api.createCollection(name, token: admin) }
        return (server, api, admin)
    }

    /// A DOCX whose document.xml is one paragraph and 64 MiB of spaces, about 64 KiB deflated:
    /// far past the 100:1 ratio Cairn allows a part.
    private static func zipBomb(in folder: URL) throws -> URL {
        let head = Data(
            (#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#
                + #"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Bomb"#).utf8
        )
        let tail = Data("</w:t></w:r></w:p></w:body></w:document>".utf8)
        let padding = 64 << 20
        let file = folder.appendingPathComponent("bomb.docx")
        let archive = try Archive(url: file, accessMode: .create)
        let size = Int64(head.count + padding + tail.count)
        try archive.addEntry(with: "word/document.xml", type: .file, uncompressedSize: size, compressionMethod: .deflate) { position, length in
            // Streamed: the padding never exists in memory all at once.
            Data(
                (Int(position)..<(Int(position) + length)).map { offset in
                    if offset < head.count { return head[offset] }
                    if offset >= head.count + padding { return tail[offset - head.count - padding] }
                    return 0x20
                }
            )
        }
        let types = Data(
            (#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
                + #"<Override PartName="/word/document.xml" "#
                + #"ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).utf8
        )
        try archive.addEntry(with: "[Content_Types].xml", type: .file, uncompressedSize: Int64(types.count), compressionMethod: .deflate) {
            position,
            length in
            types.subdata(in: Int(position)..<(Int(position) + length))
        }
        return file
    }
}
