import CairnAPI
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import CairnServer

@Suite("HTTP surface")
struct HTTPSurfaceTests {
    static let requestID = HTTPField.Name("X-Request-Id")!

    @Test("A well-formed X-Request-Id is echoed and becomes the problem instance; a hostile one is replaced")
    func requestID() async throws {
        try await withTestApp { client, _ in
            let echoed = try await client.send(.get, "/v1/me", headers: [Self.requestID: "req-123.abc"])
            #expect(echoed.headers[Self.requestID] == "req-123.abc")
            #expect(echoed.json["instance"] as? String == "req-123.abc")

            let hostile = try await client.send(.get, "/healthz", headers: [Self.requestID: "a b\"<script>"])
            let replaced = try #require(hostile.headers[Self.requestID])
            #expect(replaced != "a b\"<script>" && !replaced.isEmpty)
        }
    }

    @Test("CORS answers allowed origins only")
    func cors() async throws {
        try await withTestApp { client, _ in
            let allowed = try await client.send(.get, "/healthz", headers: [.origin: "https://portal.bank.test"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://portal.bank.test")
            let denied = try await client.send(.get, "/healthz", headers: [.origin: "https://evil.test"])
            #expect(denied.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await client.send(
                .options,
                "/v1/me",
                headers: [.origin: "https://portal.bank.test", .accessControlRequestMethod: "GET"]
            )
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
        }
    }

    @Test("Health and readiness answer without credentials")
    func probes() async throws {
        try await withTestApp { client, _ in
            #expect(try await client.send(.get, "/healthz").json["status"] as? String == "ok")
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect(ready.json["migrations"] as? String == "current")
        }
    }

    @Test("The served spec is OpenAPI 3.1, and every operation in it has an access policy")
    func specAndPolicy() async throws {
        let yaml = String(decoding: try OpenAPIDocument.yaml(), as: UTF8.self)
        #expect(yaml.hasPrefix("openapi: 3.1."))
        let operationIDs = yaml.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("operationId: ") ? String(trimmed.dropFirst("operationId: ".count)) : nil
        }
        #expect(operationIDs.count >= 13)
        #expect(Set(operationIDs) == Set(RoutePolicy.access.keys))
        // Only the health probes are public, and nothing under /v1 is.
        #expect(Set(RoutePolicy.access.filter { $0.value == .public }.keys) == ["getHealth", "getReadiness"])
        try await withTestApp { client, _ in
            let served = try await client.send(.get, "/openapi.yaml")
            #expect(served.status == .ok)
            #expect(String(buffer: served.body) == yaml)
        }
    }
}

@Suite("Methods and self-revocation")
struct MethodTests {
    @Test("A method a known path does not declare answers 405 with Allow")
    func methodNotAllowed() async throws {
        try await withTestApp { client, fixture in
            let response = try await client.send(.put, "/v1/me", token: fixture.northbankAdmin)
            response.expectProblem(.methodNotAllowed)
            #expect(response.headers[.allow] == "GET")
            let trace = try await client.send(.trace, "/v1/api-keys/\(UUID().uuidString)", token: fixture.northbankAdmin)
            trace.expectProblem(.methodNotAllowed)
            #expect(trace.headers[.allow] == "GET, PATCH")
        }
    }

    @Test("A key cannot revoke itself over HTTP")
    func selfRevocation() async throws {
        try await withTestApp { client, fixture in
            let me = try await client.send(.get, "/v1/me", token: fixture.northbankAdmin)
            let id = try #require((me.json["credential"] as? [String: Any])?["keyId"] as? String)
            try await client.send(.post, "/v1/api-keys/\(id)/revoke", token: fixture.northbankAdmin).expectProblem(.conflict)
            #expect(try await client.send(.get, "/v1/me", token: fixture.northbankAdmin).status == .ok)
        }
    }
}
