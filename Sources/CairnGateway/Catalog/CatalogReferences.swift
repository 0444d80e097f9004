public import CairnCore
import CairnStore

/// A name one catalog entry uses that the catalog does not define: a deployment's provider, an
/// alias's deployment, or a provider's stored credential.
public struct DanglingReference: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case provider, deployment, alias, credential
    }

    /// The entry holding the reference.
    public let holder: Kind
    public let holderName: String
    /// What the reference names.
    public let target: Kind
    public let targetName: String

    /// For a change that adds the reference: "The alias 'a' names the unknown deployment 'd'."
    public var unknownTargetSentence: String {
        "The \(holder.rawValue) '\(holderName)' names the unknown \(target.rawValue) '\(targetName)'."
    }

    /// For a change that removes the target: "The deployment 'd' is still used by the alias 'a'; …"
    public var stillUsedSentence: String {
        "The \(target.rawValue) '\(targetName)' is still used by the \(holder.rawValue) '\(holderName)'; change or delete that first."
    }
}

extension GatewayCatalog {
    /// The references held by `holders`' entries (this catalog itself, or the tenant entries
    /// laid over it) that this catalog does not define, deployments' before aliases', each by
    /// name. A provider's `stored:` credential is looked up in `credentials` when given.
    public func danglingReferences(from holders: GatewayCatalog, credentials: Set<String>? = nil) -> [DanglingReference] {
        var dangling: [DanglingReference] = []
        if let credentials {
            for provider in holders.providers.values.sorted(by: { $0.name < $1.name }) {
                if case .stored(let name) = provider.credential, !credentials.contains(name) {
                    dangling.append(DanglingReference(holder: .provider, holderName: provider.name, target: .credential, targetName: name))
                }
            }
        }
        for deployment in holders.deployments.values.sorted(by: { $0.name < $1.name }) where providers[deployment.provider] == nil {
            dangling.append(DanglingReference(holder: .deployment, holderName: deployment.name, target: .provider, targetName: deployment.provider))
        }
        for alias in holders.aliases.values.sorted(by: { $0.name < $1.name }) {
            for name in alias.deployments where deployments[name] == nil {
                dangling.append(DanglingReference(holder: .alias, holderName: alias.name, target: .deployment, targetName: name))
            }
        }
        return dangling
    }

    /// A tenant's stored entries as a catalog of their own.
    public init(_ entries: TenantGatewayEntries) {
        self.init(providers: entries.providers, deployments: entries.deployments, aliases: entries.aliases)
        redactsPersonalData = entries.redactsPersonalData
    }

    /// Checks the tenant entries a change would leave, laid over this (the platform) catalog:
    /// a put must not name what neither defines (422), and a delete must not take away what
    /// another of the tenant's entries still uses (409). References the change does not touch
    /// are left alone, so an entry the platform catalog has since orphaned blocks nothing else.
    public func checkTenantEntries(_ entries: TenantGatewayEntries, after change: GatewayCatalogChange) throws(CairnError) {
        let tenant = GatewayCatalog(entries)
        // Prices on the platform's providers are the platform's: a tenant deployment there could
        // declare a price of zero and spend past the budget the operator set. A tenant prices only
        // deployments on its own providers, which call out with its own stored credentials.
        if case .putDeployment(let entry) = change, tenant.providers[entry.provider] == nil, providers[entry.provider] != nil {
            throw CairnError(
                .invalidInput,
                "The deployment '\(entry.name)' must use one of the tenant's own providers; '\(entry.provider)' is the platform's, and the platform prices its deployments."
            )
        }
        let dangling = overlaid(with: tenant).danglingReferences(from: tenant, credentials: entries.credentialNames)
        func held(by kind: DanglingReference.Kind, _ name: String) -> DanglingReference? {
            dangling.first { $0.holder == kind && $0.holderName == name }
        }
        func naming(_ kind: DanglingReference.Kind, _ name: String) -> DanglingReference? {
            dangling.first { $0.target == kind && $0.targetName == name }
        }
        let added: DanglingReference?
        let orphaned: DanglingReference?
        switch change {
        case .putProvider(let entry): (added, orphaned) = (held(by: .provider, entry.name), nil)
        case .putDeployment(let entry): (added, orphaned) = (held(by: .deployment, entry.name), nil)
        case .putAlias(let entry): (added, orphaned) = (held(by: .alias, entry.name), nil)
        case .deleteProvider(let name): (added, orphaned) = (nil, naming(.provider, name))
        case .deleteDeployment(let name): (added, orphaned) = (nil, naming(.deployment, name))
        // Nothing in a catalog refers to an alias.
        case .deleteAlias: (added, orphaned) = (nil, nil)
        }
        if let added { throw CairnError(.invalidInput, added.unknownTargetSentence) }
        if let orphaned { throw CairnError(.conflict, orphaned.stillUsedSentence) }
    }
}
