import CairnCore
import CairnDocuments
import CairnGateway
import CairnJobs
import CairnSearch
import CairnStore
import Foundation

/// What each agent tool is to the model (its definition) and what calling it does.
///
/// Every tool acts as the run's starter: search is filtered by their access, a page or a
/// document they may not see is "not found", exactly as through the API. Results are JSON,
/// which the model reads as data.
struct AgentToolbox: Sendable {
    let store: CairnStore
    let search: SearchService
    private let screen = InjectionScreen()

    init(store: CairnStore, search: SearchService) {
        self.store = store
        self.search = search
    }

    /// The definitions the model is offered: the run's tools, nothing else.
    static func definitions(_ tools: [AgentTool]) -> [ToolDefinition] {
        tools.map { tool in
            ToolDefinition(function: .init(name: tool.rawValue, description: description(of: tool), parameters: parameters(of: tool)))
        }
    }

    /// A tool's result, with the guardrail decisions made about it.
    struct Result: Sendable {
        let output: String
        let guardrails: [AnswerTrace.GuardrailDecision]
        /// Whether the tool said the call could not be made (bad arguments, nothing found).
        let failed: Bool
    }

    /// The document and reason of a `propose_document_review` call, checked when the model makes
    /// the call (so one that could never be made is refused before anyone is asked to approve
    /// it) and again when the approved call is made.
    func proposal(_ arguments: String, as principal: Principal) async throws -> (document: DocumentID, reason: String) {
        let arguments = try Arguments(arguments)
        let document = try arguments.documentID("document_id")
        let reason = try arguments.text("reason", maximumLength: 2000)
        do {
            _ = try await store.documents.detail(document, for: principal)
        } catch let error as CairnError where error.code == .notFound {
            throw AgentToolError("There is no document \(document) you may see.")
        }
        return (document, reason)
    }

    /// Makes a read-only call. Errors the model can act on come back as a failed result;
    /// anything else (the database is down) is thrown, and the step is tried again later.
    func read(_ tool: AgentTool, arguments text: String, as principal: Principal) async throws -> Result {
        do {
            let arguments = try Arguments(text)
            switch tool {
            case .searchDocuments:
                return try await searchDocuments(arguments, as: principal)
            case .readDocumentPage:
                return try await readPage(arguments, as: principal)
            case .listDocuments:
                let collection = try arguments.optionalText("collection", maximumLength: 100)
                let page = try await store.documents.list(for: principal, collection: collection, limit: 50)
                let documents = page.items.map { ListedDocument(documentId: $0.id.description, title: $0.title, tags: $0.tags) }
                return Result(output: try Self.json(documents), guardrails: [], failed: false)
            case .getJobStatus:
                let id = try arguments.text("job_id", maximumLength: 100)
                guard let jobID = JobID(id) else { throw AgentToolError("There is no job \(id).") }
                let job = try await store.jobs.get(jobID, for: principal)
                return Result(
                    output: try Self.json(JobStatus(jobId: job.id.description, kind: job.kind, state: job.state.rawValue, attempt: job.attempt)),
                    guardrails: [],
                    failed: false
                )
            case .proposeDocumentReview:
                throw AgentToolError("propose_document_review changes state and is made only after approval.")
            }
        } catch let error as AgentToolError {
            return Result(output: try Self.json(["error": error.message]), guardrails: [], failed: true)
        } catch let error as CairnError where [.notFound, .invalidInput, .forbidden].contains(error.code) {
            return Result(output: try Self.json(["error": error.message]), guardrails: [], failed: true)
        }
    }

    private func searchDocuments(_ arguments: Arguments, as principal: Principal) async throws -> Result {
        let query = try arguments.text("query", maximumLength: 2000)
        let collection = try arguments.optionalText("collection", maximumLength: 100)
        let hits = try await search.search(SearchService.Request(query: query, k: 5, collection: collection, mode: .hybrid), by: principal).hits
        let excerpts = hits.map { hit in
            excerpt(
                of: hit.documentID,
                title: hit.title,
                firstPage: hit.firstPage,
                lastPage: hit.lastPage,
                text: hit.text,
                subject: "passage \(hit.chunkID)"
            )
        }
        return Result(output: try Self.json(excerpts.map(\.excerpt)), guardrails: excerpts.compactMap(\.flag), failed: false)
    }

    private func readPage(_ arguments: Arguments, as principal: Principal) async throws -> Result {
        let id = try arguments.documentID("document_id")
        let number = try arguments.integer("page", in: 1...100_000)
        let (document, _) = try await store.documents.detail(id, for: principal)
        guard let version = document.activeVersionID else { throw AgentToolError("Document \(id) has no approved version.") }
        let page = try await store.documents.page(number, of: version, for: principal)
        let read = excerpt(of: id, title: document.title, firstPage: number, lastPage: number, text: page.text, subject: "page \(number) of \(id)")
        return Result(output: try Self.json(read.excerpt), guardrails: read.flag.map { [$0] } ?? [], failed: false)
    }

    /// Document text as a tool returns it, marked when the injection screen flags it.
    private struct Excerpt: Encodable {
        let documentId: String
        let title: String
        let firstPage: Int
        let lastPage: Int
        let text: String
        let flaggedAsInjection: Bool
    }

    /// `text` screened for injection, and the guardrail decision naming `subject` when flagged.
    /// A flagged text is returned all the same: it may be evidence. The flag is for the people
    /// reading the run, and what a tool returns can never widen the run's tools.
    private func excerpt(
        of document: DocumentID,
        title: String,
        firstPage: Int,
        lastPage: Int,
        text: String,
        subject: String
    ) -> (excerpt: Excerpt, flag: AnswerTrace.GuardrailDecision?) {
        let verdict = screen.screen(text)
        let excerpt = Excerpt(
            documentId: document.description,
            title: title,
            firstPage: firstPage,
            lastPage: lastPage,
            text: text,
            flaggedAsInjection: verdict.flagged
        )
        return (excerpt, verdict.decision(about: subject))
    }

    private struct ListedDocument: Encodable {
        let documentId: String
        let title: String
        let tags: [String]
    }

    private struct JobStatus: Encodable {
        let jobId: String
        let kind: String
        let state: String
        let attempt: Int
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func description(of tool: AgentTool) -> String {
        switch tool {
        case .searchDocuments: "Search the approved documents you may see; returns the best passages with their document ids, titles and pages."
        case .readDocumentPage: "Read one page of a document's approved version."
        case .listDocuments: "List the documents you may see, optionally in one collection."
        case .getJobStatus: "Get the state of a background job by its id."
        case .proposeDocumentReview: "Propose that people review a document, giving the reason. A person must approve the call before it is made."
        }
    }

    private static func parameters(of tool: AgentTool) -> JSONValue {
        let text = JSONValue.object(["type": .string("string")])
        switch tool {
        case .searchDocuments:
            return schema(["query": text, "collection": text], required: ["query"])
        case .readDocumentPage:
            return schema(
                ["document_id": text, "page": .object(["type": .string("integer"), "minimum": .number(1)])],
                required: ["document_id", "page"]
            )
        case .listDocuments:
            return schema(["collection": text], required: [])
        case .getJobStatus:
            return schema(["job_id": text], required: ["job_id"])
        case .proposeDocumentReview:
            return schema(["document_id": text, "reason": text], required: ["document_id", "reason"])
        }
    }

    private static func schema(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        .object([
            "type": .string("object"), "properties": .object(properties), "required": .array(required.map(JSONValue.string)),
            "additionalProperties": .bool(false),
        ])
    }
}

/// Why a tool call cannot be made, as the model is told.
struct AgentToolError: Error, Sendable {
    let message: String

    init(_ message: String) { self.message = message }
}

/// A tool call's arguments: the JSON object the model wrote, read field by field.
struct Arguments: Sendable {
    private let fields: [String: JSONValue]

    init(_ text: String) throws(AgentToolError) {
        guard
            let data = text.data(using: .utf8), text.utf8.count <= 16_384,
            case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { throw AgentToolError("The arguments must be a JSON object.") }
        self.fields = fields
    }

    func text(_ name: String, maximumLength: Int) throws(AgentToolError) -> String {
        guard let value = try optionalText(name, maximumLength: maximumLength) else { throw AgentToolError("The argument '\(name)' is required.") }
        return value
    }

    func optionalText(_ name: String, maximumLength: Int) throws(AgentToolError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?:
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= maximumLength else {
                throw AgentToolError("The argument '\(name)' must be 1–\(maximumLength) characters.")
            }
            return trimmed
        default: throw AgentToolError("The argument '\(name)' must be a string.")
        }
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(AgentToolError) -> Int {
        guard case .number(let value)? = fields[name], value.rounded() == value, let integer = Int(exactly: value), range.contains(integer) else {
            throw AgentToolError("The argument '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound).")
        }
        return integer
    }

    func documentID(_ name: String) throws(AgentToolError) -> DocumentID {
        let text = try text(name, maximumLength: 100)
        guard let id = DocumentID(text) else { throw AgentToolError("There is no document \(text).") }
        return id
    }
}
