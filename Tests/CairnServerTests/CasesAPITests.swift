import CairnCore
import CairnPipelines
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Cases over HTTP")
struct CasesAPITests {
    static func body(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    @Test("Open a case, add documents, read it back, and decide it only once it awaits review", arguments: TestEngine.all)
    func lifecycle(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, fixture in
            let admin = fixture.northbankAdmin
            try await client.send(.post, "/v1/cases", token: admin, json: Self.body(["reference": "APP-1", "kind": "kyc_individual"]))
                .expectProblem(.notFound)  // no kyc-individual pipeline yet
            let pipeline = try await client.send(
                .post,
                "/v1/pipelines",
                token: admin,
                json: Self.body(["name": "kyc-individual", "definition": PipelinesAPITests.definition])
            )
            #expect(pipeline.status == .created)

            let created = try await client.send(
                .post,
                "/v1/cases",
                token: admin,
                json: Self.body(["reference": "APP-1", "kind": "kyc_individual", "subject": ["surname": "Eriksson"]])
            )
            #expect(created.status == .created, "\(created.json)")
            #expect(created.json["state"] as? String == "open" && created.json["pipeline"] as? String == "kyc-individual")
            #expect((created.json["subject"] as? [String: Any])?["surname"] as? String == "Eriksson")
            let id = try #require(created.json["id"] as? String)

            let boundary = "cairn-case-test"
            let multipart =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\nContent-Type: text/plain\r\n\r\nPassport number L898902C3.\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bill.txt\"\r\nContent-Type: text/plain\r\n\r\nElectricity bill.\r\n--\(boundary)--\r\n"
            let added = try await client.send(
                .post,
                "/v1/cases/\(id)/documents",
                token: admin,
                json: multipart,
                headers: [.contentType: "multipart/form-data; boundary=\(boundary)"]
            )
            #expect(added.status == .accepted, "\(added.json)")
            #expect(added.json["state"] as? String == "processing")
            #expect((added.json["documents"] as? [[String: Any]])?.map { $0["fileName"] as? String } == ["note.txt", "bill.txt"])

            let listed = try await client.send(.get, "/v1/cases?state=processing", token: admin)
            #expect((listed.json["cases"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            #expect((listed.json["cases"] as? [[String: Any]])?.first?["documents"] == nil, "lists carry no documents")
            let read = try await client.send(.get, "/v1/cases/\(id)", token: admin)
            #expect((read.json["documents"] as? [[String: Any]])?.count == 2)

            let early = try await client.send(
                .post,
                "/v1/cases/\(id)/decision",
                token: admin,
                json: Self.body(["decision": "approve", "reason": "Fine."])
            )
            .expectProblem(.conflict)
            #expect(early["detail"] as? String == "The case is processing; only a case awaiting review can be decided.")

            // Bad input, permissions and tenancy.
            try await client.send(.post, "/v1/cases", token: admin, json: Self.body(["reference": "APP-1", "kind": "kyc_individual"]))
                .expectProblem(.conflict)
            try await client.send(.post, "/v1/cases", token: admin, json: Self.body(["reference": "APP-2", "kind": "mortgage"]))
                .expectProblem(.unprocessableContent)
            try await client.send(.get, "/v1/cases/not-a-case", token: admin).expectProblem(.notFound)
            // The admin key names no entity, so it may not open a case scoped to one.
            try await client.send(
                .post,
                "/v1/cases",
                token: admin,
                json: Self.body(["reference": "APP-3", "kind": "kyc_individual", "scope": ["entity": "northbank-uk"]])
            ).expectProblem(.forbidden)
            try await client.send(.get, "/v1/cases", token: fixture.northbankViewer).expectProblem(.forbidden)
            try await client.send(.get, "/v1/cases/\(id)", token: fixture.southbankAdmin).expectProblem(.notFound)
            let noFile = "--\(boundary)--\r\n"
            try await client.send(
                .post,
                "/v1/cases/\(id)/documents",
                token: admin,
                json: noFile,
                headers: [.contentType: "multipart/form-data; boundary=\(boundary)"]
            ).expectProblem(.unprocessableContent)

            let audit = try await client.send(.get, "/v1/audit?action=case.document.add", token: admin)
            #expect((audit.json["events"] as? [Any])?.count == 2)
        }
    }
}
