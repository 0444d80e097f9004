import AsyncHTTPClient
import CairnAWS
import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// AWS Bedrock's Converse API: `POST {baseURL}/model/{modelId}/converse` (and
/// `/converse-stream`), signed with SigV4 for the service `bedrock` in the provider's region.
///
/// The base URL is the runtime endpoint, `https://bedrock-runtime.{region}.amazonaws.com`; the
/// deployment's model is a model id or inference-profile ARN, percent-encoded into the path.
/// The provider's secret holds the AWS keys as `ACCESS_KEY_ID:SECRET_ACCESS_KEY`, or
/// `ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN` for temporary credentials.
///
/// The conversation is translated as for Anthropic (``BlockConversation``), and so is structured
/// output: `json_schema` as a forced tool call read back as text, `json_object` as an instruction
/// in the system prompt.
public struct BedrockConverseProvider: ChatProvider {
    /// The SigV4 signing name of Bedrock's runtime endpoints.
    static let signingService = "bedrock"

    public init() {}

    public func complete(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatCompletion {
        let body = try BedrockConverseRequest(request, for: target.deployment)
        let http = try signedRequest(body, operation: "converse", accept: "application/json", on: target)
        let answer = try await UpstreamHTTP.sendJSON(http, on: target, as: BedrockConverseResponse.self)
        return answer.completion(deployment: target.deployment, structuredReply: body.structuredReply)
    }

    public func stream(_ request: ChatRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> ChatChunkStream {
        let body = try BedrockConverseRequest(request, for: target.deployment)
        let http = try signedRequest(body, operation: "converse-stream", accept: "application/vnd.amazon.eventstream", on: target)
        let response = try await UpstreamHTTP.send(http, on: target)
        let translator = BedrockConverseStreamTranslator(
            model: target.deployment.model,
            deployment: target.deployment.name,
            structuredReply: body.structuredReply
        )
        return ChatChunkStream(body: response.body, deployment: target.deployment.name, translator: translator)
    }

    /// The POST of `body` to the model's `operation`, signed.
    ///
    /// A provider without a region, a secret not in the documented form or a base URL that is not
    /// one fail as `.unavailable`: nothing was sent, the deployment is not unhealthy, and the next
    /// deployment may be configured well. The detail never holds the secret.
    private func signedRequest(
        _ body: BedrockConverseRequest,
        operation: String,
        accept: String,
        on target: DeploymentTarget
    ) throws(UpstreamFailure) -> HTTPClientRequest {
        let deployment = target.deployment.name
        guard let region = target.provider.region, !region.isEmpty else {
            throw UpstreamFailure(.unavailable, deployment: deployment, detail: "the Bedrock provider \(target.provider.name) has no region")
        }
        guard let credentials = Self.credentials(target.secret) else {
            throw UpstreamFailure(
                .unavailable,
                deployment: deployment,
                detail: "the credential of the Bedrock provider \(target.provider.name) is not ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]"
            )
        }
        let base = target.provider.baseURL.hasSuffix("/") ? String(target.provider.baseURL.dropLast()) : target.provider.baseURL
        // Signed as sent: the signer signs the path exactly as it is encoded here.
        let address = "\(base)/model/\(SigV4Signer.percentEncodedPathSegment(target.deployment.model))/\(operation)"
        guard let url = URL(string: address) else {
            throw UpstreamFailure(.unavailable, deployment: deployment, detail: "the Bedrock provider \(target.provider.name) has no valid base URL")
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(body))
        } catch {
            throw UpstreamFailure(.malformedResponse, deployment: deployment, detail: "the request could not be encoded: \(error)")
        }
        let headers: [(name: String, value: String)] = [(name: "Content-Type", value: "application/json"), (name: "Accept", value: accept)]
        let signer = SigV4Signer(credentials: credentials, region: region, service: Self.signingService)
        var request = HTTPClientRequest(url: address)
        request.method = .POST
        for header in headers + signer.signedHeaders(method: "POST", url: url, headers: headers, body: bytes, date: Date()) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        return request
    }

    /// The AWS keys in a secret of the form `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`;
    /// none of the three holds a `:`.
    static func credentials(_ secret: ProviderSecret?) -> AWSCredentials? {
        guard let parts = secret?.value.split(separator: ":", omittingEmptySubsequences: false),
            (2...3).contains(parts.count), !parts.contains(where: \.isEmpty)
        else { return nil }
        return AWSCredentials(
            accessKeyID: String(parts[0]),
            secretAccessKey: String(parts[1]),
            sessionToken: parts.count == 3 ? String(parts[2]) : nil
        )
    }
}

/// ConverseStream's answer: an AWS event stream whose messages carry `:message-type` (`event`,
/// or `exception` for a failure after the 200 head) and `:event-type`, with a JSON payload:
/// `messageStart`, then per content block `contentBlockStart` (tool uses only), `…Delta` and
/// `…Stop`, then `messageStop` (the stop reason) and `metadata` (usage), which ends it.
struct BedrockConverseStreamTranslator: UpstreamStreamTranslator {
    private var messages = AWSEventStreamDecoder()
    private let decoder = JSONDecoder()
    private var reply: BlockReplyStream

    init(model: String, deployment: String, structuredReply: Bool) {
        reply = BlockReplyStream(
            id: BedrockConverseResponse.newCompletionID(),
            model: model,
            deployment: deployment,
            structuredReply: structuredReply
        )
    }

    mutating func consume(_ bytes: ByteBuffer) throws -> [UpstreamStreamStep] {
        messages.append(bytes.readableBytesView)
        var steps: [UpstreamStreamStep] = []
        while let message = try messages.next() {
            steps += try translate(message)
        }
        return steps
    }

    private mutating func translate(_ message: AWSEventStreamMessage) throws -> [UpstreamStreamStep] {
        switch message.messageType {
        case "event":
            break
        case "exception":
            let text = (try? decoder.decode(BedrockStreamEvent.Exception.self, from: Data(message.payload)))?.message ?? ""
            throw Self.failure(exception: message.exceptionType ?? "", message: text, deployment: reply.deployment)
        default:
            // `error` messages name their problem in headers rather than a payload.
            let code = message.headers[":error-code"]?.stringValue ?? message.messageType ?? "no message type"
            let text = message.headers[":error-message"]?.stringValue ?? ""
            throw UpstreamFailure(.malformedResponse, deployment: reply.deployment, detail: "\(code): \(text)")
        }
        let payload = Data(message.payload)
        switch message.eventType {
        case "messageStart":
            return [.chunk(reply.opening())]
        case "contentBlockStart":
            let event = try decoder.decode(BedrockStreamEvent.ContentBlockStart.self, from: payload)
            guard let toolUse = event.start.toolUse else { return [] }
            return steps(reply.toolUseStarted(block: event.contentBlockIndex, id: toolUse.toolUseId, name: toolUse.name))
        case "contentBlockDelta":
            let event = try decoder.decode(BedrockStreamEvent.ContentBlockDelta.self, from: payload)
            if let text = event.delta.text { return steps(reply.text(text)) }
            if let toolUse = event.delta.toolUse { return steps(try reply.toolInput(block: event.contentBlockIndex, toolUse.input)) }
            return []  // Reasoning and citations.
        case "messageStop":
            let event = try decoder.decode(BedrockStreamEvent.MessageStop.self, from: payload)
            return [.chunk(reply.finish(stopReason: event.stopReason))]
        case "metadata":
            let event = try decoder.decode(BedrockStreamEvent.Metadata.self, from: payload)
            return (event.usage.map { [.chunk(reply.usage($0.tokenUsage))] } ?? []) + [.done]
        default:
            return []  // contentBlockStop, and event types AWS may add.
        }
    }

    private func steps(_ chunk: ChatCompletionChunk?) -> [UpstreamStreamStep] {
        chunk.map { [.chunk($0)] } ?? []
    }

    /// An exception, classified by what a retry can change: throttling and failures on AWS's
    /// side may pass at the next attempt or deployment; a request Bedrock finds invalid will not.
    private static func failure(exception: String, message: String, deployment: String) -> UpstreamFailure {
        let kind: UpstreamFailure.Kind =
            switch exception {
            case "throttlingException": .rateLimited(retryAfter: nil)
            case "internalServerException": .status(500)
            case "modelStreamErrorException": .status(502)
            case "serviceUnavailableException": .status(503)
            case "modelTimeoutException": .timedOut
            case "validationException": .status(400)
            default: .malformedResponse
            }
        return UpstreamFailure(kind, deployment: deployment, detail: "\(exception): \(message)")
    }
}
