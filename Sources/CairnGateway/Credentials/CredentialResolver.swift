public import CairnCore
import Foundation

/// Turns a credential reference into the secret, at the moment a call needs it.
public protocol CredentialResolver: Sendable {
    func secret(for reference: CredentialReference) async throws -> ProviderSecret
}
