import CairnCore

/// The wire dialect a provider speaks.
public enum ProviderKind: String, Sendable, Codable, CaseIterable {
    /// OpenAI's API and everything that copies it: vLLM, Ollama, llama.cpp server, TEI.
    case openAI = "openai"
    /// Azure OpenAI: deployment names in the path, an `api-version` query, an `api-key` header.
    case azureOpenAI = "azure-openai"
    /// Anthropic's Messages API.
    case anthropic
    /// AWS Bedrock's Converse API, signed with SigV4.
    case bedrock
    /// Cairn's dev/test provider: a loopback server speaking the OpenAI dialect with scripted
    /// replies and injected failures. Never a production provider.
    case mock
}

/// Where a provider's secret comes from. The secret itself never travels in configuration
/// objects, logs or API responses; only this reference does.
public enum CredentialReference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// An environment variable of the Cairn process.
    case environment(String)
    /// A file, e.g. a mounted Kubernetes or Docker secret; trailing newlines are dropped.
    case file(String)
    /// A secret stored in Cairn's database, encrypted under the master key.
    case stored(String)

    /// Parses `env:NAME`, `file:/path` or `stored:NAME`.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let value = String(text[text.index(after: colon)...])
        guard !value.isEmpty, value.count <= 512 else { return nil }
        switch text[..<colon] {
        case "env": self = .environment(value)
        case "file": self = .file(value)
        case "stored": self = .stored(value)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): "env:\(name)"
        case .file(let path): "file:\(path)"
        case .stored(let name): "stored:\(name)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let reference = CredentialReference(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "A credential is env:NAME, file:/path or stored:NAME.")
            )
        }
        self = reference
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// How to reach one provider account: its dialect, endpoint and credential.
public struct ModelProviderConfiguration: Sendable, Hashable, Codable {
    public var name: String
    public var kind: ProviderKind
    /// The API base, e.g. `https://api.openai.com/v1`, `https://x.openai.azure.com`,
    /// `https://bedrock-runtime.eu-west-1.amazonaws.com`.
    public var baseURL: String
    public var credential: CredentialReference?
    /// Azure OpenAI's `api-version`.
    public var apiVersion: String?
    /// Bedrock's AWS region (SigV4 credential scope).
    public var region: String?

    public init(
        name: String,
        kind: ProviderKind,
        baseURL: String,
        credential: CredentialReference? = nil,
        apiVersion: String? = nil,
        region: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.credential = credential
        self.apiVersion = apiVersion
        self.region = region
    }
}

/// How long the gateway waits on a deployment, per attempt.
public struct DeploymentTimeouts: Sendable, Hashable, Codable {
    /// To establish the connection.
    public var connect: Duration
    /// From sending the request to the first token (or, without streaming, the response head).
    public var firstToken: Duration
    /// For the whole attempt.
    public var total: Duration

    public init(connect: Duration = .seconds(5), firstToken: Duration = .seconds(30), total: Duration = .seconds(120)) {
        self.connect = connect
        self.firstToken = firstToken
        self.total = total
    }
}

/// What a deployment serves.
public enum DeploymentCapability: String, Sendable, Codable {
    case chat
    case embeddings
}

/// One model at one provider, with its price and limits: what a model alias routes to.
public struct ModelDeployment: Sendable, Hashable, Codable {
    public var name: String
    public var provider: String
    /// The provider's model id (OpenAI model, Azure deployment, Bedrock model id).
    public var model: String
    public var capability: DeploymentCapability
    public var price: TokenPrice
    public var timeouts: DeploymentTimeouts
    /// Requests in flight at once; more are sent to the next deployment in the chain.
    public var maxConcurrency: Int
    /// The output cap sent upstream when a request sets none, so every call's worst-case cost
    /// is known before it is made.
    public var defaultMaxOutputTokens: Int
    /// Share of traffic under a weighted alias.
    public var weight: Int
    /// For embeddings deployments: the vector length the model returns.
    public var dimension: Int?

    public init(
        name: String,
        provider: String,
        model: String,
        capability: DeploymentCapability = .chat,
        price: TokenPrice = .free,
        timeouts: DeploymentTimeouts = DeploymentTimeouts(),
        maxConcurrency: Int = 64,
        defaultMaxOutputTokens: Int = 4096,
        weight: Int = 1,
        dimension: Int? = nil
    ) {
        self.name = name
        self.provider = provider
        self.model = model
        self.capability = capability
        self.price = price
        self.timeouts = timeouts
        self.maxConcurrency = maxConcurrency
        self.defaultMaxOutputTokens = defaultMaxOutputTokens
        self.weight = weight
        self.dimension = dimension
    }
}

/// A name callers use (`model` in a request), resolved to deployments.
public struct ModelAlias: Sendable, Hashable, Codable {
    public enum Strategy: String, Sendable, Codable {
        /// Try the deployments in the order listed.
        case ordered
        /// Start at a deployment drawn by weight; the others follow, also by weight, as fallbacks.
        case weighted
    }

    public var name: String
    public var strategy: Strategy
    public var deployments: [String]

    public init(name: String, strategy: Strategy = .ordered, deployments: [String]) {
        self.name = name
        self.strategy = strategy
        self.deployments = deployments
    }

    /// Decodes an alias; one without `strategy` is `ordered`, as most aliases are.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            strategy: try container.decodeIfPresent(Strategy.self, forKey: .strategy) ?? .ordered,
            deployments: try container.decode([String].self, forKey: .deployments)
        )
    }
}
