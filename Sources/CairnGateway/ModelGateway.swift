public import CairnCore
public import CairnEmbed
import Foundation
public import Logging
import Tracing

/// The one place Cairn calls models: it resolves a model alias to deployments, tries them in
/// order with retries, circuit breakers and fallback, and reports how the answer was served.
///
/// The assistant and the extraction pipelines call it in process; the OpenAI-compatible front
/// door calls it for outside callers. Either way the same routing applies.
public struct ModelGateway: Sendable {
    public struct Configuration: Sendable {
        public var retry: RetryPolicy
        /// Asks (the first included) for a reply that passes the request's JSON Schema.
        public var structuredOutputAttempts: Int

        public init(retry: RetryPolicy = RetryPolicy(), structuredOutputAttempts: Int = 3) {
            self.retry = retry
            self.structuredOutputAttempts = max(1, structuredOutputAttempts)
        }
    }

    let catalogs: any GatewayCatalogSource
    let pool: DeploymentPool
    let credentials: any CredentialResolver
    let localEmbedder: (any SentenceEmbedder)?
    let bookkeeping: GatewayBookkeeping
    let rateLimiter: KeyRateLimiter
    let accessLimits: AccessLimitsCache
    let cache = ResponseCache()
    let configuration: Configuration
    let logger: Logger

    /// - Parameters:
    ///   - localEmbedder: serves embeddings for the model named by its `modelName` (and
    ///     `local`), in process, without a deployment.
    ///   - bookkeeping: the ledger and budgets; run it as a service beside the gateway.
    public init(
        catalogs: any GatewayCatalogSource,
        pool: DeploymentPool,
        credentials: any CredentialResolver,
        localEmbedder: (any SentenceEmbedder)?,
        bookkeeping: GatewayBookkeeping,
        configuration: Configuration = Configuration(),
        logger: Logger
    ) {
        self.catalogs = catalogs
        self.pool = pool
        self.credentials = credentials
        self.localEmbedder = localEmbedder
        self.bookkeeping = bookkeeping
        rateLimiter = KeyRateLimiter(now: pool.now)
        accessLimits = AccessLimitsCache(books: bookkeeping.books)
        self.configuration = configuration
        self.logger = logger
    }

    static func provider(for kind: ProviderKind) -> any ChatProvider {
        switch kind {
        case .openAI, .azureOpenAI, .mock: OpenAICompatibleProvider()
        case .anthropic: AnthropicProvider()
        case .bedrock: BedrockConverseProvider()
        }
    }

    // MARK: - Chat

    /// Answers `request` (which must not ask to stream) for `principal`.
    ///
    /// - Parameter cacheTTL: when set, an identical earlier request of the tenant answered
    ///   within this time is answered from the cache, and this answer is kept for it.
    public func complete(_ request: ChatRequest, for principal: Principal, cacheTTL: Duration? = nil) async throws -> ChatCompletion {
        try ChatRequestRules.check(request)
        if let cacheTTL, cacheTTL <= .zero || cacheTTL > ResponseCache.longestTTL {
            throw CairnError(.invalidInput, "A cache lifetime must be between 1 second and 24 hours.")
        }
        let (hops, redacts) = try await route(request.model, capability: .chat, for: principal)
        let schema = try StructuredOutput(request.responseFormat)
        let outbound = redacts ? PersonalDataRedaction.redacted(request) : request
        // Keyed by what is sent: an answer cached before the tenant turned redaction on is not
        // served to a request that would now go out redacted.
        let cacheKey = cacheTTL.map { _ in ResponseCache.key(for: outbound, tenant: principal.tenantID) }
        if let cacheKey, let hit = cache.lookup(cacheKey) {
            // A hit costs nothing but still counts against the key's rate limits, and is on the ledger.
            let call = try await admit(
                alias: request.model,
                operation: .chat,
                streamed: false,
                inputBound: request.promptTokenBound,
                estimatedTokens: hit.usage?.totalTokens ?? 0,
                worstCase: .zero,
                for: principal
            )
            let deployment = hops.first { $0.deployment.name == hit.cairn?.deployment }?.deployment
            call.finish(.succeeded, deployment: deployment, usage: hit.usage, attempts: 0, cacheHit: true)
            var answer = hit
            answer.cairn?.attempts = 0
            answer.cairn?.cacheHit = true
            answer.cairn?.cost = .zero
            return answer
        }
        var conversation = outbound
        var totalAttempts = 0
        var totalCost = USD.zero
        // Each ask is a call of its own: reserved, charged and recorded on its own.
        for ask in 1...configuration.structuredOutputAttempts {
            let call = try await meter(conversation, hops: hops, for: principal)
            var log = AttemptLog()
            let completion: ChatCompletion
            let hop: GatewayCatalog.Hop
            do {
                (completion, hop) = try await attempt(hops, for: principal.tenantID, operation: .chat, log: &log) { provider, target in
                    try await provider.complete(conversation, on: target)
                }
            } catch {
                call.finish(Task.isCancelled ? .cancelled : .failed, deployment: nil, usage: nil, attempts: log.attempts)
                throw error
            }
            totalAttempts += log.attempts
            var answer = completion
            answer.model = request.model
            let text = answer.message?.content ?? ""
            let violations = schema?.violations(in: text) ?? []
            let passed = violations.isEmpty || ask < configuration.structuredOutputAttempts
            totalCost += call.finish(
                passed ? .succeeded : .failed,
                deployment: hop.deployment,
                usage: completion.usage,
                outputBytes: text.utf8.count,
                attempts: log.attempts
            )
            answer.cairn = GatewayReceipt(deployment: hop.deployment.name, attempts: totalAttempts, cacheHit: false, cost: totalCost)
            if schema != nil, violations.isEmpty { answer.cairn?.structuredOutputAttempt = ask }
            if violations.isEmpty {
                if let cacheKey, let cacheTTL { cache.store(answer, key: cacheKey, ttl: cacheTTL) }
                return answer
            }
            logger.info(
                "Structured output failed its schema",
                metadata: ["deployment": "\(hop.deployment.name)", "ask": "\(ask)", "violations": "\(violations.count)"]
            )
            guard ask < configuration.structuredOutputAttempts else {
                throw CairnError(.upstreamFailed, StructuredOutput.rejection(after: ask, violations))
            }
            conversation.messages.append(ChatMessage(role: .assistant, content: text))
            conversation.messages.append(ChatMessage(role: .user, content: StructuredOutput.repairPrompt(violations)))
        }
        throw CairnError(.internalFailure, "The structured-output loop ended without an answer.")
    }

    /// Opens a streamed answer to `request` for `principal`. Returns once the first token has
    /// arrived from some deployment: until then, a failing deployment is replaced by the next
    /// one without the caller seeing anything. After it, a failure ends the stream with an error
    /// event; output from two deployments is never spliced together.
    public func stream(_ request: ChatRequest, for principal: Principal) async throws -> GatewayChatStream {
        try ChatRequestRules.check(request)
        let (hops, redacts) = try await route(request.model, capability: .chat, for: principal)
        let schema = try StructuredOutput(request.responseFormat)
        let call = try await meter(request, hops: hops, for: principal)
        let outbound = redacts ? PersonalDataRedaction.redacted(request) : request
        var log = AttemptLog()
        let opened: OpenedStream
        let hop: GatewayCatalog.Hop
        do {
            (opened, hop) = try await attempt(hops, for: principal.tenantID, operation: .chat, log: &log) { provider, target in
                var iterator = try await provider.stream(outbound, on: target).makeAsyncIterator()
                // Read up to the first chunk that carries output (or the end of a reply with none);
                // a failure before then fails this attempt, so the next deployment can take over.
                var head: [ChatCompletionChunk] = []
                while let chunk = try await iterator.next() {
                    head.append(chunk)
                    if chunk.choices.contains(where: { $0.delta.carriesOutput }) { return OpenedStream(head: head, rest: iterator, ended: false) }
                }
                return OpenedStream(head: head, rest: iterator, ended: true)
            }
        } catch {
            call.finish(Task.isCancelled ? .cancelled : .failed, deployment: nil, usage: nil, attempts: log.attempts)
            throw error
        }
        let firstToken = ContinuousClock.now - call.started
        let attempts = log.attempts
        return GatewayChatStream(
            opened: opened,
            alias: request.model,
            receipt: GatewayReceipt(deployment: hop.deployment.name, attempts: attempts, cacheHit: false),
            includeUsage: request.streamOptions?.includeUsage == true,
            schema: schema
        ) { outcome in
            let status: ModelCallStatus = outcome.cancelled ? .cancelled : outcome.failure == nil ? .succeeded : .broken
            call.finish(
                status,
                deployment: hop.deployment,
                usage: outcome.usage,
                outputBytes: outcome.outputBytes,
                attempts: attempts,
                timeToFirstToken: firstToken
            )
        }
    }

    /// Admits a chat call: the caller's key may use the model, its rate limits have room, and
    /// every budget it falls under can cover the worst case across the route's deployments.
    private func meter(_ request: ChatRequest, hops: [GatewayCatalog.Hop], for principal: Principal) async throws -> MeteredCall {
        let inputBound = request.promptTokenBound
        let worstCase =
            hops.map { hop in
                hop.deployment.price.cost(input: inputBound, output: request.maxTokens ?? hop.deployment.defaultMaxOutputTokens)
            }.max() ?? .zero
        // Rate limits count a typical four bytes per token, corrected to the real count after.
        let outputCap = request.maxTokens ?? hops.map(\.deployment.defaultMaxOutputTokens).max() ?? 0
        return try await admit(
            alias: request.model,
            operation: .chat,
            streamed: request.isStreaming,
            inputBound: inputBound,
            estimatedTokens: inputBound / 4 + outputCap,
            worstCase: worstCase,
            for: principal
        )
    }

    private func admit(
        alias: String,
        operation: ModelCallRecord.Operation,
        streamed: Bool,
        inputBound: Int,
        estimatedTokens: Int,
        worstCase: USD,
        for principal: Principal
    ) async throws -> MeteredCall {
        let key: APIKeyID? = if case .apiKey(let id) = principal.credential { id } else { nil }
        let limits = try await accessLimits.limits(of: key, tenant: principal.tenantID)
        guard limits.allows(model: alias) else {
            throw CairnError(.forbidden, "This API key may not use the model '\(alias.prefix(100))'.")
        }
        let rate = try rateLimiter.admit(key: key, limits: limits, estimatedTokens: estimatedTokens)
        let reservation: BudgetGuard.Reservation
        do {
            reservation = try await bookkeeping.budgets.reserve(worstCase, tenant: principal.tenantID, key: key)
        } catch {
            rateLimiter.settle(rate, actualTokens: 0)
            throw error
        }
        return MeteredCall(
            principal: principal,
            apiKeyID: key,
            alias: alias,
            operation: operation,
            streamed: streamed,
            inputBound: inputBound,
            reservation: reservation,
            rate: rate,
            bookkeeping: bookkeeping,
            rateLimiter: rateLimiter
        )
    }

    // MARK: - Embeddings

    /// Embeds `texts` with the model `name`: the local model in process, or an embeddings
    /// deployment through its provider.
    public func embed(_ texts: [String], model name: String, dimensions: Int?, for principal: Principal) async throws -> GatewayEmbeddings {
        guard !texts.isEmpty, texts.count <= 2048 else {
            throw CairnError(.invalidInput, "Send between 1 and 2,048 texts to embed at once.")
        }
        let inputBound = texts.reduce(0) { $0 + $1.utf8.count }
        if let local = localEmbedder, name == local.modelName || name == Self.localEmbeddingModel {
            if let dimensions, dimensions != local.dimension {
                throw CairnError(
                    .invalidInput,
                    "The local model '\(local.modelName)' returns \(local.dimension) dimensions; dimensions must be \(local.dimension) or unset."
                )
            }
            let call = try await admit(
                alias: name,
                operation: .embeddings,
                streamed: false,
                inputBound: inputBound,
                estimatedTokens: inputBound / 4,
                worstCase: .zero,
                for: principal
            )
            let vectors: [[Float]]
            do {
                vectors = try await local.embed(texts)
            } catch {
                call.finish(.failed, deployment: nil, usage: nil, attempts: 1)
                throw error
            }
            // The tokenizer is not exposed here; UTF-8 bytes bound the tokens from above. The
            // local model costs nothing, so the count only feeds rate limits and the ledger.
            let usage = TokenUsage(promptTokens: inputBound, completionTokens: 0)
            call.finish(
                .succeeded,
                deployment: ModelDeployment(name: local.modelName, provider: "local", model: local.modelName),
                usage: usage,
                attempts: 1
            )
            return GatewayEmbeddings(
                vectors: vectors,
                promptTokens: inputBound,
                receipt: GatewayReceipt(deployment: local.modelName, attempts: 1, cacheHit: false)
            )
        }
        let (hops, redacts) = try await route(name, capability: .embeddings, for: principal)
        let outbound = redacts ? texts.map(PersonalDataRedaction.redacted) : texts
        let worstCase = hops.map { $0.deployment.price.cost(input: inputBound, output: 0) }.max() ?? .zero
        let call = try await admit(
            alias: name,
            operation: .embeddings,
            streamed: false,
            inputBound: inputBound,
            estimatedTokens: inputBound / 4,
            worstCase: worstCase,
            for: principal
        )
        var log = AttemptLog()
        let result: EmbeddingResult
        let hop: GatewayCatalog.Hop
        do {
            (result, hop) = try await attempt(hops, for: principal.tenantID, operation: .embeddings, log: &log) { provider, target in
                guard let embedder = provider as? any EmbeddingProvider else {
                    throw UpstreamFailure(
                        .unavailable,
                        deployment: target.deployment.name,
                        detail: "\(target.provider.kind.rawValue) serves no embeddings"
                    )
                }
                return try await embedder.embed(outbound, dimensions: dimensions, on: target)
            }
        } catch {
            call.finish(.failed, deployment: nil, usage: nil, attempts: log.attempts)
            throw error
        }
        call.finish(
            .succeeded,
            deployment: hop.deployment,
            usage: TokenUsage(promptTokens: result.promptTokens, completionTokens: 0),
            attempts: log.attempts
        )
        return GatewayEmbeddings(
            vectors: result.vectors,
            promptTokens: result.promptTokens,
            receipt: GatewayReceipt(deployment: hop.deployment.name, attempts: log.attempts, cacheHit: false)
        )
    }

    /// The name that always means the local embedding model, whatever its model name.
    public static let localEmbeddingModel = "local"

    // MARK: - Changes made through the admin API

    /// Budgets of `tenant` changed: this node reads them afresh on the next call. Other nodes
    /// do within ``BudgetGuard/budgetsLifetime``.
    public func budgetsChanged(tenant: TenantID) { bookkeeping.budgets.budgetsChanged(tenant: tenant) }

    /// The model limits of `key` changed: this node reads them afresh on its next call.
    public func limitsChanged(key: APIKeyID) { accessLimits.forget(key) }

    /// `tenant`'s catalog entries changed.
    public func catalogChanged(tenant: TenantID) { catalogs.catalogChanged(for: tenant) }

    // MARK: - Models

    /// The model names `principal` may ask for: aliases, deployments, and the local embedder.
    public func models(for principal: Principal) async throws -> [GatewayModel] {
        let catalog = try await catalogs.catalog(for: principal.tenantID)
        var models = catalog.modelNames(capability: .chat).map { GatewayModel(id: $0, capability: .chat) }
        models += catalog.modelNames(capability: .embeddings).map { GatewayModel(id: $0, capability: .embeddings) }
        if let local = localEmbedder {
            models.append(GatewayModel(id: Self.localEmbeddingModel, capability: .embeddings))
            models.append(GatewayModel(id: local.modelName, capability: .embeddings))
        }
        return models
    }

    // MARK: - Routing

    /// The deployments to try for `name`, and whether the tenant's policy redacts personal data
    /// from what is sent to them.
    private func route(
        _ name: String,
        capability: DeploymentCapability,
        for principal: Principal
    ) async throws -> (hops: [GatewayCatalog.Hop], redactsPersonalData: Bool) {
        let catalog = try await catalogs.catalog(for: principal.tenantID)
        var generator = SystemRandomNumberGenerator()
        guard let hops = catalog.route(name, capability: capability, using: &generator) else {
            throw CairnError(.notFound, "There is no \(capability == .chat ? "chat" : "embeddings") model named '\(name.prefix(100))'.")
        }
        return (hops, catalog.redactsPersonalData)
    }

    /// Tries `hops` in order: each deployment its circuit breaker and concurrency limit admit
    /// is tried up to the retry policy's attempts, with backoff between; the first success wins.
    ///
    /// Each attempt is a client span named and described by the OpenTelemetry GenAI semantic
    /// conventions (`chat gpt-4o-mini`, `gen_ai.*` attributes), plus which deployment and try it was.
    private func attempt<Value: GenAIUsageReporting>(
        _ hops: [GatewayCatalog.Hop],
        for tenant: TenantID,
        operation name: ModelCallRecord.Operation,
        log: inout AttemptLog,
        _ operation: (any ChatProvider, DeploymentTarget) async throws -> Value
    ) async throws -> (Value, GatewayCatalog.Hop) {
        var generator = SystemRandomNumberGenerator()
        for hop in hops {
            let runtime = pool.runtime(for: hop)
            let admission = runtime.breaker.admit(now: pool.now())
            guard admission != .rejected else {
                log.failed(UpstreamFailure(.unavailable, deployment: hop.deployment.name, detail: "circuit open"))
                continue
            }
            guard runtime.acquire() else {
                if admission == .probe { runtime.breaker.recordNeutral() }
                log.failed(UpstreamFailure(.unavailable, deployment: hop.deployment.name, detail: "at its concurrency limit"))
                continue
            }
            defer { runtime.release() }
            let secret: ProviderSecret?
            do {
                if let reference = hop.provider.credential {
                    secret = try await credentials.secret(for: reference, tenant: tenant)
                } else {
                    secret = nil
                }
            } catch {
                if admission == .probe { runtime.breaker.recordNeutral() }
                logger.error("A provider credential cannot be read", metadata: ["provider": "\(hop.provider.name)", "error": "\(error)"])
                log.failed(UpstreamFailure(.unavailable, deployment: hop.deployment.name, detail: "credential unavailable"))
                continue
            }
            let target = DeploymentTarget(deployment: hop.deployment, provider: hop.provider, secret: secret, client: runtime.client)
            let provider = Self.provider(for: hop.provider.kind)
            for retry in 1...configuration.retry.attemptsPerDeployment {
                log.attempted()
                do {
                    let value = try await withSpan("\(name.rawValue) \(hop.deployment.model)", ofKind: .client) { span in
                        span.attributes["gen_ai.operation.name"] = name.rawValue
                        span.attributes["gen_ai.provider.name"] = hop.provider.kind.genAIProviderName
                        span.attributes["gen_ai.request.model"] = hop.deployment.model
                        span.attributes["server.address"] = URL(string: hop.provider.baseURL)?.host ?? ""
                        span.attributes["cairn.deployment"] = hop.deployment.name
                        span.attributes["cairn.attempt"] = retry
                        let value = try await operation(provider, target)
                        if let usage = value.reportedUsage {
                            span.attributes["gen_ai.usage.input_tokens"] = usage.promptTokens
                            span.attributes["gen_ai.usage.output_tokens"] = usage.completionTokens
                        }
                        return value
                    }
                    runtime.breaker.recordSuccess()
                    return (value, hop)
                } catch {
                    if Task.isCancelled {
                        runtime.breaker.recordNeutral()
                        throw CancellationError()
                    }
                    let failure = UpstreamHTTP.classify(error, deployment: hop.deployment.name)
                    log.failed(failure)
                    // A provider's error may quote the credential it was sent; the log never does.
                    let detail = secret.map { failure.detail.replacingOccurrences(of: $0.value, with: "<redacted>") } ?? failure.detail
                    logger.warning(
                        "Model call attempt failed",
                        metadata: ["deployment": "\(hop.deployment.name)", "attempt": "\(retry)", "failure": "\(failure)", "detail": "\(detail)"]
                    )
                    if failure.countsAgainstHealth {
                        runtime.breaker.recordFailure(now: pool.now())
                    } else {
                        runtime.breaker.recordNeutral()
                    }
                    guard runtime.breaker.state == .closed,
                        let delay = configuration.retry.delay(beforeRetry: retry, after: failure, using: &generator)
                    else { break }
                    try await Task.sleep(for: delay)
                }
            }
        }
        throw Self.exhausted(log)
    }

    /// The error for a call no deployment could answer, worded for the caller.
    static func exhausted(_ log: AttemptLog) -> CairnError {
        guard let failure = log.decisive else {
            return CairnError(.upstreamFailed, "No deployment could take the request.")
        }
        switch failure.kind {
        case .rateLimited(let retryAfter):
            var error = CairnError(.overloaded, "Every deployment of the model is rate limited; retry shortly.", underlying: failure)
            error.retryAfter = retryAfter ?? .seconds(1)
            return error
        case .status(let code) where (400..<500).contains(code) && code != 401 && code != 403:
            return CairnError(.invalidInput, "The model provider rejected the request (HTTP \(code)).", underlying: failure)
        case .unavailable:
            var error = CairnError(
                .unavailable,
                "Every deployment of the model is unavailable right now (circuit open or at capacity).",
                underlying: failure
            )
            error.retryAfter = .seconds(1)
            return error
        default:
            return CairnError(.upstreamFailed, "Every deployment of the model failed; the last one \(failure.kindPhrase).", underlying: failure)
        }
    }
}

/// A model a caller may ask for.
public struct GatewayModel: Sendable, Equatable {
    public let id: String
    public let capability: DeploymentCapability
}

/// Vectors from the gateway, with what they cost in tokens and how they were served.
public struct GatewayEmbeddings: Sendable {
    public let vectors: [[Float]]
    public let promptTokens: Int
    public let receipt: GatewayReceipt
}

extension UpstreamFailure {
    /// The failure as the end of a sentence, without the deployment's name or detail.
    var kindPhrase: String {
        switch kind {
        case .status(let code): "answered HTTP \(code)"
        case .rateLimited: "was rate limited"
        case .timedOut: "timed out"
        case .connectionFailed: "dropped the connection"
        case .malformedResponse: "sent a malformed response"
        case .unavailable: "was unavailable"
        }
    }
}

/// What an attempt's result says about tokens, for its span.
protocol GenAIUsageReporting {
    var reportedUsage: TokenUsage? { get }
}

extension ChatCompletion: GenAIUsageReporting {
    var reportedUsage: TokenUsage? { usage }
}

extension EmbeddingResult: GenAIUsageReporting {
    var reportedUsage: TokenUsage? { TokenUsage(promptTokens: promptTokens, completionTokens: 0) }
}

extension OpenedStream: GenAIUsageReporting {
    /// Usage arrives at a stream's end, after its attempt's span has closed.
    var reportedUsage: TokenUsage? { nil }
}

extension ProviderKind {
    /// `gen_ai.provider.name` as the GenAI semantic conventions spell it.
    var genAIProviderName: String {
        switch self {
        case .openAI: "openai"
        case .azureOpenAI: "azure.ai.openai"
        case .anthropic: "anthropic"
        case .bedrock: "aws.bedrock"
        case .mock: "cairn.mock"
        }
    }
}
