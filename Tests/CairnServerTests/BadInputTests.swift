import CairnTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Bad input never yields a 500")
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let method: HTTPRequest.Method
        let uri: String
        let body: String?
        var contentType = "application/json"
        let status: HTTPResponse.Status

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "malformed JSON", method: .post, uri: "/v1/api-keys", body: #"{"name": "x", "roles": ["#, status: .badRequest),
        Case(name: "empty body", method: .post, uri: "/v1/api-keys", body: "", status: .badRequest),
        Case(name: "JSON array instead of object", method: .post, uri: "/v1/api-keys", body: "[]", status: .unprocessableContent),
        Case(name: "wrong type", method: .post, uri: "/v1/api-keys", body: #"{"name": 42, "roles": ["viewer"]}"#, status: .unprocessableContent),
        Case(name: "missing required member", method: .post, uri: "/v1/api-keys", body: #"{"roles": ["viewer"]}"#, status: .unprocessableContent),
        Case(
            name: "unknown enum value",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "x", "roles": ["superuser"]}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "unknown member",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "x", "roles": ["viewer"], "isRoot": true}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "null member",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "x", "roles": ["viewer"], "expiresAt": null}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "nested null",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "x", "roles": ["viewer"], "attributes": {"entities": [null]}}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "NUL in a name",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "a\u0000b", "roles": ["viewer"]}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "escape sequence in a group",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "x", "roles": ["viewer"], "groups": ["\u001b[31mred"]}"#,
            status: .unprocessableContent
        ),
        Case(name: "NUL in an audit filter", method: .get, uri: "/v1/audit?actor=a%00b", body: nil, status: .unprocessableContent),
        Case(name: "date beyond year 9999", method: .get, uri: "/v1/audit?since=99999-01-01T00:00:00Z", body: nil, status: .unprocessableContent),
        Case(name: "empty roles", method: .post, uri: "/v1/api-keys", body: #"{"name": "x", "roles": []}"#, status: .unprocessableContent),
        Case(
            name: "over-long name",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "\#(String(repeating: "n", count: 101))", "roles": ["viewer"]}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "malformed date",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "x", "roles": ["viewer"], "expiresAt": "tomorrow"}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "expiry in the past",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "x", "roles": ["viewer"], "expiresAt": "2001-01-01T00:00:00Z"}"#,
            status: .unprocessableContent
        ),
        Case(
            name: "oversize body",
            method: .post,
            uri: "/v1/api-keys",
            body: #"{"name": "\#(String(repeating: "x", count: 5000))", "roles": ["viewer"]}"#,
            status: .contentTooLarge
        ),
        Case(
            name: "not JSON content type",
            method: .post,
            uri: "/v1/api-keys",
            body: "name=x",
            contentType: "text/plain",
            status: .unsupportedMediaType
        ),
        Case(name: "malformed key id", method: .get, uri: "/v1/api-keys/not-a-uuid", body: nil, status: .notFound),
        Case(name: "malformed key id on update", method: .patch, uri: "/v1/api-keys/123", body: #"{"name": "x"}"#, status: .notFound),
        Case(name: "limit out of range", method: .get, uri: "/v1/audit?limit=0", body: nil, status: .unprocessableContent),
        Case(name: "limit not a number", method: .get, uri: "/v1/audit?limit=many", body: nil, status: .unprocessableContent),
        Case(name: "since not a date", method: .get, uri: "/v1/audit?since=yesterday", body: nil, status: .unprocessableContent),
        Case(name: "malformed cursor", method: .get, uri: "/v1/api-keys?cursor=%21%21%21", body: nil, status: .unprocessableContent),
        Case(name: "page size too large", method: .get, uri: "/v1/principals?limit=501", body: nil, status: .unprocessableContent),
        Case(name: "bare query key", method: .get, uri: "/v1/audit?debug&limit=5", body: nil, status: .badRequest),
        Case(name: "unknown route", method: .get, uri: "/v1/nothing-here", body: nil, status: .notFound),
    ]

    @Test("Each bad request answers 4xx problem+json", arguments: TestEngine.all, cases)
    func rejected(engine: TestEngine, _ testCase: Case) async throws {
        try await withTestApp(engine) { client, fixture in
            var headers: HTTPFields = [:]
            if testCase.body != nil { headers[.contentType] = testCase.contentType }
            let response = try await client.send(testCase.method, testCase.uri, token: fixture.northbankAdmin, json: testCase.body, headers: headers)
            response.expectProblem(testCase.status)
            // The server keeps serving and nothing stored was lost: the fixture's two northbank
            // keys are still there, and nothing was added.
            let keys = try await client.send(.get, "/v1/api-keys", token: fixture.northbankAdmin)
            #expect(keys.status == .ok)
            #expect((keys.json["keys"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test("A decoding problem points at the offending member")
    func pointer() async throws {
        try await withTestApp { client, fixture in
            let problem = try await client.send(
                .post,
                "/v1/api-keys",
                token: fixture.northbankAdmin,
                json: #"{"name": "x", "roles": ["viewer", "god"]}"#
            )
            .expectProblem(.unprocessableContent)
            let errors = problem["errors"] as? [[String: Any]]
            #expect(errors?.first?["pointer"] as? String == "/roles/1")
        }
    }
}
