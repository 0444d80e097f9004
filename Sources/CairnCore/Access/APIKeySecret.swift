public import Crypto
import Foundation

/// The secret half of an API key: `cairn_<key id, 32 hex>_<43 base64url characters>`.
///
/// The key id is embedded so that verification looks up exactly one row instead of hashing
/// against every stored key. The random part carries 256 bits, so a single SHA-256 is a
/// sufficient one-way function for storage; a slow password hash would only add latency
/// to every request without adding security against guessing.
public struct APIKeySecret: Sendable {
    /// Every Cairn API key starts with this, so a token is told apart from a JWT at a glance.
    public static let prefix = "cairn_"

    public let keyID: APIKeyID
    /// The full token as the client presents it. Shown once, at creation.
    public let token: String

    /// Makes a fresh secret for `keyID` from the system's cryptographic random source.
    public static func generate(for keyID: APIKeyID) -> APIKeySecret {
        let random = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let token = prefix + compactHex(keyID) + "_" + base64URL(random)
        return APIKeySecret(keyID: keyID, token: token)
    }

    /// Parses a presented token; `nil` when it is not shaped like a Cairn key at all.
    public init?(token: String) {
        guard token.hasPrefix(Self.prefix) else { return nil }
        let body = token.dropFirst(Self.prefix.count)
        let parts = body.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 32, parts[1].count == 43 else { return nil }
        let hex = Array(parts[0])
        let dashed = [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }.joined(separator: "-")
        guard let id = APIKeyID(dashed) else { return nil }
        self.keyID = id
        self.token = token
    }

    private init(keyID: APIKeyID, token: String) {
        self.keyID = keyID
        self.token = token
    }

    /// What is stored: lowercase hex SHA-256 of the whole token.
    public var storedHash: String { Self.hash(token) }

    /// Lowercase hex SHA-256 of `token`; also used to key the identity cache.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }

    /// Compares a presented token against a stored hash without leaking where they differ.
    public func matches(storedHash: String) -> Bool {
        let presented = Array(self.storedHash.utf8)
        let stored = Array(storedHash.utf8)
        guard presented.count == stored.count else { return false }
        return zip(presented, stored).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func compactHex(_ id: APIKeyID) -> String {
        id.description.replacingOccurrences(of: "-", with: "")
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension Digest {
    /// Lowercase hexadecimal rendering of the digest bytes.
    public var hexString: String {
        map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
