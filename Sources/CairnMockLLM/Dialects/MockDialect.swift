import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// An API dialect the mock speaks: the routes it owns, how its requests read, and how its replies,
/// streams and errors are written.
///
/// A dialect turns its requests into the neutral ``MockChatRequest`` and ``MockEmbeddingsRequest`` and writes
/// the neutral ``MockChatReply`` back; script steps, default replies, latency and faults are shared.
/// Adding a dialect is one type conforming to this protocol, listed in ``MockModelServer/dialects``. A
/// dialect whose path rather than its body decides something (Azure's deployment URLs; Bedrock's
/// `converse` and `converse-stream`) can be listed twice, as ``OpenAIDialect`` is; a stream need not be
/// server-sent events, since ``MockStream`` holds any frames and their content type.
protocol MockDialect: Sendable {
    /// The operation `method` and `path` address in this dialect; `nil` when the path is not one of its
    /// routes. Throws when the path is, but the request line is wrong (a method, a missing query item).
    func route(_ method: HTTPMethod, path: Substring, query: Substring?) throws(RequestRejection) -> DialectRoute?

    /// The credential the request carries, in this dialect's header.
    func credential(in headers: HTTPHeaders) -> String?

    /// Refuses a request that fails an authentication the dialect defines beyond the script's
    /// ``MockScript/requiredAPIKey``, such as Bedrock's SigV4 signature. It runs as soon as the route
    /// matches, before the body is parsed, so a refused request reaches no model: it is not counted,
    /// not recorded, and consumes no step. `path` and `query` are as sent, still percent-encoded.
    func authenticate(_ head: HTTPRequestHead, path: Substring, query: Substring?, body: ByteBuffer, script: MockScript) throws(RequestRejection)

    /// Reads a chat request.
    func parseChat(_ body: ByteBuffer, route: DialectRoute, headers: HTTPHeaders) throws(RequestRejection) -> MockChatRequest

    /// Reads an embeddings request; only called for routes that name ``ModelOperation/embeddings``.
    func parseEmbeddings(_ body: ByteBuffer, route: DialectRoute) throws(RequestRejection) -> MockEmbeddingsRequest

    /// Writes a complete chat response body.
    func encodeChat(_ reply: MockChatReply, for request: MockChatRequest) throws -> ByteBuffer

    /// Writes a chat reply as this dialect's stream.
    func encodeChatStream(_ reply: MockChatReply, for request: MockChatRequest) throws -> MockStream

    /// Writes an embeddings response body.
    func encodeEmbeddings(_ vectors: [[Float]], for request: MockEmbeddingsRequest) throws -> ByteBuffer

    /// Writes the model list; only called for routes that name ``ModelOperation/listModels``.
    func encodeModelList(_ models: [String]) throws -> ByteBuffer

    /// Writes an error body in this dialect's shape.
    func encodeError(_ rejection: RequestRejection) -> ByteBuffer

    /// Headers an error response carries besides its content type and `Retry-After`, such as Bedrock's
    /// `x-amzn-errortype`.
    func errorHeaders(_ rejection: RequestRejection) -> HTTPHeaders
}

extension MockDialect {
    func authenticate(_ head: HTTPRequestHead, path: Substring, query: Substring?, body: ByteBuffer, script: MockScript) throws(RequestRejection) {}

    func errorHeaders(_ rejection: RequestRejection) -> HTTPHeaders { [:] }

    func parseEmbeddings(_ body: ByteBuffer, route: DialectRoute) throws(RequestRejection) -> MockEmbeddingsRequest {
        throw RequestRejection(.notFound, "This API has no embeddings.")
    }

    func encodeEmbeddings(_ vectors: [[Float]], for request: MockEmbeddingsRequest) throws -> ByteBuffer {
        throw RequestRejection(.notFound, "This API has no embeddings.")
    }

    func encodeModelList(_ models: [String]) throws -> ByteBuffer {
        throw RequestRejection(.notFound, "This API has no model list.")
    }
}

/// What a route asks the mock for.
enum ModelOperation: Sendable {
    case chat
    case embeddings
    case listModels
}

/// A request line matched by a dialect.
struct DialectRoute: Sendable {
    var operation: ModelOperation
    /// The model the path names (Azure's deployment, Bedrock's model id); it keys the script.
    var pathModel: String?
}

/// A request refused with a status and a sentence, written in the dialect's error shape.
struct RequestRejection: Error, Sendable {
    var status: HTTPResponseStatus
    var message: String
    /// Seconds for a `Retry-After` header.
    var retryAfter: Int?

    init(_ status: HTTPResponseStatus, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }
}

/// A chat request in any dialect, reduced to what the mock's replies depend on.
struct MockChatRequest: Sendable {
    /// The upstream model name: the path's, else the body's.
    var model: String
    var stream: Bool
    /// OpenAI's `stream_options.include_usage`: a usage chunk ends the stream.
    var includeUsage = false
    /// The most completion tokens (words) the reply may hold.
    var maxTokens: Int?
    /// The last message.
    var lastTurn: LastTurn
    /// The text of the last user message, tool results aside.
    var lastUserText: String
    var tools: [MockTool] = []
    var toolChoice: ToolChoice = .auto
    var responseFormat: ResponseFormat = .text
    /// Words of all message texts plus 3 per message, at most the body's byte count.
    var promptTokens: Int

    enum LastTurn: Sendable {
        case user
        case toolResult(String)
        /// An assistant or system message, or none.
        case other
    }

    enum ToolChoice: Sendable, Equatable {
        case auto
        case none
        /// OpenAI's `required`, Anthropic's `any`.
        case required
        case named(String)
    }

    enum ResponseFormat: Sendable {
        case text
        case jsonObject
        case jsonSchema(JSONValue)
    }
}

/// A tool the request offers the model.
struct MockTool: Sendable {
    var name: String
    /// The JSON Schema of its arguments.
    var parameters: JSONValue
}

/// An embeddings request in any dialect.
struct MockEmbeddingsRequest: Sendable {
    var model: String
    var inputs: [String]
    var dimensions: Int
    /// Vectors as base64 of little-endian float32s (OpenAI's `encoding_format: base64`).
    var base64: Bool
    var promptTokens: Int
}

/// The mock's answer to a chat request, before a dialect writes it.
struct MockChatReply: Sendable {
    var content: Content
    var finish: Finish
    /// Numbers the reply's ids.
    var sequence: Int
    var promptTokens: Int
    var completionTokens: Int

    enum Content: Sendable {
        case text(String)
        case toolCall(name: String, arguments: String)
    }

    enum Finish: Sendable {
        /// The reply is complete.
        case stop
        /// `max_tokens` cut the reply short.
        case length
        /// The reply calls a tool.
        case toolCall
    }
}

/// A streamed response: opening events, content chunks (the ones `cutStream` counts), closing events.
struct MockStream: Sendable {
    var contentType: String
    var opening: [ByteBuffer]
    var content: [ByteBuffer]
    var closing: [ByteBuffer]
}

extension MockChatReply.Finish {
    /// The stop reason as the content-block dialects (Anthropic, Bedrock) both spell it.
    var contentBlockStopReason: String {
        switch self {
        case .stop: "end_turn"
        case .length: "max_tokens"
        case .toolCall: "tool_use"
        }
    }
}

extension MockChatReply {
    /// Tool input as the content-block dialects carry it: an object in a complete answer. Scripted
    /// arguments that are not JSON travel as a string, so that a client's handling of a broken
    /// tool call can still be tested.
    static func toolInput(_ arguments: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(arguments.utf8))) ?? .string(arguments)
    }
}
