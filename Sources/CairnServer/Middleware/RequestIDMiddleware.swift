import HTTPTypes
import Hummingbird
import Logging

/// Accepts a well-formed `X-Request-Id` from the client (or keeps Hummingbird's generated id),
/// puts it on every log line of the request, and echoes it on the response.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let presented = request.headers[Self.header].flatMap { value in
            (1...128).contains(value.count) && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) }
                ? value : nil
        }
        let id = presented ?? context.id
        // Hummingbird's `context.id` reads this metadata key, so the problem `instance` and the
        // logs carry the same id.
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try ProblemDetailsMiddleware.problem(for: error, logger: context.logger).response(from: request, context: context)
        }
        response.headers[Self.header] = id
        return response
    }
}
