public import CairnCore
public import Foundation

/// The gateway catalog as JSON: what an operator writes in the file `CAIRN_GATEWAY_CATALOG`
/// names. Prices are dollars per million tokens and timeouts seconds, as provider price lists
/// and runbooks state them.
///
/// ```json
/// {
///   "providers": [{"name": "openai", "kind": "openai", "base_url": "https://api.openai.com/v1", "credential": "env:OPENAI_API_KEY"}],
///   "deployments": [{"name": "gpt-4o-mini", "provider": "openai", "model": "gpt-4o-mini",
///                    "input_usd_per_million": 0.15, "output_usd_per_million": 0.6,
///                    "timeouts": {"connect": 5, "first_token": 30, "total": 120}, "max_concurrency": 64}],
///   "aliases": [{"name": "chat", "strategy": "ordered", "deployments": ["gpt-4o-mini"]}]
/// }
/// ```
public struct GatewayCatalogDocument: Codable, Sendable {
    public struct Provider: Codable, Sendable {
        public var name: String
        public var kind: ProviderKind
        public var baseURL: String
        public var credential: CredentialReference?
        public var apiVersion: String?
        public var region: String?

        enum CodingKeys: String, CodingKey {
            case name, kind, credential, region
            case baseURL = "base_url"
            case apiVersion = "api_version"
        }
    }

    public struct Timeouts: Codable, Sendable {
        public var connect: Double?
        public var firstToken: Double?
        public var total: Double?

        enum CodingKeys: String, CodingKey {
            case connect, total
            case firstToken = "first_token"
        }
    }

    public struct Deployment: Codable, Sendable {
        public var name: String
        public var provider: String
        public var model: String
        public var capability: DeploymentCapability?
        public var inputUSDPerMillion: Double?
        public var outputUSDPerMillion: Double?
        public var timeouts: Timeouts?
        public var maxConcurrency: Int?
        public var defaultMaxOutputTokens: Int?
        public var weight: Int?
        public var dimension: Int?

        enum CodingKeys: String, CodingKey {
            case name, provider, model, capability, timeouts, weight, dimension
            case inputUSDPerMillion = "input_usd_per_million"
            case outputUSDPerMillion = "output_usd_per_million"
            case maxConcurrency = "max_concurrency"
            case defaultMaxOutputTokens = "default_max_output_tokens"
        }
    }

    public var providers: [Provider]
    public var deployments: [Deployment]
    public var aliases: [ModelAlias]?

    /// Reads and checks the document at `path`.
    public static func load(_ path: String) throws(CairnError) -> GatewayCatalog {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CairnError(.misconfigured, "The gateway catalog file \(path) cannot be read.")
        }
        let document: GatewayCatalogDocument
        do {
            document = try JSONDecoder().decode(GatewayCatalogDocument.self, from: data)
        } catch {
            throw CairnError(.misconfigured, "The gateway catalog file \(path) is not a valid catalog: \(error).", underlying: error)
        }
        return try document.catalog()
    }

    /// The catalog this document describes, after checking that every reference resolves and
    /// every number is in range.
    public func catalog() throws(CairnError) -> GatewayCatalog {
        let providerNames = Set(providers.map(\.name))
        for provider in providers {
            try Self.checkName(provider.name, "provider")
            guard let url = URL(string: provider.baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw CairnError(.misconfigured, "The provider '\(provider.name)' needs an http:// or https:// base_url.")
            }
            if provider.kind == .azureOpenAI, provider.apiVersion == nil {
                throw CairnError(.misconfigured, "The Azure OpenAI provider '\(provider.name)' needs an api_version.")
            }
            if provider.kind == .bedrock, provider.region == nil {
                throw CairnError(.misconfigured, "The Bedrock provider '\(provider.name)' needs a region.")
            }
        }
        var deploymentNames = Set<String>()
        let deployments = try self.deployments.map { entry throws(CairnError) -> ModelDeployment in
            try Self.checkName(entry.name, "deployment")
            guard providerNames.contains(entry.provider) else {
                throw CairnError(.misconfigured, "The deployment '\(entry.name)' names the unknown provider '\(entry.provider)'.")
            }
            guard deploymentNames.insert(entry.name).inserted else {
                throw CairnError(.misconfigured, "The deployment '\(entry.name)' is defined twice.")
            }
            guard let input = USD(dollars: entry.inputUSDPerMillion ?? 0), let output = USD(dollars: entry.outputUSDPerMillion ?? 0) else {
                throw CairnError(.misconfigured, "The deployment '\(entry.name)' has a price that is negative or not a number.")
            }
            let defaults = DeploymentTimeouts()
            let timeouts = DeploymentTimeouts(
                connect: try Self.seconds(entry.timeouts?.connect, default: defaults.connect, entry.name),
                firstToken: try Self.seconds(entry.timeouts?.firstToken, default: defaults.firstToken, entry.name),
                total: try Self.seconds(entry.timeouts?.total, default: defaults.total, entry.name)
            )
            let concurrency = entry.maxConcurrency ?? 64
            let maxOutput = entry.defaultMaxOutputTokens ?? 4096
            let weight = entry.weight ?? 1
            guard (1...10_000).contains(concurrency), (1...1_000_000).contains(maxOutput), (0...1_000_000).contains(weight) else {
                throw CairnError(.misconfigured, "The deployment '\(entry.name)' has max_concurrency, default_max_output_tokens or weight out of range.")
            }
            return ModelDeployment(
                name: entry.name,
                provider: entry.provider,
                model: entry.model,
                capability: entry.capability ?? .chat,
                price: TokenPrice(inputPerMillion: input, outputPerMillion: output),
                timeouts: timeouts,
                maxConcurrency: concurrency,
                defaultMaxOutputTokens: maxOutput,
                weight: weight,
                dimension: entry.dimension
            )
        }
        for alias in aliases ?? [] {
            try Self.checkName(alias.name, "alias")
            guard !alias.deployments.isEmpty else { throw CairnError(.misconfigured, "The alias '\(alias.name)' routes to no deployment.") }
            if let unknown = alias.deployments.first(where: { !deploymentNames.contains($0) }) {
                throw CairnError(.misconfigured, "The alias '\(alias.name)' names the unknown deployment '\(unknown)'.")
            }
        }
        let catalogProviders = providers.map {
            ModelProviderConfiguration(name: $0.name, kind: $0.kind, baseURL: $0.baseURL, credential: $0.credential, apiVersion: $0.apiVersion, region: $0.region)
        }
        return GatewayCatalog(providers: catalogProviders, deployments: deployments, aliases: aliases ?? [])
    }

    private static func checkName(_ name: String, _ what: String) throws(CairnError) {
        guard !name.isEmpty, name.count <= 128, !name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw CairnError(.misconfigured, "A \(what) name must be 1–128 characters without spaces.")
        }
    }

    private static func seconds(_ value: Double?, default fallback: Duration, _ deployment: String) throws(CairnError) -> Duration {
        guard let value else { return fallback }
        guard value.isFinite, value > 0, value <= 3600 else {
            throw CairnError(.misconfigured, "The deployment '\(deployment)' has a timeout outside 0–3600 seconds.")
        }
        return .milliseconds(Int64(value * 1000))
    }
}
