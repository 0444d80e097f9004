import CairnAWS
import CairnTestSupport
import Foundation
import Testing

/// Walks the AWS SigV4 test suite (`shared/data/aws-sigv4`, Apache-2.0, from aws-c-auth) through
/// ``SigV4Signer``, checking every intermediate the suite publishes, then checks Bedrock's double
/// path encoding against botocore and the verifier that the mock Bedrock server uses.
@Suite("AWS Signature Version 4")
struct SigV4SuiteTests {
    /// A case's `context.json`.
    struct Context: Decodable {
        struct Credentials: Decodable {
            let accessKeyId: String
            let secretAccessKey: String
            let token: String?
        }

        let credentials: Credentials
        let expirationInSeconds: Int
        let normalize: Bool
        let region: String
        let service: String
        let signBody: Bool
        let timestamp: String
        /// Sign without the session token and add it afterwards (`post-sts-header-after`).
        let omitSessionToken: Bool?
    }

    /// A case's `request.txt`, kept raw so the signed request can be rebuilt byte for byte.
    struct SuiteRequest {
        let method: String
        let path: String
        let query: String
        let version: String
        /// Values exactly as written after the colon; a folded value keeps its line breaks.
        let headers: [(name: String, value: String)]
        let body: String

        init(_ text: String) throws {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let requestLine = try #require(lines.first)
            let firstSpace = try #require(requestLine.firstIndex(of: " "))
            let lastSpace = try #require(requestLine.lastIndex(of: " "))
            method = String(requestLine[..<firstSpace])
            version = String(requestLine[requestLine.index(after: lastSpace)...])
            // The target may hold a literal space (`/example space/`), so it spans both spaces.
            let target = requestLine[requestLine.index(after: firstSpace)..<lastSpace]
            let questionMark = target.firstIndex(of: "?") ?? target.endIndex
            path = String(target[..<questionMark])
            query = questionMark == target.endIndex ? "" : String(target[target.index(after: questionMark)...])

            var headers: [(name: String, value: String)] = []
            var index = 1
            while index < lines.count, !lines[index].isEmpty {
                let line = lines[index]
                if line.first == " " || line.first == "\t" {
                    try #require(!headers.isEmpty, "a continuation line before any header")
                    headers[headers.count - 1].value += "\n" + line
                } else {
                    let colon = try #require(line.firstIndex(of: ":"))
                    headers.append((name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
                }
                index += 1
            }
            self.headers = headers
            body = index + 1 < lines.count ? lines[(index + 1)...].joined(separator: "\n") : ""
        }

        /// The request as the suite prints it, with `target` on the request line and `extraHeaders` appended.
        func rendered(target: String, extraHeaders: [(name: String, value: String)]) -> String {
            let headerLines = (headers + extraHeaders).map { "\($0.name):\($0.value)\n" }.joined()
            return "\(method) \(target) \(version)\n\(headerLines)\n\(body)"
        }
    }

    @Test("Every case of the AWS SigV4 suite passes, for header signing and presigned URLs")
    func suite() throws {
        let root = SharedData.folder("aws-sigv4")
        var isDirectory: ObjCBool = false
        try #require(
            FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory) && isDirectory.boolValue,
            "The AWS SigV4 suite is missing at \(root.path); set CAIRN_SHARED_DATA to the folder holding aws-sigv4/"
        )
        let caseNames = try FileManager.default.contentsOfDirectory(atPath: root.path)
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/request.txt").path) }
            .sorted()
        // The published suite has 38 cases; fewer means a damaged copy, not a passing signer.
        try #require(caseNames.count >= 38, "Only \(caseNames.count) cases found in \(root.path)")

        var headerPasses = 0
        var queryPasses = 0
        for name in caseNames {
            let folder = root.appendingPathComponent(name)
            func file(_ name: String) throws -> String {
                try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let context = try decoder.decode(Context.self, from: Data(file("context.json").utf8))
            let request = try SuiteRequest(file("request.txt"))
            let date = try Date(context.timestamp, strategy: .iso8601)
            let signer = SigV4Signer(
                credentials: AWSCredentials(
                    accessKeyID: context.credentials.accessKeyId,
                    secretAccessKey: context.credentials.secretAccessKey,
                    sessionToken: context.credentials.token
                ),
                region: context.region,
                service: context.service,
                normalizesPath: context.normalize,
                signsSessionToken: context.omitSessionToken != true
            )
            let payloadHash = SigV4Signer.payloadHash(Array(request.body.utf8))

            let signing = signer.headerSigning(
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers,
                payloadHash: payloadHash,
                date: date,
                contentSHA256Header: context.signBody
            )
            let publicHeaders = signer.signedHeaders(
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers,
                body: Array(request.body.utf8),
                date: date,
                contentSHA256Header: context.signBody
            )
            let target = request.query.isEmpty ? request.path : "\(request.path)?\(request.query)"
            let headerResults = try [
                check(name, "header canonical request", signing.canonicalRequest, file("header-canonical-request.txt")),
                check(name, "header string to sign", signing.stringToSign, file("header-string-to-sign.txt")),
                check(name, "header signature", signing.signature, file("header-signature.txt")),
                // Each step again from the suite's own previous step, so a failure points at one step.
                check(
                    name,
                    "header string to sign from the suite's canonical request",
                    signer.stringToSign(canonicalRequest: file("header-canonical-request.txt"), date: date),
                    file("header-string-to-sign.txt")
                ),
                check(
                    name,
                    "header signature from the suite's string to sign",
                    signer.signature(stringToSign: file("header-string-to-sign.txt"), date: date),
                    file("header-signature.txt")
                ),
                check(
                    name,
                    "header signed request",
                    request.rendered(target: target, extraHeaders: publicHeaders),
                    file("header-signed-request.txt")
                ),
            ]
            if !headerResults.contains(false) { headerPasses += 1 }

            let presigning = signer.querySigning(
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers,
                payloadHash: payloadHash,
                date: date,
                expiresIn: .seconds(context.expirationInSeconds)
            )
            let presignedQuery = signer.presignedQuery(
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers,
                body: Array(request.body.utf8),
                date: date,
                expiresIn: .seconds(context.expirationInSeconds)
            )
            let queryResults = try [
                check(name, "query canonical request", presigning.canonicalRequest, file("query-canonical-request.txt")),
                check(name, "query string to sign", presigning.stringToSign, file("query-string-to-sign.txt")),
                check(name, "query signature", presigning.signature, file("query-signature.txt")),
                check(
                    name,
                    "query signature from the suite's string to sign",
                    signer.signature(stringToSign: file("query-string-to-sign.txt"), date: date),
                    file("query-signature.txt")
                ),
                check(
                    name,
                    "query signed request",
                    request.rendered(target: "\(request.path)?\(presignedQuery)", extraHeaders: []),
                    file("query-signed-request.txt")
                ),
            ]
            if !queryResults.contains(false) { queryPasses += 1 }
        }
        print(
            "AWS SigV4 suite: \(headerPasses)/\(caseNames.count) applicable cases pass (header), "
                + "\(queryPasses)/\(caseNames.count) (query); none excluded"
        )
    }

    private func check(
        _ caseName: String,
        _ step: String,
        _ actual: String,
        _ expected: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        #expect(actual == expected, "\(caseName): \(step)", sourceLocation: sourceLocation)
        return actual == expected
    }

    // MARK: Bedrock

    static let exampleCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let bedrockBody = Array(#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#.utf8)
    /// 2024-05-01T12:00:00Z.
    static let bedrockDate = Date(timeIntervalSince1970: 1_714_564_800)

    static func bedrockURL(modelID: String, action: String) throws -> URL {
        let path = "/model/\(SigV4Signer.percentEncodedPathSegment(modelID))/\(action)"
        return try #require(URL(string: "https://bedrock-runtime.us-east-1.amazonaws.com\(path)"))
    }

    @Test("A model id is encoded once in the path and again in the canonical request, as botocore signs it")
    func bedrockDoubleEncoding() throws {
        let modelID = "anthropic.claude-3-haiku-20240307-v1:0"
        #expect(SigV4Signer.percentEncodedPathSegment(modelID) == "anthropic.claude-3-haiku-20240307-v1%3A0")
        let url = try Self.bedrockURL(modelID: modelID, action: "converse")
        #expect(url.path(percentEncoded: true) == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")

        let signer = SigV4Signer(credentials: Self.exampleCredentials, region: "us-east-1", service: "bedrock")
        let headers = [(name: "Content-Type", value: "application/json"), (name: "Accept", value: "application/json")]
        let signed = signer.signedHeaders(method: "POST", url: url, headers: headers, body: Self.bedrockBody, date: Self.bedrockDate)
        let canonical = signer.canonicalRequest(
            method: "POST",
            path: url.path(percentEncoded: true),
            query: "",
            headers: headers + [(name: "Host", value: "bedrock-runtime.us-east-1.amazonaws.com"), (name: "X-Amz-Date", value: "20240501T120000Z")],
            payloadHash: SigV4Signer.payloadHash(Self.bedrockBody)
        )
        // Expected values computed by botocore 1.43 (SigV4Auth for `bedrock`) for the same request.
        #expect(
            canonical == """
                POST
                /model/anthropic.claude-3-haiku-20240307-v1%253A0/converse

                accept:application/json
                content-type:application/json
                host:bedrock-runtime.us-east-1.amazonaws.com
                x-amz-date:20240501T120000Z

                accept;content-type;host;x-amz-date
                7421da8d1a0949a481724fee62d5886aacde03836bf58248adb73e8b61ac0d54
                """
        )
        #expect(signed.map(\.name) == ["X-Amz-Date", "Authorization"])
        #expect(
            signed.last?.value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/aws4_request, "
                + "SignedHeaders=accept;content-type;host;x-amz-date, Signature=bb043ae79539705b0ebf86ceb93e5c8e9c1370890344e66ea6c8aef8a5797e94"
        )
    }

    @Test("Temporary credentials sign the session token, as botocore does for ConverseStream")
    func bedrockSessionToken() throws {
        var credentials = Self.exampleCredentials
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLETOKEN/+="
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "bedrock")
        let signed = signer.signedHeaders(
            method: "POST",
            url: try Self.bedrockURL(modelID: "anthropic.claude-3-haiku-20240307-v1:0", action: "converse-stream"),
            headers: [(name: "Content-Type", value: "application/json"), (name: "Accept", value: "application/json")],
            body: Self.bedrockBody,
            date: Self.bedrockDate
        )
        #expect(signed.first { $0.name == "X-Amz-Security-Token" }?.value == "FQoGZXIvYXdzEXAMPLETOKEN/+=")
        #expect(
            signed.last?.value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/bedrock/aws4_request, "
                + "SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, "
                + "Signature=39fbb1c0032e8d9249458956d1c096db961a13297868eb689ce0967f8064bb05"
        )
    }

    @Test("The host signed for a URL carries a port only when it is not the scheme's default")
    func hostFromURL() throws {
        let signer = SigV4Signer(credentials: Self.exampleCredentials, region: "us-east-1", service: "bedrock")
        func signature(_ url: String, headers: [(name: String, value: String)] = []) throws -> String? {
            let url = try #require(URL(string: url))
            return signer.signedHeaders(method: "GET", url: url, headers: headers, body: [], date: Self.bedrockDate).last?.value
        }
        let explicitHost = [(name: "Host", value: "example.com:8443")]
        #expect(try signature("https://example.com:8443/") == signature("https://other.example/", headers: explicitHost))
        #expect(try signature("https://example.com:443/") == signature("https://example.com/"))
        #expect(try signature("https://example.com:8443/") != signature("https://example.com/"))
        #expect(try signature("http://[::1]:8080/") == signature("http://other.example/", headers: [(name: "Host", value: "[::1]:8080")]))
    }

    @Test("Query parameters sign the same however they are ordered or needlessly encoded")
    func queryCanonicalForm() {
        let signer = SigV4Signer(credentials: Self.exampleCredentials, region: "us-east-1", service: "bedrock")
        func canonicalQuery(_ query: String) -> String? {
            let request = signer.canonicalRequest(method: "GET", path: "/", query: query, headers: [], payloadHash: "")
            return request.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2).first.map(String.init)
        }
        #expect(canonicalQuery("b=2&a=%7E&c") == "a=~&b=2&c=")
        #expect(canonicalQuery("a=~&c=&b=2") == "a=~&b=2&c=")
        #expect(canonicalQuery("k=a b&k=a+b&k=%zz") == "k=%25zz&k=a%20b&k=a%2Bb")
        #expect(canonicalQuery("a-b=1&a=2") == "a=2&a-b=1")
    }

    @Test("Credentials never show their secret or token when printed, reflected or dumped")
    func credentialsAreRedacted() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "very-secret-key", sessionToken: "very-secret-token")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)", dumped] {
            #expect(text.contains("AKIDEXAMPLE"))
            #expect(!text.contains("very-secret"))
        }
    }

    // MARK: Verifier

    struct SignedRequest {
        var method = "POST"
        var path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        var query = ""
        var headers: [(name: String, value: String)]
        var body = SigV4SuiteTests.bedrockBody
    }

    /// A request signed as the Bedrock provider signs one, addressed to a loopback server.
    static func signedRequest(credentials: AWSCredentials = exampleCredentials, contentSHA256Header: Bool = false) throws -> SignedRequest {
        let url = try #require(URL(string: "http://127.0.0.1:8080/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse?trace=on"))
        let headers = [(name: "Content-Type", value: "application/json"), (name: "User-Agent", value: "cairn")]
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "bedrock")
        let added = signer.signedHeaders(
            method: "POST",
            url: url,
            headers: headers,
            body: bedrockBody,
            date: bedrockDate,
            contentSHA256Header: contentSHA256Header
        )
        // What the server receives: the client's Host, the caller's headers and the signer's.
        return SignedRequest(query: "trace=on", headers: [(name: "Host", value: "127.0.0.1:8080")] + headers + added)
    }

    static let verifier = SigV4Verifier(credentials: exampleCredentials, region: "us-east-1", service: "bedrock")

    func verify(_ request: SignedRequest, verifier: SigV4Verifier = verifier, now: Date = bedrockDate) -> SigV4VerificationFailure.Code? {
        do {
            try verifier.verify(
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers,
                body: request.body,
                now: now
            )
            return nil
        } catch {
            return error.code
        }
    }

    @Test("The verifier accepts what the signer signed, including within the allowed clock skew")
    func verifierAcceptsSignedRequest() throws {
        #expect(verify(try Self.signedRequest()) == nil)
        #expect(verify(try Self.signedRequest(contentSHA256Header: true)) == nil)
        #expect(verify(try Self.signedRequest(), now: Self.bedrockDate.addingTimeInterval(299)) == nil)
        var credentials = Self.exampleCredentials
        credentials.sessionToken = "session-token"
        var verifier = Self.verifier
        verifier.credentials = credentials
        #expect(verify(try Self.signedRequest(credentials: credentials), verifier: verifier) == nil)
    }

    @Test("The verifier rejects a tampered body, header, path or query")
    func verifierRejectsTampering() throws {
        var request = try Self.signedRequest()
        request.body += Array(" ".utf8)
        #expect(verify(request) == .signatureMismatch)

        request = try Self.signedRequest(contentSHA256Header: true)
        request.body += Array(" ".utf8)
        #expect(verify(request) == .payloadHashMismatch)

        request = try Self.signedRequest()
        request.headers[1].value = "text/plain"
        #expect(verify(request) == .signatureMismatch)

        request = try Self.signedRequest()
        request.path = "/model/anthropic.claude-3-sonnet-20240229-v1%3A0/converse"
        #expect(verify(request) == .signatureMismatch)

        request = try Self.signedRequest()
        request.query = "trace=off"
        #expect(verify(request) == .signatureMismatch)

        // User-Agent is not signed, so a proxy may rewrite it.
        request = try Self.signedRequest()
        request.headers[2].value = "rewritten-by-proxy"
        #expect(verify(request) == nil)
    }

    @Test("The verifier rejects a wrong secret, a stale date, a wrong scope and missing pieces")
    func verifierRejectsBadCredentials() throws {
        var wrongSecret = Self.exampleCredentials
        wrongSecret.secretAccessKey = "not-the-secret"
        #expect(verify(try Self.signedRequest(credentials: wrongSecret)) == .signatureMismatch)

        var otherKey = Self.exampleCredentials
        otherKey.accessKeyID = "AKIDOTHER"
        #expect(verify(try Self.signedRequest(credentials: otherKey)) == .unknownAccessKey)

        #expect(verify(try Self.signedRequest(), now: Self.bedrockDate.addingTimeInterval(301)) == .requestTimeTooSkewed)
        #expect(verify(try Self.signedRequest(), now: Self.bedrockDate.addingTimeInterval(-301)) == .requestTimeTooSkewed)

        var otherRegion = Self.verifier
        otherRegion.region = "eu-west-1"
        #expect(verify(try Self.signedRequest(), verifier: otherRegion) == .wrongCredentialScope)

        var request = try Self.signedRequest()
        request.headers.removeAll { $0.name == "Authorization" }
        #expect(verify(request) == .missingAuthorization)

        request = try Self.signedRequest()
        request.headers.removeAll { $0.name == "Content-Type" }
        #expect(verify(request) == .signedHeaderMissing)

        request = try Self.signedRequest()
        let index = try #require(request.headers.firstIndex { $0.name == "Authorization" })
        request.headers[index].value = "Bearer abc"
        #expect(verify(request) == .malformedAuthorization)

        var expectsToken = Self.verifier
        expectsToken.credentials.sessionToken = "session-token"
        #expect(verify(try Self.signedRequest(), verifier: expectsToken) == .invalidSessionToken)
    }

    @Test("A verification failure says what is wrong without naming the secret")
    func failureDescriptionHasNoSecret() throws {
        var request = try Self.signedRequest()
        request.body = []
        do {
            try Self.verifier.verify(
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers,
                body: request.body,
                now: Self.bedrockDate
            )
            Issue.record("a tampered request was accepted")
        } catch {
            #expect(error.description == "The request signature does not match.")
            #expect(!String(reflecting: error).contains(Self.exampleCredentials.secretAccessKey))
        }
    }
}
