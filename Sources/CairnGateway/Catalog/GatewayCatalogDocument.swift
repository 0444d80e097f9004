public import CairnCore
import Foundation

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

        public init(name: String, kind: ProviderKind, baseURL: String, credential: CredentialReference?, apiVersion: String?, region: String?) {
            self.name = name
            self.kind = kind
            self.baseURL = baseURL
            self.credential = credential
            self.apiVersion = apiVersion
            self.region = region
        }

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

        public init(connect: Double?, firstToken: Double?, total: Double?) {
            self.connect = connect
            self.firstToken = firstToken
            self.total = total
        }

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

        public init(
            name: String,
            provider: String,
            model: String,
            capability: DeploymentCapability?,
            inputUSDPerMillion: Double?,
            outputUSDPerMillion: Double?,
            timeouts: Timeouts?,
            maxConcurrency: Int?,
            defaultMaxOutputTokens: Int?,
            weight: Int?,
            dimension: Int?
        ) {
            self.name = name
            self.provider = provider
            self.model = model
            self.capability = capability
            self.inputUSDPerMillion = inputUSDPerMillion
            self.outputUSDPerMillion = outputUSDPerMillion
            self.timeouts = timeouts
            self.maxConcurrency = maxConcurrency
            self.defaultMaxOutputTokens = defaultMaxOutputTokens
            self.weight = weight
            self.dimension = dimension
        }

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

    /// Reads and checks the document at `path`: the platform catalog.
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
        do {
            return try document.catalog()
        } catch {
            throw CairnError(.misconfigured, "The gateway catalog file \(path) is not valid: \(error.message)", underlying: error)
        }
    }

    /// The catalog this document describes, after checking that every reference resolves and
    /// every number is in range. The document is the platform's, which belongs to no tenant, so
    /// its providers cannot use stored credentials.
    public func catalog() throws(CairnError) -> GatewayCatalog {
        var providers: [ModelProviderConfiguration] = []
        for entry in self.providers {
            let provider = try entry.configuration()
            if case .stored(let name) = provider.credential {
                throw CairnError(
                    .invalidInput,
                    "The provider '\(provider.name)' uses the stored credential '\(name)', but stored credentials belong to a tenant; "
                        + "a platform provider uses env: or file:."
                )
            }
            providers.append(provider)
        }
        var deploymentNames = Set<String>()
        let deployments = try self.deployments.map { entry throws(CairnError) -> ModelDeployment in
            let deployment = try entry.deployment()
            guard deploymentNames.insert(deployment.name).inserted else {
                throw CairnError(.invalidInput, "The deployment '\(deployment.name)' is defined twice.")
            }
            return deployment
        }
        for alias in aliases ?? [] {
            try Self.check(alias)
        }
        let catalog = GatewayCatalog(providers: providers, deployments: deployments, aliases: aliases ?? [])
        if let dangling = catalog.danglingReferences(from: catalog).first {
            throw CairnError(.invalidInput, dangling.unknownTargetSentence)
        }
        return catalog
    }

    /// Checks an alias on its own: its name, and a list of 1–32 deployment names. Whether they
    /// exist is the catalog's question (``GatewayCatalog/danglingReferences(from:credentials:)``).
    public static func check(_ alias: ModelAlias) throws(CairnError) {
        try GatewayName.check(alias.name, "alias")
        guard (1...maximumAliasDeployments).contains(alias.deployments.count) else {
            throw CairnError(.invalidInput, "The alias '\(alias.name)' must route to 1–\(maximumAliasDeployments) deployments.")
        }
        for deployment in alias.deployments {
            try GatewayName.check(deployment, "deployment")
        }
    }

    /// The most deployments one alias routes to.
    public static let maximumAliasDeployments = 32
}

extension GatewayCatalogDocument.Provider {
    /// The provider this entry describes, once its name, base URL and dialect settings are
    /// checked. Its credential is not resolved here.
    public func configuration() throws(CairnError) -> ModelProviderConfiguration {
        try GatewayName.check(name, "provider")
        guard baseURL.unicodeScalars.count <= 2048, let url = URL(string: baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil
        else {
            throw CairnError(.invalidInput, "The provider '\(name)' needs an http:// or https:// base_url of at most 2,048 characters.")
        }
        // Base URLs are shown to tenants and written to the audit trail; secrets belong in a credential.
        guard url.user == nil, url.password == nil else {
            throw CairnError(.invalidInput, "The provider '\(name)' has a user or password in its base_url; give the secret as its credential.")
        }
        if kind == .azureOpenAI, apiVersion == nil {
            throw CairnError(.invalidInput, "The Azure OpenAI provider '\(name)' needs an api_version.")
        }
        if kind == .bedrock, region == nil {
            throw CairnError(.invalidInput, "The Bedrock provider '\(name)' needs a region.")
        }
        for (field, value) in [("api_version", apiVersion), ("region", region)] {
            if let value { try TextRules.validate(value, field: "\(field) of the provider '\(name)'", maximumLength: 100) }
        }
        return ModelProviderConfiguration(name: name, kind: kind, baseURL: baseURL, credential: credential, apiVersion: apiVersion, region: region)
    }
}

extension GatewayCatalogDocument.Deployment {
    /// The deployment this entry describes, once its name, model, price, timeouts and limits
    /// are checked. Whether its provider exists is the catalog's question.
    public func deployment() throws(CairnError) -> ModelDeployment {
        try GatewayName.check(name, "deployment")
        try GatewayName.check(provider, "provider")
        try TextRules.validate(model, field: "The model of the deployment '\(name)'", maximumLength: 256)
        guard let input = USD(dollars: inputUSDPerMillion ?? 0), let output = USD(dollars: outputUSDPerMillion ?? 0) else {
            throw CairnError(.invalidInput, "The deployment '\(name)' has a price that is negative, not a number or over $1,000,000,000.")
        }
        let defaults = DeploymentTimeouts()
        let timeouts = DeploymentTimeouts(
            connect: try seconds(self.timeouts?.connect, default: defaults.connect),
            firstToken: try seconds(self.timeouts?.firstToken, default: defaults.firstToken),
            total: try seconds(self.timeouts?.total, default: defaults.total)
        )
        let concurrency = maxConcurrency ?? 64
        let maxOutput = defaultMaxOutputTokens ?? 4096
        let weight = weight ?? 1
        guard (1...10_000).contains(concurrency), (1...1_000_000).contains(maxOutput), (0...1_000_000).contains(weight) else {
            throw CairnError(.invalidInput, "The deployment '\(name)' has max_concurrency, default_max_output_tokens or weight out of range.")
        }
        if let dimension, !(1...65_536).contains(dimension) {
            throw CairnError(.invalidInput, "The deployment '\(name)' has a dimension outside 1–65,536.")
        }
        return ModelDeployment(
            name: name,
            provider: provider,
            model: model,
            capability: capability ?? .chat,
            price: TokenPrice(inputPerMillion: input, outputPerMillion: output),
            timeouts: timeouts,
            maxConcurrency: concurrency,
            defaultMaxOutputTokens: maxOutput,
            weight: weight,
            dimension: dimension
        )
    }

    private func seconds(_ value: Double?, default fallback: Duration) throws(CairnError) -> Duration {
        guard let value else { return fallback }
        guard value.isFinite, value > 0, value <= 3600 else {
            throw CairnError(.invalidInput, "The deployment '\(name)' has a timeout outside 0–3600 seconds.")
        }
        // Rounded up: a timeout under a millisecond must not become none at all.
        return .milliseconds(Int64((value * 1000).rounded(.up)))
    }
}
