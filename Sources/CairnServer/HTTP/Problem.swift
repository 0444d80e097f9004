import CairnCore
import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: every error leaves the server in this shape, as
/// `application/problem+json`, with a stable `type`, a sentence in `detail`, and the request id
/// in `instance`. Never a stack trace, never SQL.
struct Problem: Error, HTTPResponseError, Sendable {
    struct FieldIssue: Codable, Sendable, Equatable {
        let pointer: String
        let detail: String
    }

    let status: HTTPResponse.Status
    /// Last segment of `type`, e.g. `not-found`.
    let slug: String
    let detail: String
    var errors: [FieldIssue]?
    var headers: HTTPFields = [:]

    init(status: HTTPResponse.Status, slug: String, detail: String, errors: [FieldIssue]? = nil) {
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = errors
    }

    /// The problem a `CairnError` becomes. Internal kinds get a generic sentence; their real
    /// cause is logged by the middleware, not shown.
    init(_ error: CairnError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .invalidInput: .unprocessableContent
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .unavailable: .serviceUnavailable
            case .overloaded: .tooManyRequests
            case .tooLarge: .contentTooLarge
            case .budgetExhausted: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required")
            case .upstreamFailed: .badGateway
            default: .internalServerError
            }
        let detail =
            status == .internalServerError ? "Cairn could not complete the request; the incident is logged with this request's id." : error.message
        self.init(status: status, slug: status == .internalServerError ? "internal" : error.code.slug, detail: detail)
        if error.code == .unauthenticated {
            headers[.wwwAuthenticate] = "Bearer"
        }
        if let retryAfter = error.retryAfter {
            // Whole seconds, rounded up, never 0: "retry at once" would defeat the back-off.
            let seconds = max(1, retryAfter.components.seconds + (retryAfter.components.attoseconds > 0 ? 1 : 0))
            headers[.retryAfter] = String(seconds)
        }
    }

    static let contentType = "application/problem+json"

    struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let instance: String?
        let errors: [FieldIssue]?
        /// OpenAI's error object, under the OpenAI-compatible prefix only: OpenAI's SDKs read
        /// their message from it. RFC 9457 allows extension members.
        let error: OpenAIErrorEnvelope.Detail?
    }

    /// The problem as its JSON body; `openAIError` adds OpenAI's error member.
    func body(instance: String?, openAIError: Bool = false) -> Body {
        Body(
            type: "urn:cairn:problem:\(slug)",
            title: status.reasonPhrase,
            status: status.code,
            detail: detail,
            instance: instance,
            errors: errors,
            error: openAIError
                ? OpenAIErrorEnvelope(message: detail, type: status.kind == .clientError ? "invalid_request_error" : "api_error", code: slug).error
                : nil
        )
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = body(instance: context.id, openAIError: request.uri.path.hasPrefix(OpenAIFrontDoor.prefix + "/"))
        let data = try JSONEncoder().encode(body)
        var headers = self.headers
        headers[.contentType] = Self.contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
