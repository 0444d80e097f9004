import CairnAPI
import CairnCore
import CairnDocuments
import CairnIngest
import CairnSearch
import CairnStore
import Foundation
import OpenAPIRuntime

// Collections, documents, versions and search.
extension APIHandlers {
    func listCollections(_ input: Operations.ListCollections.Input) async throws -> Operations.ListCollections.Output {
        let collections = try await store.documents.collections(for: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(collections: collections.map(Components.Schemas.Collection.init)))))
    }

    func createCollection(_ input: Operations.CreateCollection.Input) async throws -> Operations.CreateCollection.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let collection = try await store.documents.createCollection(
            by: try RequestCaller.principal(),
            name: body.name,
            description: body.description ?? "",
            defaultPolicy: body.defaultPolicy.map(\.domain) ?? DocumentAccessPolicy()
        )
        return .created(.init(body: .json(.init(collection))))
    }

    func listDocuments(_ input: Operations.ListDocuments.Input) async throws -> Operations.ListDocuments.Output {
        let page = try await store.documents.list(
            for: try RequestCaller.principal(),
            collection: input.query.collection,
            limit: input.query.limit ?? 100,
            after: input.query.cursor
        )
        return .ok(.init(body: .json(.init(documents: page.items.map(Components.Schemas.Document.init), nextCursor: page.nextCursor))))
    }

    func uploadDocument(_ input: Operations.UploadDocument.Input) async throws -> Operations.UploadDocument.Output {
        guard case .multipartForm(let parts) = input.body else { throw Self.unsupportedBody }
        let principal = try RequestCaller.principal()
        var metadata: Components.Schemas.DocumentUpload?
        var outcome: DocumentRepository.UploadOutcome?
        var iterator = parts.makeAsyncIterator()
        while let part = try await Self.nextPart(&iterator) {
            switch part {
            case .metadata(let part):
                metadata = part.payload.body
            case .file(let part):
                guard let metadata else { throw Self.metadataFirst }
                guard outcome == nil else { throw Self.oneFile }
                let new = DocumentRepository.NewDocument(
                    collection: metadata.collection,
                    source: metadata.source,
                    title: metadata.title,
                    tags: metadata.tags ?? [],
                    policy: metadata.policy.map(\.domain)
                )
                outcome = try await documents.library.upload(
                    Self.incoming(part, mediaType: metadata.mediaType),
                    as: new,
                    approve: metadata.approve ?? false,
                    password: metadata.password,
                    by: principal
                )
            case .undocumented(let part):
                // Unknown parts are read past (the stream must be drained to reach the next).
                for try await _ in part.body {}
            }
        }
        guard let outcome else { throw CairnError(.invalidInput, "The upload has no 'file' part.") }
        let result = try Components.Schemas.UploadResult(outcome)
        return if case .queued = outcome { .accepted(.init(body: .json(result))) } else { .ok(.init(body: .json(result))) }
    }

    func uploadDocumentVersion(_ input: Operations.UploadDocumentVersion.Input) async throws -> Operations.UploadDocumentVersion.Output {
        guard case .multipartForm(let parts) = input.body else { throw Self.unsupportedBody }
        let id = try Self.documentID(input.path.documentId)
        let principal = try RequestCaller.principal()
        var metadata = Components.Schemas.VersionUpload()
        var outcome: DocumentRepository.UploadOutcome?
        var iterator = parts.makeAsyncIterator()
        while let part = try await Self.nextPart(&iterator) {
            switch part {
            case .metadata(let part):
                guard outcome == nil else { throw Self.metadataFirst }
                metadata = part.payload.body
            case .file(let part):
                guard outcome == nil else { throw Self.oneFile }
                outcome = try await documents.library.uploadVersion(
                    Self.incoming(part, mediaType: metadata.mediaType),
                    of: id,
                    approve: metadata.approve ?? false,
                    password: metadata.password,
                    by: principal
                )
            case .undocumented(let part):
                for try await _ in part.body {}
            }
        }
        guard let outcome else { throw CairnError(.invalidInput, "The upload has no 'file' part.") }
        let result = try Components.Schemas.UploadResult(outcome)
        return if case .queued = outcome { .accepted(.init(body: .json(result))) } else { .ok(.init(body: .json(result))) }
    }

    func getDocument(_ input: Operations.GetDocument.Input) async throws -> Operations.GetDocument.Output {
        let (document, versions) = try await store.documents.detail(try Self.documentID(input.path.documentId), for: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(document: .init(document), versions: versions.map(Components.Schemas.DocumentVersion.init)))))
    }

    func getDocumentPage(_ input: Operations.GetDocumentPage.Input) async throws -> Operations.GetDocumentPage.Output {
        let principal = try RequestCaller.principal()
        let documentID = try Self.documentID(input.path.documentId)
        guard let versionID = DocumentVersionID(input.path.versionId) else {
            throw CairnError(.invalidInput, "'\(input.path.versionId.prefix(80))' is not a version id (a UUID).")
        }
        let (_, versions) = try await store.documents.detail(documentID, for: principal)
        guard versions.contains(where: { $0.id == versionID }) else {
            throw CairnError(.notFound, "Version \(versionID) of document \(documentID) does not exist.")
        }
        let page = try await store.documents.page(input.path.page, of: versionID, for: principal)
        return .ok(
            .init(
                body: .json(
                    .init(
                        number: page.number,
                        text: page.text,
                        source: page.source == "ocr" ? .ocr : .textLayer,
                        width: page.width,
                        height: page.height
                    )
                )
            )
        )
    }

    func approveDocument(_ input: Operations.ApproveDocument.Input) async throws -> Operations.ApproveDocument.Output {
        let document = try await store.documents.approve(try Self.documentID(input.path.documentId), by: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(document))))
    }

    func retireDocument(_ input: Operations.RetireDocument.Input) async throws -> Operations.RetireDocument.Output {
        let document = try await store.documents.retire(try Self.documentID(input.path.documentId), by: try RequestCaller.principal())
        return .ok(.init(body: .json(.init(document))))
    }

    func deleteDocument(_ input: Operations.DeleteDocument.Input) async throws -> Operations.DeleteDocument.Output {
        let (_, job) = try await documents.library.delete(try Self.documentID(input.path.documentId), by: try RequestCaller.principal())
        return .accepted(.init(body: .json(try .init(job))))
    }

    func searchDocuments(_ input: Operations.SearchDocuments.Input) async throws -> Operations.SearchDocuments.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        if let weight = body.fusion?.vectorWeight, !(0...1).contains(weight) {
            throw CairnError(.invalidInput, "fusion.vectorWeight must be between 0 and 1.")
        }
        let documentIDs = try body.filters?.documents?.map { text throws(CairnError) -> DocumentID in try Self.documentID(text) }
        let fusion: Fusion =
            switch body.fusion?.method {
            case .weighted: .weighted(vectorWeight: body.fusion?.vectorWeight ?? 0.5)
            case .rrf, nil: .standard
            }
        let request = SearchService.Request(
            query: body.query,
            k: body.k ?? 10,
            collection: body.collection,
            mode: SearchMode(rawValue: body.mode?.rawValue ?? "hybrid") ?? .hybrid,
            fusion: fusion,
            documents: documentIDs,
            tags: body.filters?.tags ?? [],
            includeDrafts: body.filters?.includeDrafts ?? false
        )
        let response = try await documents.search.search(request, by: try RequestCaller.principal())
        return .ok(.init(body: .json(try .init(response))))
    }

    private static func incoming(
        _ part: MultipartPart<Operations.UploadDocument.Input.Body.MultipartFormPayload.FilePayload>,
        mediaType: String?
    ) -> DocumentLibrary.IncomingFile<some AsyncSequence<[UInt8], any Error>> {
        DocumentLibrary.IncomingFile(bytes: part.payload.body.map { Array($0) }, fileName: part.filename ?? "upload", mediaType: mediaType)
    }

    private static func incoming(
        _ part: MultipartPart<Operations.UploadDocumentVersion.Input.Body.MultipartFormPayload.FilePayload>,
        mediaType: String?
    ) -> DocumentLibrary.IncomingFile<some AsyncSequence<[UInt8], any Error>> {
        DocumentLibrary.IncomingFile(bytes: part.payload.body.map { Array($0) }, fileName: part.filename ?? "upload", mediaType: mediaType)
    }

    /// The next part of a multipart upload. The runtime decodes parts as they are read, so a
    /// malformed body (a metadata part that is not the schema's JSON, a missing required part,
    /// broken framing) surfaces here, mid-handler, where it is the client's error.
    static func nextPart<Iterator: AsyncIteratorProtocol>(_ iterator: inout Iterator) async throws -> Iterator.Element? {
        do {
            return try await iterator.next()
        } catch let error as CairnError {
            throw error
        } catch let error as DecodingError {
            throw CairnError(.invalidInput, "The 'metadata' part does not match the API's schema (\(Self.describe(error))).", underlying: error)
        } catch {
            throw CairnError(
                .invalidInput,
                "The upload is not a valid multipart/form-data body: \(String(describing: error).prefix(200))",
                underlying: error
            )
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "the part is not a JSON object" : "'\(path)' has the wrong type or is missing"
        @unknown default:
            return "it cannot be decoded"
        }
    }

    private static var metadataFirst: CairnError {
        CairnError(.invalidInput, "Send the 'metadata' part before the 'file' part: the file is stored as it arrives.")
    }

    private static var oneFile: CairnError { CairnError(.invalidInput, "An upload carries one 'file' part.") }

    static func documentID(_ text: String) throws(CairnError) -> DocumentID {
        guard let id = DocumentID(text) else { throw CairnError(.invalidInput, "'\(text.prefix(80))' is not a document id (a UUID).") }
        return id
    }
}
