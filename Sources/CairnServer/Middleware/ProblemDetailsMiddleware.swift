import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every error that escapes a handler into a problem-details response.
///
/// The OpenAPI runtime wraps handler and decoding failures in `ServerError`, which Hummingbird
/// would answer with an empty 500; this middleware unwraps it. A failure before the handler
/// ran (`operationInput == nil`) is the client's input, so it is a 4xx, never a 500.
struct ProblemDetailsMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, logger: context.logger)
            return try problem.response(from: request, context: context)
        }
    }

    static func problem(for error: any Error, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as CairnError:
            let problem = Problem(error)
            if problem.status.kind == .serverError {
                logger.error("Request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            return problem
        case let error as ServerError:
            if error.underlyingError is Problem || error.underlyingError is CairnError {
                return problem(for: error.underlyingError, logger: logger)
            }
            // Only a decoding failure before the handler ran is about the request; one from
            // inside a handler (a stored row that does not decode) is Cairn's fault.
            if let decoding = error.underlyingError as? DecodingError, error.operationInput == nil {
                // Without a declared body, what failed to decode was a path or query parameter (an
                // enum value the operation does not know): not a body that "is not valid JSON".
                if case .dataCorrupted(let context) = decoding, context.codingPath.isEmpty, error.request.headerFields[.contentType] == nil {
                    return Problem(
                        status: .badRequest,
                        slug: "invalid-input",
                        detail: "A path or query parameter has a value this operation does not accept."
                    )
                }
                return Problem(decoding)
            }
            if error.operationInput == nil || error.httpStatus.kind == .clientError {
                let status = error.httpStatus.kind == .clientError ? error.httpStatus : .badRequest
                return Problem(status: status, slug: "invalid-input", detail: Self.sentence(for: status))
            }
            logger.error("Request failed", metadata: ["operation": "\(error.operationID)", "error": "\(String(reflecting: error.underlyingError))"])
            return Problem(CairnError(.internalFailure, "Unhandled error."))
        case let error as HTTPError:
            if error.status == .notFound {
                return Problem(status: .notFound, slug: "not-found", detail: "There is no such route; see /openapi.yaml for the API.")
            }
            return Problem(
                status: error.status,
                slug: error.status.kind == .clientError ? "invalid-input" : "internal",
                detail: Self.sentence(for: error.status)
            )
        case let error as any HTTPResponseError:
            if error.status == .contentTooLarge {
                return Problem(status: .contentTooLarge, slug: "payload-too-large", detail: "The request body is larger than this server accepts.")
            }
            return Problem(
                status: error.status,
                slug: error.status.kind == .clientError ? "invalid-input" : "internal",
                detail: Self.sentence(for: error.status)
            )
        default:
            logger.error("Request failed", metadata: ["error": "\(String(reflecting: error))"])
            return Problem(CairnError(.internalFailure, "Unhandled error."))
        }
    }

    private static func sentence(for status: HTTPResponse.Status) -> String {
        switch status {
        case .unsupportedMediaType: "The request body must be JSON (Content-Type: application/json)."
        case .notAcceptable: "The response can only be sent as JSON; accept application/json or application/problem+json."
        case .badRequest: "The request is malformed: check the query string, path and headers."
        default: "The request could not be processed (\(status.code) \(status.reasonPhrase))."
        }
    }
}

extension Problem {
    /// A body that failed to decode: malformed JSON is a 400, JSON of the wrong shape a 422
    /// that points at the offending member.
    init(_ error: DecodingError) {
        func pointer(_ path: [any CodingKey]) -> String {
            path.map { key in
                "/"
                    + (key.intValue.map(String.init) ?? key.stringValue)
                    .replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
            }.joined()
        }
        func invalid(_ path: [any CodingKey], _ detail: String) -> Problem {
            Problem(
                status: .unprocessableContent,
                slug: "invalid-input",
                detail: "The request does not match the API's schema: \(pointer(path).isEmpty ? "the body" : pointer(path)) \(detail).",
                errors: [FieldIssue(pointer: pointer(path), detail: detail)]
            )
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            self.init(status: .badRequest, slug: "invalid-input", detail: "The request body is not valid JSON.")
        case .keyNotFound(let key, let context):
            self = invalid(context.codingPath + [key], "is required")
        case .typeMismatch(let type, let context):
            self = invalid(context.codingPath, "must be of type \(type)")
        case .valueNotFound(_, let context):
            self = invalid(context.codingPath, "must not be null")
        case .dataCorrupted(let context):
            self = invalid(context.codingPath, "has a value that is not allowed")
        @unknown default:
            self.init(status: .badRequest, slug: "invalid-input", detail: "The request could not be decoded.")
        }
    }
}
