import CairnCore
import HTTPTypes
import OpenAPIRuntime

/// Authorizes every API operation before its handler runs.
///
/// It runs inside the OpenAPI runtime, which hands it the `operationId`, so the requirement comes
/// from `RoutePolicy` and never from path matching that could drift from the spec. The caller
/// was resolved earlier, at the router, by `AuthenticationMiddleware`.
struct AccessControlMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        switch RoutePolicy.access[operationID] {
        case nil:
            throw CairnError(.forbidden, "This operation has no access policy, so it is refused.")
        case .public:
            return try await next(request, body, metadata)
        case .requires(let requirement):
            guard let caller = RequestCaller.current else {
                throw CairnError(.unauthenticated, "This operation needs credentials: send 'Authorization: Bearer <token>'.")
            }
            try requirement.authorize(caller)
            return try await next(request, body, metadata)
        }
    }
}

/// The authenticated caller of the operation being handled.
enum RequestCaller {
    @TaskLocal static var current: Caller?

    /// The tenant principal; handlers behind a `.permission` requirement always have one.
    static func principal() throws(CairnError) -> Principal {
        guard case .principal(let principal)? = current else {
            throw CairnError(.internalFailure, "No authenticated principal for a tenant operation.")
        }
        return principal
    }
}
