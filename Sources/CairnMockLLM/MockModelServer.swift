import CairnCore
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// `mock`, Cairn's dev/test model provider: an HTTP server on loopback that speaks OpenAI's, Azure
/// OpenAI's, Anthropic's and Bedrock's APIs with deterministic default replies, scripted replies, latency, and
/// injected failures (error statuses, 429 with `Retry-After`, hung requests, connection resets,
/// streams cut mid-way).
///
/// Routes:
/// - OpenAI: `POST /v1/chat/completions` (streams too), `POST /v1/embeddings`, `GET /v1/models`;
/// - Azure OpenAI: `POST /openai/deployments/{deployment}/chat/completions?api-version=…` and `…/embeddings`;
/// - Anthropic: `POST /v1/messages` (streams too);
/// - Bedrock: `POST /model/{modelId}/converse` and `…/converse-stream` (an AWS event stream), the
///   SigV4 signature recomputed and checked when ``MockScript/bedrockSigning`` is set;
/// - the script: `POST`/`DELETE /mock/script` and `GET /mock/requests` (see ``MockScriptUpdate``).
///
/// Default replies: `Mock reply to: <last user message>`; a call of the first tool (or the one
/// `tool_choice` names) with arguments synthesised from its schema when the request offers tools and
/// the user spoke last; `The tool returned: <result>` after a tool result; a document synthesised
/// from `response_format`'s JSON Schema. Usage counts whitespace-separated words (plus 3 per message
/// in the prompt), and `max_tokens` cuts the reply to that many words.
///
/// Run it for the length of a scope with ``withRunning(script:host:port:_:)``, or until cancelled with ``run()``.
public struct MockModelServer: Sendable {
    /// What the server answers; tests change it while the server runs.
    public let script: MockScript
    /// The address to listen on.
    public let host: String
    /// The port to listen on; 0 picks a free one.
    public let port: Int
    private let logger: Logger

    /// The dialects, in the order their routes are tried.
    static let dialects: [any MockDialect] = [
        OpenAIDialect(isAzure: false), OpenAIDialect(isAzure: true), AnthropicDialect(),
        BedrockDialect(isStream: false), BedrockDialect(isStream: true),
    ]

    /// A server for `script` on `host:port` (port 0: any free one), logging to `logger`.
    public init(
        script: MockScript = MockScript(),
        host: String = "127.0.0.1",
        port: Int = 0,
        logger: Logger = Logger(label: "cairn.mock-llm")
    ) {
        self.script = script
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// A server that is listening.
    public struct Running: Sendable {
        /// `http://host:port`, to which clients append `/v1/…`.
        public let baseURL: String
        /// The port it listens on.
        public let port: Int
        /// What it answers.
        public let script: MockScript
    }

    /// Starts a server, runs `body` with it, and stops it (also when `body` throws), closing every
    /// connection, hung ones included.
    public static func withRunning<T>(
        script: MockScript = MockScript(),
        host: String = "127.0.0.1",
        port: Int = 0,
        _ body: (Running) async throws -> T
    ) async throws -> T {
        try await MockModelServer(script: script, host: host, port: port).withRunning(body)
    }

    /// Starts this server, runs `body` with it, and stops it (also when `body` throws), closing every
    /// connection, hung ones included.
    public func withRunning<T>(_ body: (Running) async throws -> T) async throws -> T {
        let (listener, running) = try await listen()
        logger.debug("Mock model server listening", metadata: ["url": "\(running.baseURL)"])
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.serve(listener) }
            defer { group.cancelAll() }
            return try await body(running)
        }
    }

    /// Listens and serves until the task is cancelled, then closes every connection and returns.
    public func run() async throws {
        let (listener, running) = try await listen()
        logger.info("Mock model server listening", metadata: ["url": "\(running.baseURL)"])
        do {
            try await serve(listener)
        } catch is CancellationError {
            // Cancellation is how this server is asked to stop.
        }
    }

    private typealias Listener = NIOAsyncChannel<MockConnection.Channel, Never>

    private func listen() async throws -> (Listener, Running) {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try MockConnection.Channel(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = listener.channel.localAddress?.port else {
            try? await listener.channel.close()
            throw CairnError(.internalFailure, "The mock model server could not tell which port it listens on.")
        }
        // IPv6 literals take brackets in a URL.
        let urlHost = host.contains(":") ? "[\(host)]" : host
        let running = Running(baseURL: "http://\(urlHost):\(port)", port: port, script: script)
        return (listener, running)
    }

    /// Accepts connections until cancelled; each is served in a child task, so stopping the server
    /// ends them all.
    private func serve(_ listener: Listener) async throws {
        let connection = MockConnection(script: script, dialects: Self.dialects, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { inbound in
                for try await channel in inbound {
                    group.addTask { await connection.serve(channel) }
                }
            }
        }
    }
}
