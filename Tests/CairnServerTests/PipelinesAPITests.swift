import CairnCore
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Pipelines over HTTP")
struct PipelinesAPITests {
    static let definition = """
        document_types:
          - name: passport
            critical: [document_number]
            schema: { type: object, properties: { document_number: { type: string }, surname: { type: string } } }
        """

    static func body(_ object: [String: String]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    @Test("Create a pipeline, add versions, read them back; the first serves; names and conflicts are checked", arguments: TestEngine.all)
    func registry(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, fixture in
            let admin = fixture.northbankAdmin
            let created = try await client.send(
                .post,
                "/v1/pipelines",
                token: admin,
                json: Self.body(["name": "kyc", "definition": Self.definition])
            )
            #expect(created.status == .created, "\(created.json)")
            #expect(created.json["activeVersion"] as? Int == 1)
            let version = try #require((created.json["versions"] as? [[String: Any]])?.first)
            #expect(version["definition"] as? String == Self.definition && (version["checksum"] as? String)?.count == 64)

            let second = try await client.send(
                .post,
                "/v1/pipelines/kyc/versions",
                token: admin,
                json: Self.body(["definition": Self.definition + "\n# v2"])
            )
            #expect(second.status == .created)
            #expect((second.json["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 2])
            #expect(second.json["activeVersion"] as? Int == 1)

            let list = try await client.send(.get, "/v1/pipelines", token: admin)
            let listed = try #require((list.json["pipelines"] as? [[String: Any]])?.first)
            #expect((listed["versions"] as? [[String: Any]])?.allSatisfy { $0["definition"] == nil } == true, "lists carry no definitions")
            let versions = try await client.send(.get, "/v1/pipelines/kyc/versions", token: admin)
            #expect((versions.json["versions"] as? [[String: Any]])?.last?["definition"] as? String == Self.definition + "\n# v2")

            try await client.send(.post, "/v1/pipelines", token: admin, json: Self.body(["name": "kyc", "definition": Self.definition]))
                .expectProblem(.conflict)
            try await client.send(.post, "/v1/pipelines/nope/versions", token: admin, json: Self.body(["definition": Self.definition])).expectProblem(
                .notFound
            )
            let badName = try await client.send(
                .post,
                "/v1/pipelines",
                token: admin,
                json: Self.body(["name": "KYC!", "definition": Self.definition])
            )
            .expectProblem(.unprocessableContent)
            #expect((badName["detail"] as? String)?.hasPrefix("'KYC!' cannot name a pipeline") == true, "\(badName)")
            let badDefinition = try await client.send(
                .post,
                "/v1/pipelines",
                token: admin,
                json: Self.body(["name": "aml", "definition": "document_types: ["])
            )
            .expectProblem(.unprocessableContent)
            #expect(badDefinition["detail"] as? String == "The pipeline definition is not valid YAML or JSON.")

            // Permissions and tenancy: a viewer may not read, another tenant sees nothing.
            try await client.send(.get, "/v1/pipelines", token: fixture.northbankViewer).expectProblem(.forbidden)
            try await client.send(.get, "/v1/pipelines/kyc/versions", token: fixture.southbankAdmin).expectProblem(.notFound)
            #expect(((try await client.send(.get, "/v1/pipelines", token: fixture.southbankAdmin)).json["pipelines"] as? [Any])?.isEmpty == true)
            let audit = try await client.send(.get, "/v1/audit?action=pipeline.version.create", token: admin)
            #expect((audit.json["events"] as? [Any])?.count == 2)

            // Promotion goes through the gate (its scoring is tested in CairnPipelinesTests).
            let ungated = try await client.send(.post, "/v1/pipelines/kyc/versions/2/promote", token: admin, json: "{}").expectProblem(.conflict)
            #expect((ungated["detail"] as? String)?.contains("has no golden cases") == true, "\(ungated)")
            try await client.send(.post, "/v1/pipelines/kyc/versions/1/promote", token: admin, json: "{}").expectProblem(.conflict)
            try await client.send(.post, "/v1/pipelines/kyc/versions/9/promote", token: admin, json: "{}").expectProblem(.notFound)
            let emptyReason = try await client.send(.post, "/v1/pipelines/kyc/versions/2/promote", token: admin, json: Self.body(["reason": " "]))
                .expectProblem(.unprocessableContent)
            #expect(emptyReason["detail"] as? String == "A reason is 1 to 500 characters.")
            let noReason = try await client.send(.post, "/v1/pipelines/kyc/versions/2/promote", token: admin, json: #"{"override": true}"#)
                .expectProblem(.unprocessableContent)
            #expect(noReason["detail"] as? String == "An override needs a reason.")
            let overridden = try await client.send(
                .post,
                "/v1/pipelines/kyc/versions/2/promote",
                token: admin,
                json: #"{"override": true, "reason": "No golden cases yet; reviewed by hand."}"#
            )
            #expect(overridden.status == .ok, "\(overridden.json)")
            #expect((overridden.json["pipeline"] as? [String: Any])?["activeVersion"] as? Int == 2)
            try await client.send(.post, "/v1/pipelines/kyc/versions/1/promote", token: fixture.northbankViewer, json: "{}").expectProblem(.forbidden)
        }
    }
}
