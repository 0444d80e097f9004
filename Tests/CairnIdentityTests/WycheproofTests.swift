import CairnCore
import CairnIdentity
import CairnTestSupport
import Foundation
import Testing

/// Walks Project Wycheproof's JSON Web Signature vectors through Cairn's JWKS loader and JWS
/// verifier, exactly as production uses them.
@Suite("Wycheproof JWS vectors")
struct WycheproofTests {
    struct Vectors: Decodable {
        struct Group: Decodable {
            let comment: String?
            let `public`: [String: JSONValue]?
            let `private`: [String: JSONValue]?
            let tests: [Case]
        }

        struct Case: Decodable {
            let tcId: Int
            let comment: String
            let jws: String
            let result: String
        }

        let testGroups: [Group]
    }

    /// Vectors marked valid that Cairn refuses on purpose, with the reason.
    static func deliberatelyRefused(_ group: Vectors.Group, _ test: Vectors.Case) -> String? {
        let key = group.public ?? group.private ?? [:]
        if key["kty"] == .string("oct") {
            return "symmetric (HMAC) keys are never trusted from a JWKS"
        }
        if key["alg"] == .string("ES521") {
            return "'ES521' is not a registered JWS algorithm (the file's RFC 7520 key mislabels ES512)"
        }
        // RFC 7520 figure 20 token is PS384 but its key is labelled PS256; Cairn pins the
        // key's algorithm and refuses a different one in the header.
        if [346, 350].contains(test.tcId) {
            return "the key is pinned to PS256 and the token claims PS384"
        }
        return nil
    }

    @Test("Every JWS the file marks invalid is rejected; every valid one Cairn supports is accepted")
    func walk() async throws {
        let url = SharedData.folder("wycheproof").appendingPathComponent("json_web_signature_test.json")
        let vectors = try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))

        var invalidSeen = 0
        var validAccepted = 0
        for group in vectors.testGroups {
            let jwk = try #require(group.public ?? group.private)
            let document = try JSONEncoder().encode(["keys": [JSONValue.object(jwk)]])
            let keySet = JSONWebKeySet(minimumRefreshInterval: nil) { document }
            // A group whose key Cairn cannot use (oct, encryption-only, non-standard alg) leaves
            // an empty set: every token of it must then be rejected.
            try? await keySet.refresh()
            let verifier = JWSVerifier(keySet: keySet)
            for test in group.tests {
                let accepted: Bool
                do {
                    _ = try await verifier.verify(test.jws)
                    accepted = true
                } catch {
                    accepted = false
                }
                if test.result == "invalid" {
                    invalidSeen += 1
                    #expect(!accepted, "tcId \(test.tcId) (\(test.comment)) is invalid but was accepted")
                } else if let reason = Self.deliberatelyRefused(group, test) {
                    #expect(!accepted, "tcId \(test.tcId) should be refused: \(reason)")
                } else {
                    #expect(accepted, "tcId \(test.tcId) (\(test.comment)) is valid but was rejected")
                    if accepted { validAccepted += 1 }
                }
            }
        }
        #expect(invalidSeen == 355)
        #expect(validAccepted == 32)
    }
}
