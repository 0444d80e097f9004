import CairnCore
import Hummingbird
import HTTPTypes
import NIOCore

/// Refuses request bodies over the configured size with 413, before any of it is decoded.
///
/// The OpenAPI runtime collects bodies without a limit, so the cap is enforced here: by
/// `Content-Length` when given, and while collecting otherwise (chunked uploads).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maximumBytes {
            throw tooLarge
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        return try await next(request, context)
    }

    private var tooLarge: Problem {
        Problem(status: .contentTooLarge, slug: "payload-too-large", detail: "The request body exceeds the \(maximumBytes)-byte limit.")
    }
}
