import CairnCore
import CairnIdentity
import HTTPTypes
import Hummingbird

/// Resolves the caller of every `/v1` and `/openai/v1` request before its body is read.
///
/// Authentication happens here, at the router, rather than next to authorization inside the
/// OpenAPI runtime, so that an unauthenticated client cannot make the server buffer and parse
/// a request body: it gets its 401 first. The caller reaches `AccessControlMiddleware` and the
/// handlers through the `RequestCaller.current` task-local.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/v1" || path.hasPrefix("/v1/") || path.hasPrefix(OpenAIFrontDoor.prefix + "/") else {
            return try await next(request, context)
        }
        let caller = try await authenticator.caller(authorization: request.headers[.authorization])
        return try await RequestCaller.$current.withValue(caller) {
            try await next(request, context)
        }
    }
}
