public import CairnCore
public import Foundation
import JWTKit

/// Checks compact JWS signatures against a key set, strictly.
///
/// jwt-kit's own `verify` falls back to a default key for an unknown `kid`, lets the header's
/// `alg` pick the algorithm for keys without one, and accepts non-canonical base64url. This
/// verifier parses the token itself and only then asks jwt-kit to check the signature with the
/// key named by `kid`, under the algorithm the key set pinned for it:
/// - exactly three segments of canonical, unpadded base64url;
/// - a JSON-object header with no `crit`, a known `kid`, and an `alg` equal to the key's;
/// - so `alg: none`, HS/RS confusion and unknown or missing `kid`s all fail before any crypto.
public struct JWSVerifier: Sendable {
    public let keySet: JSONWebKeySet

    public init(keySet: JSONWebKeySet) { self.keySet = keySet }

    /// Verifies `token` and returns its payload bytes exactly as signed (not necessarily JSON);
    /// `unauthenticated` with the reason otherwise.
    public func verify(_ token: String) async throws(CairnError) -> Data {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3 else { throw Self.rejected("it is not a compact JWS") }
        guard let headerBytes = Base64URL.decodeCanonical(segments[0]),
            let payload = Base64URL.decodeCanonical(segments[1]),
            let signature = Base64URL.decodeCanonical(segments[2])
        else { throw Self.rejected("it is not canonical base64url") }
        guard let header = JSONValue.object(from: headerBytes) else { throw Self.rejected("its header is not a JSON object") }
        guard header["crit"] == nil else { throw Self.rejected("it demands critical header extensions Cairn does not implement") }
        guard let kid = header["kid"]?.string else { throw Self.rejected("its header names no key (kid)") }
        guard let alg = header["alg"]?.string else { throw Self.rejected("its header names no algorithm") }
        guard let key = await keySet.key(id: kid) else { throw Self.rejected("it was signed by a key the configured key set does not hold") }
        guard alg == key.algorithm else { throw Self.rejected("its algorithm does not match the key's") }

        let signingInput = Data(token.utf8.prefix(segments[0].utf8.count + 1 + segments[1].utf8.count))
        let valid: Bool
        do {
            valid = try key.signer.verify(signature, signs: signingInput)
        } catch {
            valid = false
        }
        guard valid else { throw Self.rejected("its signature does not verify") }
        return payload
    }

    static func rejected(_ reason: String) -> CairnError {
        CairnError(.unauthenticated, "The bearer token was rejected because \(reason).")
    }
}

/// Strict RFC 7515 base64url: alphabet only, no padding, and zero unused trailing bits, so
/// that exactly one encoding of each signature is accepted.
enum Base64URL {
    static func decodeCanonical(_ text: Substring) -> Data? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 != 1 else { return nil }
        var values: [UInt8] = []
        values.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        if let last = values.last {
            switch values.count % 4 {
            case 2 where last & 0x0F != 0: return nil
            case 3 where last & 0x03 != 0: return nil
            default: break
            }
        }
        var output = Data(capacity: values.count * 3 / 4)
        var index = 0
        while index + 4 <= values.count {
            let (a, b, c, d) = (values[index], values[index + 1], values[index + 2], values[index + 3])
            output.append(contentsOf: [a << 2 | b >> 4, (b & 0x0F) << 4 | c >> 2, (c & 0x03) << 6 | d])
            index += 4
        }
        switch values.count - index {
        case 2: output.append(values[index] << 2 | values[index + 1] >> 4)
        case 3:
            output.append(values[index] << 2 | values[index + 1] >> 4)
            output.append((values[index + 1] & 0x0F) << 4 | values[index + 2] >> 2)
        default: break
        }
        return output
    }
}
