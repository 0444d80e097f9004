import Crypto
public import Foundation

/// An AWS access key pair, with the session token that temporary (STS) credentials carry.
///
/// Its descriptions and mirror redact the secret and the token, so a log line or an error that
/// interpolates credentials never leaks them.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyID": accessKeyID,
                "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "none" : "<redacted>",
            ],
            displayStyle: .struct
        )
    }
}

/// Signs HTTP requests with AWS Signature Version 4 (`AWS4-HMAC-SHA256`), as Bedrock expects.
///
/// The path is signed the way every AWS service but S3 reads it: as it goes on the wire, then
/// percent-encoded *again*. AWS calls this double encoding. Bedrock's runtime path
/// `/model/{modelId}/converse` shows why it matters: a model id such as
/// `anthropic.claude-3-haiku-20240307-v1:0` is sent with its `:` encoded once
/// (`…-v1%3A0`, see ``percentEncodedPathSegment(_:)``), and the canonical request then holds
/// `…-v1%253A0`. Signing the unencoded id, or encoding it only once, yields a signature AWS
/// rejects, so the path handed to the signer must be byte for byte the one the HTTP client sends.
///
/// Checked against the AWS SigV4 test suite (canonical request, string to sign, signature and
/// signed request, for both header signing and presigned URLs).
public struct SigV4Signer: Sendable {
    /// The only algorithm SigV4 defines.
    fileprivate static let algorithm = "AWS4-HMAC-SHA256"

    public var credentials: AWSCredentials
    public var region: String
    /// The signing name of the service: `bedrock` for Bedrock's runtime endpoints.
    public var service: String
    /// Whether `.` and `..` segments and empty segments (`//`) are removed from the path before
    /// it is signed, as the generic SigV4 rules ask. S3 signs the path untouched; Bedrock's paths
    /// never hold such segments, so for it the choice changes nothing.
    public var normalizesPath: Bool
    /// Whether the session token is part of the signature. A few services (IoT's WebSocket
    /// endpoint among them) want it added after signing; Bedrock wants it signed.
    public var signsSessionToken: Bool

    public init(
        credentials: AWSCredentials,
        region: String,
        service: String,
        normalizesPath: Bool = true,
        signsSessionToken: Bool = true
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizesPath = normalizesPath
        self.signsSessionToken = signsSessionToken
    }

    /// Signs a request to `url` and returns the headers to add to it: `X-Amz-Security-Token` when
    /// the credentials carry a session token, `X-Amz-Date`, `x-amz-content-sha256` when
    /// `contentSHA256Header` is set, and `Authorization`. They replace any headers of the same name.
    ///
    /// The host is signed as the URL's authority (with the port unless it is the scheme's
    /// default), which is what HTTP clients send as `Host`, unless `headers` holds a `Host` of its
    /// own. The URL's path and query are signed exactly as encoded in `url`.
    public func signedHeaders(
        method: String,
        url: URL,
        headers: [(name: String, value: String)],
        body: some Collection<UInt8>,
        date: Date,
        contentSHA256Header: Bool = false
    ) -> [(name: String, value: String)] {
        signedHeaders(
            method: method,
            path: url.path(percentEncoded: true),
            query: url.query(percentEncoded: true) ?? "",
            headers: Self.addingHost(of: url, to: headers),
            body: body,
            date: date,
            contentSHA256Header: contentSHA256Header
        )
    }

    /// Signs a request given as it goes on the wire: `path` and `query` exactly as sent (already
    /// percent-encoded), `headers` including `Host`. Returns the headers to add, as
    /// ``signedHeaders(method:url:headers:body:date:contentSHA256Header:)`` does.
    public func signedHeaders(
        method: String,
        path: String,
        query: String,
        headers: [(name: String, value: String)],
        body: some Collection<UInt8>,
        date: Date,
        contentSHA256Header: Bool = false
    ) -> [(name: String, value: String)] {
        headerSigning(
            method: method,
            path: path,
            query: query,
            headers: headers,
            payloadHash: Self.payloadHash(body),
            date: date,
            contentSHA256Header: contentSHA256Header
        ).headers
    }

    /// Presigns a request: returns the query string to send instead of `query`, which is the
    /// original query followed by the `X-Amz-*` authentication parameters and the signature.
    /// The request is then sent with no `Authorization` header.
    ///
    /// - Parameter expiresIn: how long the URL stays valid, between one second and seven days.
    public func presignedQuery(
        method: String,
        path: String,
        query: String,
        headers: [(name: String, value: String)],
        body: some Collection<UInt8>,
        date: Date,
        expiresIn: Duration
    ) -> String {
        querySigning(
            method: method,
            path: path,
            query: query,
            headers: headers,
            payloadHash: Self.payloadHash(body),
            date: date,
            expiresIn: expiresIn
        ).query
    }

    /// Percent-encodes one path segment with the RFC 3986 unreserved set, so that `:` and `/` in
    /// a Bedrock model id or inference-profile ARN are sent as `%3A` and `%2F`.
    public static func percentEncodedPathSegment(_ segment: String) -> String {
        percentEncode(segment.utf8, keepingSlash: false)
    }

    // MARK: Steps (package-visible so the test suite can check each one)

    /// The outcome of signing one request, step by step.
    package struct HeaderSigning: Sendable {
        package var canonicalRequest: String
        package var stringToSign: String
        package var signature: String
        /// The headers to add to the request.
        package var headers: [(name: String, value: String)]
    }

    /// The outcome of presigning one request, step by step.
    package struct QuerySigning: Sendable {
        package var canonicalRequest: String
        package var stringToSign: String
        package var signature: String
        /// The query string to send.
        package var query: String
    }

    package func headerSigning(
        method: String,
        path: String,
        query: String,
        headers: [(name: String, value: String)],
        payloadHash: String,
        date: Date,
        contentSHA256Header: Bool
    ) -> HeaderSigning {
        // The suite's signed requests list the added headers in this order; the names are spelled
        // as the suite spells them (header names are case-insensitive anyway).
        var added: [(name: String, value: String)] = []
        var signed = Self.signableHeaders(headers)
        func add(_ name: String, _ value: String, signed isSigned: Bool = true) {
            added.append((name: name, value: value))
            if isSigned { signed.append((name: name, value: value)) }
        }
        if let token = credentials.sessionToken {
            add("X-Amz-Security-Token", token, signed: signsSessionToken)
        }
        add("X-Amz-Date", Self.timestamp(date))
        if contentSHA256Header {
            add("x-amz-content-sha256", payloadHash)
        }
        let canonicalHeaders = CanonicalHeaders(signed)
        let canonicalRequest = canonicalRequest(
            method: method,
            path: path,
            queryParameters: Self.encodedQueryParameters(query),
            headers: canonicalHeaders,
            payloadHash: payloadHash
        )
        let stringToSign = stringToSign(canonicalRequest: canonicalRequest, date: date)
        let signature = signature(stringToSign: stringToSign, date: date)
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(credentialScope(date)), "
            + "SignedHeaders=\(canonicalHeaders.signedHeaders), Signature=\(signature)"
        added.append((name: "Authorization", value: authorization))
        return HeaderSigning(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, headers: added)
    }

    package func querySigning(
        method: String,
        path: String,
        query: String,
        headers: [(name: String, value: String)],
        payloadHash: String,
        date: Date,
        expiresIn: Duration
    ) -> QuerySigning {
        let expiry = expiresIn.components.seconds
        precondition((1...604_800).contains(expiry), "a presigned URL expires after one second to seven days")
        let canonicalHeaders = CanonicalHeaders(Self.signableHeaders(headers))
        // The suite's presigned URLs list the parameters in this order.
        var parameters: [(name: String, value: String)] = []
        var signed: [(name: String, value: String)] = []
        func add(_ name: String, _ value: String, signed isSigned: Bool = true) {
            let parameter = (name: name, value: Self.percentEncode(value.utf8, keepingSlash: false))
            parameters.append(parameter)
            if isSigned { signed.append(parameter) }
        }
        add("X-Amz-Algorithm", Self.algorithm)
        add("X-Amz-Credential", "\(credentials.accessKeyID)/\(credentialScope(date))")
        add("X-Amz-Date", Self.timestamp(date))
        add("X-Amz-SignedHeaders", canonicalHeaders.signedHeaders)
        add("X-Amz-Expires", String(expiry))
        if let token = credentials.sessionToken {
            add("X-Amz-Security-Token", token, signed: signsSessionToken)
        }
        let canonicalRequest = canonicalRequest(
            method: method,
            path: path,
            queryParameters: Self.encodedQueryParameters(query) + signed,
            headers: canonicalHeaders,
            payloadHash: payloadHash
        )
        let stringToSign = stringToSign(canonicalRequest: canonicalRequest, date: date)
        let signature = signature(stringToSign: stringToSign, date: date)
        let authentication = (parameters + [(name: "X-Amz-Signature", value: signature)]).map { "\($0.name)=\($0.value)" }
        let signedQuery = ((query.isEmpty ? [] : [query]) + authentication).joined(separator: "&")
        return QuerySigning(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, query: signedQuery)
    }

    /// The canonical request: method, canonical URI, canonical query, canonical headers, signed
    /// header names and payload hash, one per line. Every header in `headers` is signed.
    package func canonicalRequest(
        method: String,
        path: String,
        query: String,
        headers: [(name: String, value: String)],
        payloadHash: String
    ) -> String {
        canonicalRequest(
            method: method,
            path: path,
            queryParameters: Self.encodedQueryParameters(query),
            headers: CanonicalHeaders(headers),
            payloadHash: payloadHash
        )
    }

    package func stringToSign(canonicalRequest: String, date: Date) -> String {
        [Self.algorithm, Self.timestamp(date), credentialScope(date), Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
    }

    /// The lowercase hex HMAC-SHA256 of `stringToSign` under the day's signing key.
    package func signature(stringToSign: String, date: Date) -> String {
        Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(date)))
    }

    /// `yyyyMMdd/region/service/aws4_request`.
    fileprivate func credentialScope(_ date: Date) -> String {
        "\(Self.day(date))/\(region)/\(service)/aws4_request"
    }

    /// The key derived from the secret for one day, region and service.
    fileprivate func signingKey(_ date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [Self.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    /// The lowercase hex SHA-256 of a body, as the canonical request and `x-amz-content-sha256` carry it.
    package static func payloadHash(_ body: some Collection<UInt8>) -> String {
        var hasher = SHA256()
        if body.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(data: Array(body))
        }
        return hex(hasher.finalize())
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC, the form of `X-Amz-Date`.
    private static func timestamp(_ date: Date) -> String {
        date.formatted(timestampStyle)
    }

    /// Parses an `X-Amz-Date` value.
    fileprivate static func date(fromTimestamp timestamp: String) -> Date? {
        guard timestamp.utf8.count == 16 else { return nil }
        return try? Date(timestamp, strategy: timestampStyle)
    }

    // MARK: Canonical form

    private static let timestampStyle = Date.ISO8601FormatStyle(
        dateSeparator: .omitted,
        dateTimeSeparator: .standard,
        timeSeparator: .omitted,
        timeZone: .gmt
    )

    private static func day(_ date: Date) -> String {
        String(timestamp(date).prefix(8))
    }

    private func canonicalRequest(
        method: String,
        path: String,
        queryParameters: [(name: String, value: String)],
        headers: CanonicalHeaders,
        payloadHash: String
    ) -> String {
        let uri = Self.percentEncode((normalizesPath ? Self.removingDotSegments(path) : path).utf8, keepingSlash: true)
        return [
            method,
            uri.isEmpty ? "/" : uri,
            Self.canonicalQuery(queryParameters),
            headers.lines,
            headers.signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
    }

    /// Header names the signer adds itself; a caller's copy is replaced, not signed.
    private static let headersSetBySigner: Set<String> = ["authorization", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"]

    /// Headers never signed: hop-by-hop headers a proxy may rewrite, and ones HTTP clients or
    /// tracing middleware set or change after signing. Signing them would make a good request fail.
    private static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
        "x-amzn-trace-id",
    ]

    private static func signableHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        headers.filter {
            let name = $0.name.lowercased()
            return !headersSetBySigner.contains(name) && !unsignedHeaders.contains(name)
        }
    }

    private static func addingHost(of url: URL, to headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        guard !headers.contains(where: { $0.name.lowercased() == "host" }), var host = url.host(percentEncoded: true) else {
            return headers
        }
        if host.contains(":") {
            host = "[\(host)]"
        }
        let defaultPort = url.scheme?.lowercased() == "http" ? 80 : 443
        if let port = url.port, port != defaultPort {
            host += ":\(port)"
        }
        return [(name: "Host", value: host)] + headers
    }

    /// The canonical headers block and the signed-header list, built together so they agree.
    private struct CanonicalHeaders {
        /// `name:value` lines, each ending in a newline (so a blank line follows in the request).
        let lines: String
        /// Lowercase names joined by `;`.
        let signedHeaders: String

        init(_ headers: [(name: String, value: String)]) {
            // Repeated headers keep their order of appearance and join with commas.
            var values: [String: [String]] = [:]
            for header in headers {
                values[header.name.lowercased(), default: []].append(SigV4Signer.canonicalHeaderValue(header.value))
            }
            let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            lines = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
            signedHeaders = names.joined(separator: ";")
        }
    }

    /// Trims the value and collapses each run of whitespace inside it to one space. Line breaks
    /// count as whitespace, so an obsolete folded (multi-line) value becomes one line.
    private static func canonicalHeaderValue(_ value: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        var spacePending = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                spacePending = !bytes.isEmpty
            } else {
                if spacePending {
                    bytes.append(UInt8(ascii: " "))
                    spacePending = false
                }
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 3986 §5.2.4 dot-segment removal, which also drops empty segments as AWS asks
    /// (`//example//` signs as `/example/`). A trailing slash survives unless nothing is left.
    private static func removingDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                _ = segments.popLast()
            } else {
                segments.append(segment)
            }
        }
        let leading = path.hasPrefix("/") ? "/" : ""
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return leading + segments.joined(separator: "/") + trailing
    }

    /// Splits a raw query into parameters and re-encodes each name and value canonically, so
    /// `%E1%88%B4`, raw `ሴ` and a needlessly encoded `%7E` all sign the same way. A parameter
    /// without `=` has an empty value.
    private static func encodedQueryParameters(_ query: String) -> [(name: String, value: String)] {
        query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let value = equals == pair.endIndex ? pair[equals...] : pair[pair.index(after: equals)...]
            return (
                name: percentEncode(percentDecode(pair[..<equals]), keepingSlash: false),
                value: percentEncode(percentDecode(value), keepingSlash: false)
            )
        }
    }

    /// Parameters sorted by encoded name, then by encoded value, joined as `name=value&…`.
    private static func canonicalQuery(_ parameters: [(name: String, value: String)]) -> String {
        parameters
            // Encoded names and values are ASCII, where String order is byte order.
            .sorted { ($0.name, $0.value) < ($1.name, $1.value) }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    /// Encodes every byte outside the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) as `%XX`,
    /// uppercase, leaving `/` alone when asked.
    private static func percentEncode(_ bytes: some Sequence<UInt8>, keepingSlash: Bool) -> String {
        var encoded: [UInt8] = []
        for byte in bytes {
            if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; a `%` not followed by two hex digits stays literal.
    private static func percentDecode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var decoded: [UInt8] = []
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            guard byte == UInt8(ascii: "%"), index != bytes.endIndex, bytes.index(after: index) != bytes.endIndex,
                let high = hexValue(bytes[index]), let low = hexValue(bytes[bytes.index(after: index)])
            else {
                decoded.append(byte)
                continue
            }
            decoded.append(high << 4 | low)
            index = bytes.index(index, offsetBy: 2)
        }
        return decoded
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    fileprivate static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Percent-encoding uses uppercase hex digits, hashes and signatures lowercase ones.
    private static let hexDigits = Array("0123456789ABCDEF".utf8)
    private static let lowercaseHexDigits = Array("0123456789abcdef".utf8)

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        for byte in bytes {
            text += [lowercaseHexDigits[Int(byte >> 4)], lowercaseHexDigits[Int(byte & 0x0F)]]
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Checks the SigV4 signature of an incoming request against a known secret: the server side of
/// ``SigV4Signer``, for a loopback server that plays Bedrock in tests.
///
/// It recomputes the signature from the request as received and compares in constant time. A
/// request passes only if it is signed with the expected key, for the expected region and service,
/// signs `host` and `x-amz-date`, carries every header it claims to sign, and is dated within
/// ``maximumClockSkew`` of the verifier's clock. Only header signatures are checked: a presigned
/// URL (signature in the query) is refused for lack of an `Authorization` header.
public struct SigV4Verifier: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String
    /// Whether the signer is expected to have normalised the path (see ``SigV4Signer/normalizesPath``).
    public var normalizesPath: Bool
    /// How far `X-Amz-Date` may lie from the verifier's clock, either way. AWS allows five minutes.
    public var maximumClockSkew: Duration

    public init(
        credentials: AWSCredentials,
        region: String,
        service: String,
        normalizesPath: Bool = true,
        maximumClockSkew: Duration = .seconds(300)
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.normalizesPath = normalizesPath
        self.maximumClockSkew = maximumClockSkew
    }

    /// Verifies a request as received: `path` and `query` raw from the request line (still
    /// percent-encoded), every header, and the body.
    ///
    /// - Throws: ``SigV4VerificationFailure`` saying what is wrong.
    public func verify(
        method: String,
        path: String,
        query: String,
        headers: [(name: String, value: String)],
        body: some Collection<UInt8>,
        now: Date
    ) throws(SigV4VerificationFailure) {
        guard let authorizationHeader = Self.value(of: "authorization", in: headers) else {
            throw SigV4VerificationFailure(.missingAuthorization, "The request has no Authorization header.")
        }
        guard let authorization = Authorization(authorizationHeader) else {
            throw SigV4VerificationFailure(.malformedAuthorization, "The Authorization header is not an AWS4-HMAC-SHA256 signature.")
        }
        guard authorization.accessKeyID == credentials.accessKeyID else {
            throw SigV4VerificationFailure(.unknownAccessKey, "The request is signed with an unknown access key.")
        }
        guard let timestamp = Self.value(of: "x-amz-date", in: headers), let date = SigV4Signer.date(fromTimestamp: timestamp) else {
            throw SigV4VerificationFailure(.missingDate, "The request has no valid X-Amz-Date header.")
        }
        let skew = abs(now.timeIntervalSince(date))
        guard skew <= maximumClockSkew / .seconds(1) else {
            throw SigV4VerificationFailure(.requestTimeTooSkewed, "The request is dated \(Int(skew)) seconds away from the server's clock.")
        }
        let signer = SigV4Signer(credentials: credentials, region: region, service: service, normalizesPath: normalizesPath)
        guard authorization.scope == signer.credentialScope(date) else {
            throw SigV4VerificationFailure(
                .wrongCredentialScope,
                "The credential scope \(authorization.scope) does not match \(signer.credentialScope(date))."
            )
        }
        for required in ["host", "x-amz-date"] where !authorization.signedHeaders.contains(required) {
            throw SigV4VerificationFailure(.requiredHeaderNotSigned, "The \(required) header must be signed.")
        }
        var signedHeaders: [(name: String, value: String)] = []
        for name in authorization.signedHeaders {
            let matching = headers.filter { $0.name.lowercased() == name }
            guard !matching.isEmpty else {
                throw SigV4VerificationFailure(.signedHeaderMissing, "The signed header \(name) is missing from the request.")
            }
            signedHeaders += matching
        }
        if let token = credentials.sessionToken {
            // The token is compared like a secret: its length is not secret, its bytes are.
            guard let sent = Self.value(of: "x-amz-security-token", in: headers), Self.constantTimeEquals(sent, token) else {
                throw SigV4VerificationFailure(.invalidSessionToken, "The request does not carry the expected session token.")
            }
        }
        let payloadHash = SigV4Signer.payloadHash(body)
        if let declared = Self.value(of: "x-amz-content-sha256", in: headers), declared != payloadHash {
            throw SigV4VerificationFailure(.payloadHashMismatch, "The body does not match its x-amz-content-sha256 header.")
        }
        let canonicalRequest = signer.canonicalRequest(
            method: method,
            path: path,
            query: query,
            headers: signedHeaders,
            payloadHash: payloadHash
        )
        let stringToSign = signer.stringToSign(canonicalRequest: canonicalRequest, date: date)
        guard let sentSignature = Self.bytes(fromHex: authorization.signature),
            HMAC<SHA256>.isValidAuthenticationCode(sentSignature, authenticating: Array(stringToSign.utf8), using: signer.signingKey(date))
        else {
            throw SigV4VerificationFailure(.signatureMismatch, "The request signature does not match.")
        }
    }

    /// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
    private struct Authorization {
        let accessKeyID: Substring
        /// Everything after the access key id: `yyyyMMdd/region/service/aws4_request`.
        let scope: Substring
        let signedHeaders: [String]
        let signature: Substring

        init?(_ header: String) {
            let prefix = "\(SigV4Signer.algorithm) "
            guard header.hasPrefix(prefix) else { return nil }
            var fields: [String: Substring] = [:]
            for field in header.dropFirst(prefix.count).split(separator: ",") {
                let trimmed = field.trimmingCharacters(in: .whitespaces)
                guard let equals = trimmed.firstIndex(of: "=") else { return nil }
                fields[String(trimmed[..<equals])] = trimmed[trimmed.index(after: equals)...]
            }
            guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"], let signature = fields["Signature"],
                let slash = credential.firstIndex(of: "/")
            else { return nil }
            accessKeyID = credential[..<slash]
            scope = credential[credential.index(after: slash)...]
            self.signedHeaders = signedHeaders.split(separator: ";").map(String.init)
            self.signature = signature
        }
    }

    /// The values of every header named `name`, joined by commas, or nil when there is none.
    private static func value(of name: String, in headers: [(name: String, value: String)]) -> String? {
        let values = headers.filter { $0.name.lowercased() == name }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    private static func bytes(fromHex hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = SigV4Signer.hexValue(digits[index]), let low = SigV4Signer.hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let lhs = Array(lhs.utf8)
        let rhs = Array(rhs.utf8)
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Why ``SigV4Verifier`` refused a request. Its description is one sentence that names no secret.
public struct SigV4VerificationFailure: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; new codes can be added without breaking `switch`es elsewhere.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) { self.name = name }

        /// No `Authorization` header.
        public static let missingAuthorization = Code("missingAuthorization")
        /// An `Authorization` header that is not a SigV4 signature.
        public static let malformedAuthorization = Code("malformedAuthorization")
        /// Signed with an access key the verifier does not hold.
        public static let unknownAccessKey = Code("unknownAccessKey")
        /// No `X-Amz-Date`, or one that does not parse.
        public static let missingDate = Code("missingDate")
        /// `X-Amz-Date` too far from the verifier's clock.
        public static let requestTimeTooSkewed = Code("requestTimeTooSkewed")
        /// The credential scope names another day, region or service.
        public static let wrongCredentialScope = Code("wrongCredentialScope")
        /// `host` or `x-amz-date` is not among the signed headers.
        public static let requiredHeaderNotSigned = Code("requiredHeaderNotSigned")
        /// A header listed in `SignedHeaders` is absent.
        public static let signedHeaderMissing = Code("signedHeaderMissing")
        /// The session token is absent or not the expected one.
        public static let invalidSessionToken = Code("invalidSessionToken")
        /// The body does not hash to its `x-amz-content-sha256`.
        public static let payloadHashMismatch = Code("payloadHashMismatch")
        /// The recomputed signature differs.
        public static let signatureMismatch = Code("signatureMismatch")

        public var description: String { name }
    }

    public let code: Code
    /// One plain sentence.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
