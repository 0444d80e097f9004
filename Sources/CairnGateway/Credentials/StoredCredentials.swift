public import CairnCore
import CairnStore

/// Resolves `stored:` references to the calling tenant's credentials, opened with the master
/// key, and hands `env:` and `file:` references (the platform's) to ``ProviderCredentials``.
///
/// Secrets are read on every call and not kept: a credential replaced through the API is used
/// from the next call on, on every node, and a secret is in memory only while a call needs it.
public struct StoredCredentials: CredentialResolver {
    private let repository: GatewayCatalogRepository
    private let masterKey: MasterKey?
    private let platform: ProviderCredentials

    /// - Parameter masterKey: `nil` when none is configured; `stored:` references then fail.
    public init(repository: GatewayCatalogRepository, masterKey: MasterKey?, platform: ProviderCredentials = ProviderCredentials()) {
        self.repository = repository
        self.masterKey = masterKey
        self.platform = platform
    }

    public func secret(for reference: CredentialReference, tenant: TenantID) async throws -> ProviderSecret {
        guard case .stored(let name) = reference else { return try await platform.secret(for: reference, tenant: tenant) }
        guard let masterKey else {
            throw CairnError(.misconfigured, "The stored credential '\(name)' cannot be opened: no master key is configured (CAIRN_MASTER_KEY).")
        }
        return ProviderSecret(try await repository.secret(ofCredential: name, tenant: tenant, key: masterKey))
    }
}
