public import CairnCore
public import Foundation
import JWTKit

/// The identity provider's signing keys, by `kid`, each pinned to one algorithm.
///
/// Keys are loaded leniently (a key Cairn cannot use — an encryption key, an unsupported curve —
/// is skipped, not fatal to the whole set) but used strictly (the key's algorithm is fixed at
/// load time; the token header never chooses it). Symmetric (`oct`) keys are never accepted:
/// a JWKS is public, and HMAC with public material is the classic key-confusion hole.
public actor JSONWebKeySet {
    /// A verification key and the one algorithm it verifies.
    struct Key: Sendable {
        let algorithm: String
        let signer: any JWTAlgorithm
    }

    /// Algorithms Cairn verifies.
    public static let supportedAlgorithms: Set<String> = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    ]

    private var keys: [String: Key] = [:]
    /// Fetches are numbered as they start; a slower, older fetch never replaces a newer set.
    private var fetchesStarted = 0
    private var appliedFetch = 0
    private let fetch: @Sendable () async throws -> Data
    private var lastFetch: ContinuousClock.Instant?
    /// An unknown `kid` triggers a re-fetch (the IdP may have rotated keys), at most this often,
    /// so a flood of tokens with made-up `kid`s cannot turn into a flood of fetches. `nil` for a
    /// fixed key set that is never re-fetched.
    private let minimumRefreshInterval: Duration?

    /// - Parameter fetch: returns the JWKS document (from a file or a URL).
    public init(minimumRefreshInterval: Duration? = .seconds(60), fetch: @escaping @Sendable () async throws -> Data) {
        self.fetch = fetch
        self.minimumRefreshInterval = minimumRefreshInterval
    }

    /// A key set from a JWKS document already in hand (tests, static configuration).
    public init(document: Data) async throws(CairnError) {
        self.init(minimumRefreshInterval: nil) { document }
        try await refresh()
    }

    /// Number of usable keys currently loaded.
    public var count: Int { keys.count }

    /// Fetches and replaces the key set. Throws when the document cannot be fetched or holds
    /// no usable key; the previous keys stay in place then.
    public func refresh() async throws(CairnError) {
        lastFetch = .now
        fetchesStarted += 1
        let fetchNumber = fetchesStarted
        let document: Data
        do {
            document = try await fetch()
        } catch {
            throw CairnError(.unavailable, "The OIDC key set (JWKS) cannot be fetched.", underlying: error)
        }
        let loaded = try await Self.parse(document)
        guard !loaded.isEmpty else {
            throw CairnError(.misconfigured, "The OIDC key set (JWKS) holds no signing key Cairn can use.")
        }
        guard fetchNumber > appliedFetch else { return }
        appliedFetch = fetchNumber
        keys = loaded
    }

    func key(id: String) async -> Key? {
        if let key = keys[id] { return key }
        guard let minimumRefreshInterval else { return nil }
        if let lastFetch, ContinuousClock.now - lastFetch < minimumRefreshInterval { return nil }
        do {
            try await refresh()
        } catch {
            return nil
        }
        return keys[id]
    }

    static func parse(_ document: Data) async throws(CairnError) -> [String: Key] {
        guard case .object(let root)? = try? JSONDecoder().decode(JSONValue.self, from: document),
            case .array(let entries)? = root["keys"]
        else {
            throw CairnError(.misconfigured, "The OIDC key set is not a JWKS document (an object with a 'keys' array).")
        }
        var loaded: [String: Key] = [:]
        for entry in entries {
            guard case .object(let fields) = entry,
                let kid = fields["kid"]?.string,
                fields["use"].map({ $0.string == "sig" }) ?? true,
                fields["key_ops"].map({ $0.strings?.contains("verify") ?? false }) ?? true,
                let encoded = try? JSONEncoder().encode(entry),
                var jwk = try? JSONDecoder().decode(JWK.self, from: encoded)
            else { continue }
            if jwk.algorithm == nil {
                guard let inferred = inferredAlgorithm(jwk) else { continue }
                jwk.algorithm = inferred
            }
            guard let algorithm = jwk.algorithm?.rawValue, supportedAlgorithms.contains(algorithm) else { continue }
            // jwt-kit builds the signer; a fresh collection per key keeps one bad key from
            // affecting the others and leaves no default key to fall back on.
            let collection = JWTKeyCollection()
            guard (try? await collection.add(jwk: jwk)) != nil,
                let signer = try? await collection.getKey(for: JWKIdentifier(string: kid), alg: algorithm)
            else { continue }
            loaded[kid] = Key(algorithm: algorithm, signer: signer)
        }
        return loaded
    }

    /// The algorithm a key without `alg` verifies: fixed by its curve, RS256 for RSA.
    private static func inferredAlgorithm(_ jwk: JWK) -> JWK.Algorithm? {
        switch (jwk.keyType, jwk.curve?.rawValue) {
        case (.ecdsa, "P-256"): .es256
        case (.ecdsa, "P-384"): .es384
        case (.ecdsa, "P-521"): .es512
        case (.octetKeyPair, "Ed25519"): .eddsa
        case (.rsa, _): .rs256
        default: nil
        }
    }
}
