import AsyncHTTPClient
import CairnCore
import Foundation
import NIOCore

/// Anthropic's Messages API: `POST {baseURL}/v1/messages`, with the base URL given without the
/// version (`https://api.anthropic.com`) and the provider's secret as the API key.
///
/// System and developer messages become the top-level `system`; the turns are merged so that
/// user and assistant alternate, as Anthropic requires; tool calls and results become `tool_use`
/// and `tool_result` blocks. Anthropic has no JSON mode: `json_schema` is asked for as a forced
/// tool call whose input is read back as the reply's text (see ``ToolPlan``), and `json_object`
/// as an instruction in the system prompt. The gateway validates the reply either way.
public struct AnthropicProvider: ChatProvider {
    /// The API version requests pin, so that Anthropic's changes of shape never reach the
    /// translation unannounced.
    static let apiVersion = "2023-06-01"

    public init() {}

    public func complete(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatCompletion {
        let body = try AnthropicMessagesRequest(request, for: target.deployment)
        let http = try UpstreamHTTP.post(url(target), json: body, headers: headers(target))
        let answer = try await UpstreamHTTP.sendJSON(http, on: target, as: AnthropicMessage.self)
        return answer.completion(deployment: target.deployment, structuredReply: body.structuredReply)
    }

    public func stream(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatChunkStream {
        var body = try AnthropicMessagesRequest(request, for: target.deployment)
        body.stream = true
        let http = try UpstreamHTTP.post(url(target), json: body, headers: headers(target) + [("Accept", "text/event-stream")])
        let response = try await UpstreamHTTP.send(http, on: target)
        let translator = AnthropicStreamTranslator(
            model: target.deployment.model,
            deployment: target.deployment.name,
            structuredReply: body.structuredReply
        )
        return ChatChunkStream(body: response.body, deployment: target.deployment.name, translator: translator)
    }

    private func url(_ target: DeploymentTarget) -> String {
        let base = target.provider.baseURL.hasSuffix("/") ? String(target.provider.baseURL.dropLast()) : target.provider.baseURL
        return "\(base)/v1/messages"
    }

    private func headers(_ target: DeploymentTarget) -> [(String, String)] {
        var headers = [("anthropic-version", Self.apiVersion)]
        if let secret = target.secret { headers.append(("x-api-key", secret.value)) }
        return headers
    }
}

/// Anthropic's stream: server-sent events named like their `type`, from `message_start` through
/// content blocks (`content_block_start`, `_delta`, `_stop`) and `message_delta` (stop reason,
/// output tokens) to `message_stop`. `ping` and event types Anthropic may add are ignored.
struct AnthropicStreamTranslator: UpstreamStreamTranslator {
    private var parser = ServerSentEventParser()
    private let decoder = JSONDecoder()
    private var reply: BlockReplyStream
    private var usage = AnthropicUsage()

    init(model: String, deployment: String, structuredReply: Bool) {
        // The id comes with `message_start`, the first event.
        reply = BlockReplyStream(id: "", model: model, deployment: deployment, structuredReply: structuredReply)
    }

    mutating func consume(_ bytes: ByteBuffer) throws -> [UpstreamStreamStep] {
        var steps: [UpstreamStreamStep] = []
        for event in try parser.parse(bytes.readableBytesView) {
            steps += try translate(try decoder.decode(AnthropicStreamEvent.self, from: Data(event.data.utf8)))
        }
        return steps
    }

    private mutating func translate(_ event: AnthropicStreamEvent) throws(UpstreamFailure) -> [UpstreamStreamStep] {
        switch event.type {
        case "message_start":
            guard let message = event.message else { throw malformed("message_start without its message") }
            reply.id = message.id
            reply.model = message.model ?? reply.model
            usage.update(with: message.usage)
            return [.chunk(reply.opening())]
        case "content_block_start":
            guard let index = event.index, let block = event.contentBlock else { throw malformed("content_block_start without its block") }
            switch block {
            case .text(let text): return steps(reply.text(text))
            case .toolUse(let id, let name, _): return steps(reply.toolUseStarted(block: index, id: id, name: name))
            case .other: return []
            }
        case "content_block_delta":
            guard let index = event.index, let delta = event.delta else { throw malformed("content_block_delta without its delta") }
            switch delta.type {
            case "text_delta": return steps(reply.text(delta.text ?? ""))
            case "input_json_delta": return steps(try reply.toolInput(block: index, delta.partialJSON ?? ""))
            default: return []  // Thinking, signatures, citations.
            }
        case "message_delta":
            usage.update(with: event.usage)
            return [.chunk(reply.finish(stopReason: event.delta?.stopReason))]
        case "message_stop":
            return [.chunk(reply.usage(usage.tokenUsage)), .done]
        case "error":
            throw failure(event.error)
        default:
            return []
        }
    }

    private func steps(_ chunk: ChatCompletionChunk?) -> [UpstreamStreamStep] {
        chunk.map { [.chunk($0)] } ?? []
    }

    private func malformed(_ detail: String) -> UpstreamFailure {
        UpstreamFailure(.malformedResponse, deployment: reply.deployment, detail: detail)
    }

    /// An `error` event, which can arrive after the 200 head: classified as the HTTP status
    /// Anthropic would have sent for it, so an overloaded or failing upstream is retried elsewhere.
    private func failure(_ error: AnthropicStreamEvent.ErrorBody?) -> UpstreamFailure {
        let detail = error.map { "\($0.type): \($0.message ?? "")" } ?? "an error event without its error"
        let kind: UpstreamFailure.Kind =
            switch error?.type {
            case "overloaded_error": .status(529)
            case "rate_limit_error": .rateLimited(retryAfter: nil)
            case "api_error": .status(500)
            default: .malformedResponse
            }
        return UpstreamFailure(kind, deployment: reply.deployment, detail: detail)
    }
}
