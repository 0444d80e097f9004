import CairnCore
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Authentication and authorization over HTTP")
struct AuthenticationTests {
    @Test("No credentials answer 401 with a Bearer challenge")
    func missing() async throws {
        try await withTestApp { client, _ in
            let response = try await client.send(.get, "/v1/me")
            response.expectProblem(.unauthorized)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
            try await client.send(.get, "/v1/me", headers: [.authorization: "Basic dXNlcjpwYXNz"]).expectProblem(.unauthorized)
            try await client.send(.get, "/v1/me", token: "cairn_not_a_key").expectProblem(.unauthorized)
        }
    }

    @Test("Without credentials, bodies are not read: null members, oversize bodies and unknown /v1 paths all answer 401")
    func unauthenticatedBodies() async throws {
        try await withTestApp { client, _ in
            try await client.send(.post, "/v1/api-keys", json: #"{"name": null}"#).expectProblem(.unauthorized)
            try await client.send(.post, "/v1/api-keys", json: String(repeating: "x", count: 10_000)).expectProblem(.unauthorized)
            try await client.send(.put, "/v1/me").expectProblem(.unauthorized)
            try await client.send(.get, "/v1/anything").expectProblem(.unauthorized)
        }
    }

    @Test("An API key yields its principal; once revoked it answers 401 at once on this node")
    func apiKeyAndRevocation() async throws {
        try await withTestApp { client, fixture in
            let created = try await client.send(.post, "/v1/api-keys", token: fixture.northbankAdmin, json: #"{"name":"ci","roles":["viewer"]}"#)
            #expect(created.status == .created)
            let secret = try #require(created.json["secret"] as? String)
            let id = try #require((created.json["key"] as? [String: Any])?["id"] as? String)
            #expect(id == id.lowercased())

            let me = try await client.send(.get, "/v1/me", token: secret)
            #expect(me.status == .ok)
            #expect(me.json["tenant"] as? String == "northbank")
            #expect(me.json["subject"] as? String == "ci")
            #expect(me.json["roles"] as? [String] == ["viewer"])

            #expect(try await client.send(.post, "/v1/api-keys/\(id)/revoke", token: fixture.northbankAdmin).json["state"] as? String == "revoked")
            try await client.send(.get, "/v1/me", token: secret).expectProblem(.unauthorized)
        }
    }

    @Test("A viewer on an admin route answers 403; tenant principals cannot reach operator routes, nor the operator tenant data")
    func forbidden() async throws {
        try await withTestApp { client, fixture in
            try await client.send(.get, "/v1/api-keys", token: fixture.northbankViewer).expectProblem(.forbidden)
            try await client.send(.post, "/v1/api-keys", token: fixture.northbankViewer, json: #"{"name":"x","roles":["admin"]}"#).expectProblem(
                .forbidden
            )
            try await client.send(.get, "/v1/audit", token: fixture.northbankViewer).expectProblem(.forbidden)
            try await client.send(.get, "/v1/tenants", token: fixture.northbankAdmin).expectProblem(.forbidden)
            try await client.send(.get, "/v1/me", token: fixture.operatorToken).expectProblem(.forbidden)
            #expect(try await client.send(.get, "/v1/me", token: fixture.northbankViewer).status == .ok)
        }
    }

    @Test("The operator creates and lists tenants")
    func operatorRoutes() async throws {
        try await withTestApp { client, fixture in
            let created = try await client.send(.post, "/v1/tenants", token: fixture.operatorToken, json: #"{"name":"eastbank"}"#)
            #expect(created.status == .created)
            try await client.send(.post, "/v1/tenants", token: fixture.operatorToken, json: #"{"name":"eastbank"}"#).expectProblem(.conflict)
            try await client.send(.post, "/v1/tenants", token: fixture.operatorToken, json: #"{"name":"East Bank"}"#).expectProblem(
                .unprocessableContent
            )
            let list = try await client.send(.get, "/v1/tenants", token: fixture.operatorToken)
            #expect((list.json["tenants"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["eastbank", "northbank", "southbank"])
            let id = try #require(created.json["id"] as? String)
            #expect(try await client.send(.get, "/v1/tenants/\(id)", token: fixture.operatorToken).status == .ok)
        }
    }

    @Test("A JWT from the configured JWKS is accepted; expired, wrong-audience and wrong-issuer ones are not")
    func jwt() async throws {
        try await withTestApp { client, fixture in
            let provider = fixture.provider
            let good = try provider.token(provider.claims(tenant: "northbank", roles: ["admin"]), algorithm: .es256)
            let me = try await client.send(.get, "/v1/me", token: good)
            #expect(me.status == .ok)
            #expect((me.json["credential"] as? [String: Any])?["kind"] as? String == "oidc")
            #expect(try await client.send(.get, "/v1/api-keys", token: good).status == .ok)

            var expired = provider.claims(tenant: "northbank")
            expired["exp"] = Int(Date().timeIntervalSince1970) - 3600
            var audience = provider.claims(tenant: "northbank")
            audience["aud"] = "other"
            var issuer = provider.claims(tenant: "northbank")
            issuer["iss"] = "https://elsewhere.test"
            for claims in [expired, audience, issuer] {
                try await client.send(.get, "/v1/me", token: try provider.token(claims)).expectProblem(.unauthorized)
            }
        }
    }

    @Test("Principals seen are listed for the tenant")
    func principalsSeen() async throws {
        try await withTestApp { client, fixture in
            try await client.send(.get, "/v1/me", token: fixture.northbankViewer)
            let list = try await client.send(.get, "/v1/principals", token: fixture.northbankAdmin)
            let subjects = Set((list.json["principals"] as? [[String: Any]] ?? []).compactMap { $0["subject"] as? String })
            #expect(subjects == ["northbank-viewer", "northbank-admin"])
        }
    }
}
