public import CairnCore
import Crypto
import Foundation

/// The key tenants' stored provider credentials are sealed with: 32 bytes for AES-256-GCM,
/// configured as base64 (`CAIRN_MASTER_KEY`, or the file `CAIRN_MASTER_KEY_FILE` names).
///
/// Each secret is sealed under a fresh random 96-bit nonce, with the tenant id and the
/// credential's name as authenticated data: a sealed row copied to another tenant, or renamed,
/// no longer opens. The key's descriptions are redacted.
public struct MasterKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let key: SymmetricKey

    /// Reads the base64 text of exactly 32 bytes; surrounding whitespace (a file's trailing
    /// newline) is ignored.
    public init(base64 text: String) throws(CairnError) {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw CairnError(
                .misconfigured,
                "The master key must be the base64 text of exactly 32 random bytes, such as `openssl rand -base64 32` prints."
            )
        }
        key = SymmetricKey(data: bytes)
    }

    /// A new random key, for tests and first set-up.
    public static func generate() -> MasterKey { MasterKey(key: SymmetricKey(size: .bits256)) }

    private init(key: SymmetricKey) { self.key = key }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "MasterKey(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// A secret as stored: the nonce, and the ciphertext with the 16-byte tag after it.
    struct Sealed: Sendable {
        let nonce: Data
        let ciphertext: Data
    }

    func seal(_ secret: String, tenant: TenantID, name: String) throws(CairnError) -> Sealed {
        do {
            let box = try AES.GCM.seal(Data(secret.utf8), using: key, authenticating: Self.context(tenant: tenant, name: name))
            return Sealed(nonce: box.nonce.withUnsafeBytes { Data($0) }, ciphertext: box.ciphertext + box.tag)
        } catch {
            throw CairnError(.internalFailure, "The credential could not be encrypted.", underlying: error)
        }
    }

    func open(_ sealed: Sealed, tenant: TenantID, name: String) throws(CairnError) -> String {
        let tagLength = 16
        do {
            guard sealed.ciphertext.count >= tagLength else { throw CryptoKitError.incorrectParameterSize }
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: sealed.nonce),
                ciphertext: sealed.ciphertext.dropLast(tagLength),
                tag: sealed.ciphertext.suffix(tagLength)
            )
            let plaintext = try AES.GCM.open(box, using: key, authenticating: Self.context(tenant: tenant, name: name))
            guard let secret = String(data: plaintext, encoding: .utf8) else { throw CryptoKitError.authenticationFailure }
            return secret
        } catch {
            throw CairnError(
                .integrityViolation,
                "The stored credential '\(name)' cannot be decrypted: it was sealed under another master key, or altered.",
                underlying: error
            )
        }
    }

    /// The authenticated data binding a sealed secret to its place. Names hold no control
    /// characters, so the NUL separators make the encoding unambiguous.
    private static func context(tenant: TenantID, name: String) -> Data {
        Data("cairn.gateway.credential.v1\u{0}\(tenant)\u{0}\(name)".utf8)
    }
}
