public import AsyncHTTPClient
import CairnCore

/// Everything one attempt at a deployment needs: the deployment, its provider's connection
/// settings, the resolved secret and the HTTP client whose pool serves that deployment.
public struct DeploymentTarget: Sendable {
    public let deployment: ModelDeployment
    public let provider: ModelProviderConfiguration
    public let secret: ProviderSecret?
    public let client: HTTPClient

    public init(deployment: ModelDeployment, provider: ModelProviderConfiguration, secret: ProviderSecret?, client: HTTPClient) {
        self.deployment = deployment
        self.provider = provider
        self.secret = secret
        self.client = client
    }
}

/// Vectors from an embeddings deployment, with the tokens it billed.
public struct EmbeddingResult: Sendable {
    public var vectors: [[Float]]
    public var promptTokens: Int

    public init(vectors: [[Float]], promptTokens: Int) {
        self.vectors = vectors
        self.promptTokens = promptTokens
    }
}

/// Speaks one provider dialect: translates the gateway's OpenAI-shaped request out, and the
/// provider's answer (whole or streamed) back. Errors are always ``UpstreamFailure``s, so the
/// router can decide whether to retry, fail over or give up.
public protocol ChatProvider: Sendable {
    func complete(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatCompletion
    /// Returns once the response head has arrived; the chunks follow as they are read.
    func stream(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatChunkStream
}

/// A provider that also serves embeddings.
public protocol EmbeddingProvider: Sendable {
    func embed(_ texts: [String], dimensions: Int?, on target: DeploymentTarget) async throws(UpstreamFailure) -> EmbeddingResult
}
