public import CairnCore
public import Foundation

/// Resolves `env:` references from the process environment and `file:` references from disk
/// (mounted secrets), re-reading files on every call so that a rotated secret takes effect
/// without a restart. `stored:` references need ``StoredCredentials``.
public struct ProviderCredentials: CredentialResolver {
    private let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func secret(for reference: CredentialReference, tenant: TenantID) async throws -> ProviderSecret {
        switch reference {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else {
                throw CairnError(.misconfigured, "The environment variable \(name) holding a provider credential is not set.")
            }
            return ProviderSecret(value)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw CairnError(.misconfigured, "The provider credential file \(path) cannot be read.")
            }
            let value = text.trimmingCharacters(in: .newlines)
            guard !value.isEmpty else { throw CairnError(.misconfigured, "The provider credential file \(path) is empty.") }
            return ProviderSecret(value)
        case .stored(let name):
            throw CairnError(.misconfigured, "The stored credential '\(name)' cannot be used: no credential store is configured.")
        }
    }
}
