import CairnCore
import CairnGateway
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The OpenAI-compatible front door: `/openai/v1/chat/completions`, `/embeddings` and
/// `/models`, authenticated with Cairn API keys, served by the gateway.
///
/// These routes live beside the OpenAPI-generated ones rather than in `openapi.yaml`: their
/// contract is OpenAI's, not Cairn's, and the streamed answer is server-sent events written as
/// they arrive. Errors are still RFC 9457 problems; `Problem` adds OpenAI's `error` member
/// under this prefix, so OpenAI SDKs show the sentence.
struct OpenAIFrontDoor: Sendable {
    static let prefix = "/openai/v1"

    let gateway: ModelGateway

    /// The routes and methods served, for `MethodNotAllowedMiddleware`.
    static let declaredRoutes: [DeclaredRoutes.Route] = [
        .init(template: prefix + "/chat/completions", methods: [.post]),
        .init(template: prefix + "/embeddings", methods: [.post]),
        .init(template: prefix + "/models", methods: [.get]),
    ]

    func register(on router: Router<CairnRequestContext>) {
        router.post(RouterPath(Self.prefix + "/chat/completions")) { request, context in
            try await chatCompletions(request, context: context)
        }
        router.post(RouterPath(Self.prefix + "/embeddings")) { request, context in
            try await embeddings(request, context: context)
        }
        router.get(RouterPath(Self.prefix + "/models")) { _, _ in
            try await models()
        }
    }

    // MARK: - Chat

    private func chatCompletions(_ request: Request, context: CairnRequestContext) async throws -> Response {
        let principal = try Self.authorize()
        let chat = try await Self.decode(ChatRequest.self, from: request, context: context)
        let cacheTTL = try Self.cacheTTL(request)
        guard chat.isStreaming else {
            let completion = try await gateway.complete(chat, for: principal, cacheTTL: cacheTTL)
            return try Self.json(completion, receipt: completion.cairn)
        }
        if cacheTTL != nil {
            throw CairnError(.invalidInput, "Streamed answers are not cached; drop the Cairn-Cache-TTL header or stream.")
        }
        let stream = try await gateway.stream(chat, for: principal)
        var headers = Self.receiptHeaders(stream.receipt)
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.withoutEscapingSlashes]
                try await stream.deliver { event in
                    switch event {
                    case .chunk(let chunk):
                        try await writer.write(Self.event(try encoder.encode(chunk)))
                    case .failure(let error):
                        // After the first token the status line is long gone: the failure is
                        // the stream's last event, in OpenAI's error shape.
                        let body = OpenAIErrorEnvelope(message: error.message, type: "upstream_error", code: error.code.slug)
                        try await writer.write(Self.event(try encoder.encode(body)))
                    }
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            }
        )
    }

    // MARK: - Embeddings

    private struct EmbeddingsRequest: Decodable {
        let model: String
        let input: [String]
        let dimensions: Int?
        let encodingFormat: String?

        enum CodingKeys: String, CodingKey {
            case model, input, dimensions
            case encodingFormat = "encoding_format"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            model = try container.decode(String.self, forKey: .model)
            if let single = try? container.decode(String.self, forKey: .input) {
                input = [single]
            } else {
                input = try container.decode([String].self, forKey: .input)
            }
            dimensions = try container.decodeIfPresent(Int.self, forKey: .dimensions)
            encodingFormat = try container.decodeIfPresent(String.self, forKey: .encodingFormat)
        }
    }

    private struct EmbeddingsResponse: Encodable {
        struct Item: Encodable {
            var object = "embedding"
            let index: Int
            let embedding: Embedding
        }
        /// Floats, or their little-endian bytes in base64 (what OpenAI's SDKs ask for by default).
        enum Embedding: Encodable {
            case floats([Float])
            case base64(String)

            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .floats(let values): try container.encode(values)
                case .base64(let text): try container.encode(text)
                }
            }
        }
        struct Usage: Encodable {
            let promptTokens: Int
            var totalTokens: Int { promptTokens }
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case totalTokens = "total_tokens"
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(promptTokens, forKey: .promptTokens)
                try container.encode(totalTokens, forKey: .totalTokens)
            }
        }
        var object = "list"
        let data: [Item]
        let model: String
        let usage: Usage
        let cairn: GatewayReceipt
    }

    private func embeddings(_ request: Request, context: CairnRequestContext) async throws -> Response {
        let principal = try Self.authorize()
        let body = try await Self.decode(EmbeddingsRequest.self, from: request, context: context)
        let base64: Bool
        switch body.encodingFormat {
        case nil, "float": base64 = false
        case "base64": base64 = true
        default: throw CairnError(.invalidInput, "encoding_format must be float or base64.")
        }
        if let dimensions = body.dimensions, !(1...8192).contains(dimensions) {
            throw CairnError(.invalidInput, "dimensions must be between 1 and 8192.")
        }
        guard body.input.allSatisfy({ !$0.isEmpty }) else { throw CairnError(.invalidInput, "input must not contain empty strings.") }
        let result = try await gateway.embed(body.input, model: body.model, dimensions: body.dimensions, for: principal)
        let items = result.vectors.enumerated().map { index, vector in
            EmbeddingsResponse.Item(index: index, embedding: base64 ? .base64(Self.base64(vector)) : .floats(vector))
        }
        let response = EmbeddingsResponse(data: items, model: body.model, usage: .init(promptTokens: result.promptTokens), cairn: result.receipt)
        return try Self.json(response, receipt: result.receipt)
    }

    private static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }

    // MARK: - Models

    private struct ModelList: Encodable {
        struct Model: Encodable {
            let id: String
            var object = "model"
            let created: Int
            let ownedBy: String
            enum CodingKeys: String, CodingKey {
                case id, object, created
                case ownedBy = "owned_by"
            }
        }
        var object = "list"
        let data: [Model]
    }

    private func models() async throws -> Response {
        let principal = try Self.authorize()
        let models = try await gateway.models(for: principal)
        return try Self.json(ModelList(data: models.map { ModelList.Model(id: $0.id, created: 0, ownedBy: "cairn") }), receipt: nil)
    }

    // MARK: - Plumbing

    /// Opting in to the response cache: `Cairn-Cache-TTL: <seconds>`, 1 to 86,400.
    static let cacheTTLHeader = HTTPField.Name("cairn-cache-ttl")!

    private static func cacheTTL(_ request: Request) throws -> Duration? {
        guard let value = request.headers[cacheTTLHeader] else { return nil }
        guard let seconds = Int(value.trimmingCharacters(in: .whitespaces)), (1...86_400).contains(seconds) else {
            throw CairnError(.invalidInput, "Cairn-Cache-TTL must be a whole number of seconds from 1 to 86400.")
        }
        return .seconds(seconds)
    }

    /// The caller, who must hold `models.invoke`. Authentication already ran at the router.
    private static func authorize() throws -> Principal {
        guard let caller = RequestCaller.current else {
            throw CairnError(.unauthenticated, "This operation needs credentials: send 'Authorization: Bearer <token>'.")
        }
        try AccessRequirement.permission(.invokeModels).authorize(caller)
        return try RequestCaller.principal()
    }

    private static func decode<Body: Decodable>(_ type: Body.Type, from request: Request, context: CairnRequestContext) async throws -> Body {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw Problem(
                status: .unsupportedMediaType,
                slug: "invalid-input",
                detail: "The request body must be JSON (Content-Type: application/json)."
            )
        }
        var request = request
        // BodyLimitMiddleware, outside, has already bounded the body.
        let buffer = try await request.collectBody(upTo: .max)
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            // The request types word their own refusals ("Only one choice per request…").
            if case .dataCorrupted(let detail) = error, !detail.codingPath.isEmpty, detail.debugDescription.hasSuffix(".") {
                throw CairnError(.invalidInput, detail.debugDescription)
            }
            throw Problem(error)
        }
    }

    private static func json(_ value: some Encodable, receipt: GatewayReceipt?) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        var headers = receipt.map(receiptHeaders) ?? [:]
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static let deploymentHeader = HTTPField.Name("x-cairn-deployment")!
    static let attemptsHeader = HTTPField.Name("x-cairn-attempts")!
    static let cacheHeader = HTTPField.Name("x-cairn-cache")!

    private static func receiptHeaders(_ receipt: GatewayReceipt) -> HTTPFields {
        var headers = HTTPFields()
        headers[deploymentHeader] = receipt.deployment
        headers[attemptsHeader] = String(receipt.attempts)
        headers[cacheHeader] = receipt.cacheHit ? "hit" : "miss"
        return headers
    }

    private static func event(_ json: Data) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }
}

/// OpenAI's error object, `{"error": {"message", "type", "code"}}`: the terminal event of a
/// broken stream, and an extension member of problems under the front door's prefix.
struct OpenAIErrorEnvelope: Encodable {
    struct Detail: Encodable {
        let message: String
        let type: String
        let code: String
    }

    let error: Detail

    init(message: String, type: String, code: String) {
        error = Detail(message: message, type: type, code: code)
    }
}
