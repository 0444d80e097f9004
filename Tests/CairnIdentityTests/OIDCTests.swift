import CairnCore
import CairnIdentity
import CairnStore
import CairnTestSupport
import Crypto
import Foundation
import Logging
import Testing

/// A store with tenant `northbank`, an authenticator trusting `provider`, and the provider.
func withOIDC<Result: Sendable>(
    claims: ClaimMapping = ClaimMapping(),
    _ body: @Sendable (Authenticator, TestIdentityProvider) async throws -> Result
) async throws -> Result {
    let provider = try TestIdentityProvider()
    return try await withTestStore(.sqlite) { store in
        _ = try await store.tenants.create(name: TenantName("northbank"), actor: "test")
        let keySet = try await JSONWebKeySet(document: try provider.jwks())
        let oidc = OIDCAuthenticator(
            keySet: keySet,
            configuration: OIDCConfiguration(issuer: provider.issuer, audience: provider.audience, clockSkew: 60, claims: claims),
            store: store
        )
        let authenticator = Authenticator(store: store, oidc: oidc, operatorToken: nil, cacheLifetime: .seconds(30), logger: .init(label: "test"))
        return try await body(authenticator, provider)
    }
}

func rejection(_ authenticator: Authenticator, _ token: String) async -> CairnError? {
    do {
        _ = try await authenticator.caller(authorization: "Bearer \(token)")
        return nil
    } catch {
        return error
    }
}

@Suite("OIDC bearer tokens")
struct OIDCTests {
    @Test("A token signed by the configured JWKS yields the mapped principal", arguments: TestIdentityProvider.Algorithm.allCases)
    func accepted(algorithm: TestIdentityProvider.Algorithm) async throws {
        try await withOIDC { authenticator, provider in
            let token = try provider.token(provider.claims(tenant: "northbank", roles: ["analyst", "not-a-cairn-role"]), algorithm: algorithm)
            guard case .principal(let principal) = try await authenticator.caller(authorization: "Bearer \(token)") else {
                Issue.record("expected a tenant principal")
                return
            }
            #expect(principal.tenantName.rawValue == "northbank")
            #expect(principal.subject == "alice@bank.test")
            #expect(principal.roles == [.analyst])
            #expect(principal.groups == ["risk"])
            #expect(principal.attributes == AccessAttributes(entities: ["northbank-uk"], branches: ["london"], clearance: .confidential))
            #expect(principal.credential == .oidc(issuer: provider.issuer))
        }
    }

    @Test("Expired, not-yet-valid, wrong-audience and wrong-issuer tokens are rejected")
    func registeredClaims() async throws {
        try await withOIDC { authenticator, provider in
            let now = Date()
            var expired = provider.claims(tenant: "northbank")
            expired["exp"] = Int(now.timeIntervalSince1970) - 120
            var early = provider.claims(tenant: "northbank")
            early["nbf"] = Int(now.timeIntervalSince1970) + 120
            var audience = provider.claims(tenant: "northbank")
            audience["aud"] = ["some-other-app"]
            var issuer = provider.claims(tenant: "northbank")
            issuer["iss"] = "https://evil.test"
            var noExpiry = provider.claims(tenant: "northbank")
            noExpiry["exp"] = nil
            for (claims, reason) in [
                (expired, "expired"), (early, "not valid yet"), (audience, "audience"), (issuer, "issuer"), (noExpiry, "no expiry"),
            ] {
                let error = await rejection(authenticator, try provider.token(claims))
                #expect(error?.code == .unauthenticated, "\(reason)")
                #expect(error?.message.contains(reason) == true, "\(error?.message ?? "accepted") should say \(reason)")
            }
        }
    }

    @Test("Clock skew within tolerance is accepted")
    func skew() async throws {
        try await withOIDC { authenticator, provider in
            var claims = provider.claims(tenant: "northbank")
            claims["exp"] = Int(Date().timeIntervalSince1970) - 30
            let token = try provider.token(claims)
            #expect(await rejection(authenticator, token) == nil)
        }
    }

    @Test("alg none, HS256 with the RSA public key, unknown kid, missing kid, and tampering are rejected")
    func attacks() async throws {
        try await withOIDC { authenticator, provider in
            let claims = provider.claims(tenant: "northbank", roles: ["admin"])
            let valid = try provider.token(claims)
            let parts = valid.split(separator: ".").map(String.init)
            let b64: (Data) -> String = { TestIdentityProvider.b64($0) }

            let noneHeader = b64(try JSONSerialization.data(withJSONObject: ["alg": "none", "kid": TestIdentityProvider.Algorithm.rs256.kid]))
            let unsigned = "\(noneHeader).\(parts[1])."

            let hsHeader = b64(try JSONSerialization.data(withJSONObject: ["alg": "HS256", "kid": TestIdentityProvider.Algorithm.rs256.kid]))
            let hsInput = "\(hsHeader).\(parts[1])"
            let mac = HMAC<SHA256>.authenticationCode(for: Data(hsInput.utf8), using: SymmetricKey(data: provider.rsaPublicKeyDER))
            let confused = "\(hsInput).\(b64(Data(mac)))"

            var elevated = claims
            elevated["tenant"] = "northbank"
            elevated["sub"] = "mallory"
            let tamperedPayload = "\(parts[0]).\(b64(try JSONSerialization.data(withJSONObject: elevated))).\(parts[2])"

            let cases: [(String, String)] = [
                (unsigned, "alg none"),
                (confused, "HS256 key confusion"),
                (try provider.token(claims, header: ["kid": "rotated-away"]), "unknown kid"),
                (try provider.token(claims, omitting: ["kid"]), "missing kid"),
                (try provider.token(claims, header: ["kid": NSNull()]), "null kid"),
                (try provider.token(claims, algorithm: .es256, header: ["kid": TestIdentityProvider.Algorithm.rs256.kid]), "alg/key mismatch"),
                (tamperedPayload, "tampered payload"),
                (String(valid.dropLast(2)) + (valid.hasSuffix("AA") ? "BA" : "AA"), "tampered signature"),
                (valid + "=", "padded base64url"),
                (parts[0] + "." + parts[1], "two segments"),
            ]
            for (token, name) in cases {
                #expect(await rejection(authenticator, token)?.code == .unauthenticated, "\(name) must be rejected")
            }
            #expect(await rejection(authenticator, valid) == nil, "the untampered token must still pass")
        }
    }

    @Test("A token for an unknown tenant is rejected")
    func unknownTenant() async throws {
        try await withOIDC { authenticator, provider in
            let token = try provider.token(provider.claims(tenant: "ghostbank"))
            #expect(await rejection(authenticator, token)?.code == .unauthenticated)
        }
    }

    @Test("Claim names can be remapped")
    func claimMapping() async throws {
        var mapping = ClaimMapping()
        mapping.tenant = "org"
        mapping.roles = "cairn_roles"
        try await withOIDC(claims: mapping) { authenticator, provider in
            var claims = provider.claims(tenant: "ignored")
            claims["org"] = "northbank"
            claims["cairn_roles"] = ["viewer"]
            guard case .principal(let principal) = try await authenticator.caller(authorization: "Bearer \(try provider.token(claims))") else {
                Issue.record("expected a tenant principal")
                return
            }
            #expect(principal.roles == [.viewer])
            #expect(principal.tenantName.rawValue == "northbank")
        }
    }
}
