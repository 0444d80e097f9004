import HTTPTypes
import Hummingbird

/// CORS for an explicit allow-list of origins (`CAIRN_CORS_ORIGINS`).
///
/// Requests from other origins get no CORS headers, so browsers refuse them; requests without
/// `Origin` (servers, CLIs) are untouched. Preflights from allowed origins answer 204.
struct CORSAllowListMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let allowedOrigins: Set<String>

    private static let allowedMethods = "GET, POST, PATCH, DELETE, OPTIONS"
    private static let allowedHeaders = "Authorization, Content-Type, Accept, Idempotency-Key, X-Request-Id"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: origin,
                    .accessControlAllowMethods: Self.allowedMethods,
                    .accessControlAllowHeaders: Self.allowedHeaders,
                    .accessControlMaxAge: "600",
                    .vary: "Origin",
                ]
            )
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "X-Request-Id"
        response.headers[.vary] = "Origin"
        return response
    }
}
