import AsyncHTTPClient
import CairnAPI
import CairnAPIClient
import CairnServer
import CairnTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The document routes of a running `cairn serve`, called over HTTP as an integrator would:
/// JSON bodies, multipart uploads with the `metadata` part first, bearer keys.
struct DocumentAPIClient: Sendable {
    let port: Int

    /// Reads the API's JSON as the server writes it: times through the server's own transcoder.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try FlexibleISO8601DateTranscoder().decode(try decoder.singleValueContainer().decode(String.self))
        }
        return decoder
    }()

    /// A response as it arrived.
    struct Response: Sendable, CustomStringConvertible {
        let status: UInt
        let contentType: String
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }

        var description: String { "\(status) \(contentType) \(text.prefix(600))" }

        /// The body decoded as `Value`, usually a type generated from `openapi.yaml`
        /// (`Components.Schemas.…`); a body that does not decode fails the test with the body.
        func decode<Value: Decodable>(_: Value.Type = Value.self, sourceLocation: SourceLocation = #_sourceLocation) throws -> Value {
            do {
                return try DocumentAPIClient.decoder.decode(Value.self, from: body)
            } catch {
                Issue.record("Could not decode \(Value.self) from \(self): \(error)", sourceLocation: sourceLocation)
                throw error
            }
        }

        /// Expects an RFC 9457 problem with `status` and a one-sentence detail; returns the detail.
        @discardableResult
        func expectProblem(_ status: UInt, sourceLocation: SourceLocation = #_sourceLocation) -> String {
            #expect(self.status == status, "\(self)", sourceLocation: sourceLocation)
            #expect(contentType.hasPrefix("application/problem+json"), "\(self)", sourceLocation: sourceLocation)
            let problem = try? JSONDecoder().decode(Components.Schemas.Problem.self, from: body)
            #expect(problem?.status == Int(status), "\(self)", sourceLocation: sourceLocation)
            #expect(isOneSentence(problem?.detail), "the detail is not one sentence: \(self)", sourceLocation: sourceLocation)
            return problem?.detail ?? ""
        }
    }

    /// Sends a request with an optional JSON body (a `JSONSerialization` object).
    func send(_ method: HTTPMethod, _ path: String, token: String?, json: Any? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        return try await execute(request)
    }

    /// `POST`s `bytes` as the `file` part after a `metadata` part holding `metadata` (or before
    /// it, to break the contract), to `/v1/documents` or a document's `/versions`.
    func upload(
        to path: String = "/v1/documents",
        metadata: [String: Any],
        fileName: String,
        bytes: Data,
        token: String,
        metadataFirst: Bool = true
    ) async throws -> Response {
        let boundary = "cairn-test-\(UUID().uuidString)"
        var metadataPart = Data("Content-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n".utf8)
        metadataPart.append(try JSONSerialization.data(withJSONObject: metadata))
        var filePart = Data(
            "Content-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8
        )
        filePart.append(bytes)
        var body = Data()
        for part in metadataFirst ? [metadataPart, filePart] : [filePart, metadataPart] {
            body.append(Data("--\(boundary)\r\n".utf8))
            body.append(part)
            body.append(Data("\r\n".utf8))
        }
        body.append(Data("--\(boundary)--\r\n".utf8))
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await execute(request)
    }

    private func execute(_ request: HTTPClientRequest) async throws -> Response {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 1 << 24)
        return Response(
            status: response.status.code,
            contentType: response.headers.first(name: "Content-Type") ?? "",
            body: Data(body.readableBytesView)
        )
    }

    // MARK: Calls the tests make often, through the client generated from openapi.yaml

    /// The generated client, authenticating with `token`.
    func client(_ token: String?) throws -> Client { try Client.loopback(port: port, token: token) }

    /// Mints a key with `roles` through the API (needs an admin's `token`); returns its secret.
    func createKey(
        named name: String,
        roles: [Components.Schemas.Role],
        clearance: Components.Schemas.Classification = ._internal,
        token: String
    ) async throws -> String {
        let body = Components.Schemas.APIKeyCreate(name: name, roles: roles, attributes: .init(clearance: clearance))
        return try await client(token).createAPIKey(body: .json(body)).created.body.json.secret
    }

    func createCollection(_ name: String, token: String) async throws {
        _ = try await client(token).createCollection(body: .json(.init(name: name))).created
    }

    func detail(_ document: String, token: String) async throws -> Components.Schemas.DocumentDetail {
        try await client(token).getDocument(path: .init(documentId: document)).ok.body.json
    }

    /// A search as raw bytes, for tests that expect it to be refused.
    func search(_ query: String, includeDrafts: Bool? = nil, token: String) async throws -> Response {
        var body: [String: Any] = ["query": query]
        if let includeDrafts { body["filters"] = ["includeDrafts": includeDrafts] }
        return try await send(.POST, "/v1/search", token: token, json: body)
    }

    /// The hits of a search that must succeed.
    func hits(
        _ query: String,
        k: Int = 10,
        mode: Components.Schemas.SearchRequest.ModePayload? = nil,
        includeDrafts: Bool? = nil,
        token: String
    ) async throws -> [Components.Schemas.SearchHit] {
        let request = Components.Schemas.SearchRequest(query: query, k: k, mode: mode, filters: includeDrafts.map { .init(includeDrafts: $0) })
        return try await client(token).searchDocuments(body: .json(request)).ok.body.json.hits
    }

    /// Polls the document until `version` has left `processing`; returns it then.
    func settled(
        _ version: String,
        of document: String,
        token: String,
        timeout: Duration = .seconds(120)
    ) async throws -> Components.Schemas.DocumentVersion {
        try await eventually("version \(version) of document \(document) to finish processing", timeout: timeout, interval: .milliseconds(250)) {
            let found = try await detail(document, token: token).versions.first { $0.id == version }
            return found?.processing == .processing ? nil : found
        }
    }

    /// Uploads `text` as `name` to `policies`, approved (with `classification` when given), and
    /// waits until it serves; returns the document's id.
    func uploadServing(_ text: String, named name: String, classification: String? = nil, token: String) async throws -> String {
        var metadata: [String: Any] = ["collection": "policies", "approve": true]
        if let classification { metadata["policy"] = ["classification": classification] }
        let response = try await upload(metadata: metadata, fileName: name, bytes: Data(text.utf8), token: token)
        #expect(response.status == 202, "\(response)")
        let result = try response.decode(Components.Schemas.UploadResult.self)
        let version = try await settled(result.version.id, of: result.document.id, token: token)
        #expect(version.processing == .ready && version.lifecycle == .approved, "\(version.failure ?? version.processing.rawValue)")
        return result.document.id
    }

    /// `/healthz` answers 200 with `{"status":"ok"}`.
    func expectHealthy(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let health = try await client(nil).getHealth().ok.body.json
        #expect(health.status == .ok, "/healthz: \(health)", sourceLocation: sourceLocation)
    }
}

/// Whether `text` reads as one sentence for a person: not empty, ending with a period, on one
/// line, and not running on into a second sentence.
func isOneSentence(_ text: String?) -> Bool {
    guard let text, !text.isEmpty, text.hasSuffix("."), !text.contains("\n") else { return false }
    return text.dropLast().range(of: #"[.!?] +[A-Z]"#, options: .regularExpression) == nil
}
