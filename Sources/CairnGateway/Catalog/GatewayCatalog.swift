public import CairnCore

/// The providers, deployments and aliases one tenant sees: the platform's, with the tenant's own
/// layered on top. A tenant's alias or deployment of the same name overrides the platform's.
public struct GatewayCatalog: Sendable, Equatable {
    public var providers: [String: ModelProviderConfiguration]
    public var deployments: [String: ModelDeployment]
    public var aliases: [String: ModelAlias]
    /// The tenant's policy: personal data is redacted from every request sent to a provider
    /// (``PersonalDataRedaction``). The platform catalog never sets it; a tenant does.
    public var redactsPersonalData = false

    public init(providers: [ModelProviderConfiguration] = [], deployments: [ModelDeployment] = [], aliases: [ModelAlias] = []) {
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.deployments = Dictionary(deployments.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.aliases = Dictionary(aliases.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// This catalog with `overrides` laid over it, name by name.
    public func overlaid(with overrides: GatewayCatalog) -> GatewayCatalog {
        var merged = self
        merged.providers.merge(overrides.providers) { _, tenant in tenant }
        merged.deployments.merge(overrides.deployments) { _, tenant in tenant }
        merged.aliases.merge(overrides.aliases) { _, tenant in tenant }
        merged.redactsPersonalData = redactsPersonalData || overrides.redactsPersonalData
        return merged
    }

    /// One step of a route: a deployment and the provider that serves it.
    public struct Hop: Sendable, Hashable {
        public let deployment: ModelDeployment
        public let provider: ModelProviderConfiguration
    }

    /// The deployments `alias` routes to, in the order to try them, limited to `capability`.
    /// A deployment named directly is a route of one. `nil` when the name is unknown.
    public func route(
        _ name: String,
        capability: DeploymentCapability,
        using generator: inout some RandomNumberGenerator
    ) -> [Hop]? {
        let alias = aliases[name] ?? (deployments[name].map { ModelAlias(name: name, deployments: [$0.name]) })
        guard let alias else { return nil }
        var hops = alias.deployments.compactMap { name -> Hop? in
            guard let deployment = deployments[name], deployment.capability == capability, let provider = providers[deployment.provider] else {
                return nil
            }
            return Hop(deployment: deployment, provider: provider)
        }
        if alias.strategy == .weighted { hops = Self.weightedOrder(hops, using: &generator) }
        return hops.isEmpty ? nil : hops
    }

    /// Draws without replacement, each draw by weight: the first hop takes each deployment's
    /// share of traffic, and the fallbacks follow in a weighted order too.
    static func weightedOrder(_ hops: [Hop], using generator: inout some RandomNumberGenerator) -> [Hop] {
        var remaining = hops
        var ordered: [Hop] = []
        while !remaining.isEmpty {
            let total = remaining.reduce(0) { $0 + max(0, $1.deployment.weight) }
            guard total > 0 else { return ordered + remaining }
            var draw = Int.random(in: 0..<total, using: &generator)
            let index =
                remaining.firstIndex { hop in
                    draw -= max(0, hop.deployment.weight)
                    return draw < 0
                } ?? 0
            ordered.append(remaining.remove(at: index))
        }
        return ordered
    }

    /// The alias and deployment names a caller may ask for, sorted.
    public func modelNames(capability: DeploymentCapability? = nil) -> [String] {
        var generator = SystemRandomNumberGenerator()
        let names = Set(aliases.keys).union(deployments.keys)
        return names.filter { name in
            guard let capability else { return true }
            return route(name, capability: capability, using: &generator) != nil
        }.sorted()
    }
}

/// Where the gateway reads its catalog: the database in `cairn serve`, a fixed value in tests.
public protocol GatewayCatalogSource: Sendable {
    /// The catalog `tenant` sees.
    func catalog(for tenant: TenantID) async throws -> GatewayCatalog
    /// `tenant`'s entries changed on this node: a cached copy must not be served again.
    func catalogChanged(for tenant: TenantID)
}

extension GatewayCatalogSource {
    public func catalogChanged(for tenant: TenantID) {}
}

/// A catalog that never changes.
public struct FixedGatewayCatalog: GatewayCatalogSource {
    public let value: GatewayCatalog

    public init(_ value: GatewayCatalog) { self.value = value }

    public func catalog(for tenant: TenantID) async throws -> GatewayCatalog { value }
}
