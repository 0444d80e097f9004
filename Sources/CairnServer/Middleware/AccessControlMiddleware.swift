import CairnCore
import CairnIdentity
import HTTPTypes
import OpenAPIRuntime

/// Authenticates and authorizes every API operation before its handler runs.
///
/// It runs inside the OpenAPI runtime, which hands it the `operationId`, so the requirement comes
/// from `RoutePolicy` and never from path matching that could drift from the spec. The resolved
/// caller reaches handlers through the `RequestCaller.current` task-local.
struct AccessControlMiddleware: ServerMiddleware {
    let authenticator: Authenticator

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let entry = RoutePolicy.requirements[operationID] else {
            throw CairnError(.forbidden, "This operation has no access policy, so it is refused.")
        }
        guard let requirement = entry else {
            return try await next(request, body, metadata)
        }
        let caller = try await authenticator.caller(authorization: request.headerFields[.authorization])
        try requirement.authorize(caller)
        return try await RequestCaller.$current.withValue(caller) {
            try await next(request, body, metadata)
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
