import CairnCore
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Tenant isolation over HTTP")
struct TenancyTests {
    @Test("Every /v1 read, list, update and delete of another tenant's resources answers 404 or omits them", arguments: TestEngine.all)
    func isolation(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, fixture in
            let created = try await client.send(
                .post,
                "/v1/api-keys",
                token: fixture.northbankAdmin,
                json: #"{"name":"north-only","roles":["viewer"]}"#
            )
            let northKey = try #require((created.json["key"] as? [String: Any])?["id"] as? String)
            let south = fixture.southbankAdmin

            // Read, update, delete of northbank's key from southbank: 404, exactly like a key that never existed.
            let missing = try await client.send(.get, "/v1/api-keys/\(UUID().uuidString.lowercased())", token: south).expectProblem(.notFound)
            let foreign = try await client.send(.get, "/v1/api-keys/\(northKey)", token: south).expectProblem(.notFound)
            #expect((foreign["detail"] as? String)?.contains(northKey) == true)
            #expect(missing["type"] as? String == foreign["type"] as? String)
            try await client.send(.patch, "/v1/api-keys/\(northKey)", token: south, json: #"{"name":"stolen"}"#).expectProblem(.notFound)
            try await client.send(.post, "/v1/api-keys/\(northKey)/revoke", token: south).expectProblem(.notFound)

            // Lists never include the other tenant's rows.
            let southKeys = (try await client.send(.get, "/v1/api-keys", token: south).json["keys"] as? [[String: Any]]) ?? []
            #expect(!southKeys.isEmpty)
            #expect(southKeys.allSatisfy { ($0["subject"] as? String)?.hasPrefix("southbank") == true })
            let southAudit = (try await client.send(.get, "/v1/audit", token: south).json["events"] as? [[String: Any]]) ?? []
            #expect(!southAudit.isEmpty)
            #expect(!southAudit.contains { $0["targetId"] as? String == northKey })
            try await client.send(.get, "/v1/me", token: fixture.northbankViewer)
            let southPrincipals = (try await client.send(.get, "/v1/principals", token: south).json["principals"] as? [[String: Any]]) ?? []
            #expect(!southPrincipals.isEmpty)
            #expect(southPrincipals.allSatisfy { ($0["subject"] as? String)?.hasPrefix("southbank") == true })

            // And northbank's key is untouched.
            let north = try await client.send(.get, "/v1/api-keys/\(northKey)", token: fixture.northbankAdmin)
            #expect(north.json["name"] as? String == "north-only")
            #expect(north.json["state"] as? String == "active")
        }
    }
}
