public import CairnCore
import Foundation

/// Turns a credential reference into the secret, at the moment a call needs it.
public protocol CredentialResolver: Sendable {
    /// The secret `reference` names, for a call made in `tenant`: `stored:` references name
    /// the tenant's own stored credentials.
    func secret(for reference: CredentialReference, tenant: TenantID) async throws -> ProviderSecret
}
