import Crypto
import CryptoExtras
public import Foundation

/// An OIDC provider for tests: RSA, P-256 and Ed25519 signing keys, their JWKS, and tokens
/// signed with swift-crypto directly, independently of the jwt-kit code under test.
public struct TestIdentityProvider: Sendable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case rs256 = "RS256"
        case es256 = "ES256"
        case eddsa = "EdDSA"

        public var kid: String { "test-\(rawValue.lowercased())" }
    }

    public let issuer = "https://idp.test/realms/bank"
    public let audience = "cairn"
    private let rsa: _RSA.Signing.PrivateKey
    private let p256 = P256.Signing.PrivateKey()
    private let ed25519 = Curve25519.Signing.PrivateKey()

    public init() throws {
        rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    /// The public keys as a JWKS document, each with `kid` and `alg`.
    public func jwks() throws -> Data {
        let primitives = try rsa.publicKey.getKeyPrimitives()
        let point = p256.publicKey.rawRepresentation
        let keys: [[String: String]] = [
            [
                "kty": "RSA", "kid": Algorithm.rs256.kid, "alg": "RS256", "use": "sig", "n": Self.b64(primitives.modulus),
                "e": Self.b64(primitives.publicExponent),
            ],
            [
                "kty": "EC", "kid": Algorithm.es256.kid, "alg": "ES256", "crv": "P-256", "x": Self.b64(point.prefix(32)),
                "y": Self.b64(point.suffix(32)),
            ],
            ["kty": "OKP", "kid": Algorithm.eddsa.kid, "alg": "EdDSA", "crv": "Ed25519", "x": Self.b64(ed25519.publicKey.rawRepresentation)],
        ]
        return try JSONSerialization.data(withJSONObject: ["keys": keys])
    }

    /// Claims a valid token for `tenant` carries, valid for five minutes from `now`.
    public func claims(tenant: String, subject: String = "alice@bank.test", roles: [String] = ["analyst"], now: Date = Date()) -> [String: Any] {
        [
            "iss": issuer, "aud": audience, "sub": subject, "tenant": tenant, "roles": roles, "groups": ["risk"],
            "entity": ["northbank-uk"], "branch": "london", "clearance": "confidential",
            "iat": Int(now.timeIntervalSince1970), "nbf": Int(now.timeIntervalSince1970) - 5, "exp": Int(now.timeIntervalSince1970) + 300,
        ]
    }

    /// A compact JWS over `claims`. `header` entries override the defaults (`alg`, `kid`, `typ`);
    /// names in `omitting` are left out of the header altogether.
    public func token(
        _ claims: [String: Any],
        algorithm: Algorithm = .rs256,
        header: [String: Any] = [:],
        omitting: Set<String> = []
    ) throws -> String {
        var fullHeader: [String: Any] = ["alg": algorithm.rawValue, "kid": algorithm.kid, "typ": "JWT"]
        fullHeader.merge(header) { _, new in new }
        for name in omitting { fullHeader[name] = nil }
        let signingInput =
            Self.b64(try JSONSerialization.data(withJSONObject: fullHeader)) + "." + Self.b64(try JSONSerialization.data(withJSONObject: claims))
        return signingInput + "." + Self.b64(try sign(Data(signingInput.utf8), with: algorithm))
    }

    public func sign(_ data: Data, with algorithm: Algorithm) throws -> Data {
        switch algorithm {
        case .rs256: try rsa.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation
        case .es256: try p256.signature(for: data).rawRepresentation
        case .eddsa: try ed25519.signature(for: data)
        }
    }

    /// The RSA public key in DER, the bytes an HS/RS key-confusion attack would use as an HMAC secret.
    public var rsaPublicKeyDER: Data { rsa.publicKey.derRepresentation }

    public static func b64(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
