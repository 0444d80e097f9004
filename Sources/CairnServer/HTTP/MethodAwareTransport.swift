import HTTPTypes
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime

/// Registers the generated operations on the router and records which methods each path
/// template declares, for `MethodNotAllowedMiddleware`.
///
/// Used only while the router is built, on one task, so it holds plain mutable state.
final class MethodAwareTransport: ServerTransport {
    private let routes: RouteCollection<CairnRequestContext>
    private var declared: [String: Set<HTTPRequest.Method>] = [:]

    init(routes: RouteCollection<CairnRequestContext>) {
        self.routes = routes
    }

    func register(
        _ handler: @Sendable @escaping (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method,
        path: String
    ) throws {
        routes.register(handler, method: method, path: path)
        declared[path, default: []].insert(method)
    }

    /// The path templates and methods registered so far.
    var declaredRoutes: DeclaredRoutes {
        DeclaredRoutes(declared.map { DeclaredRoutes.Route(template: $0.key, methods: $0.value) })
    }
}

/// The API's path templates (`/v1/api-keys/{keyId}`) and the methods each declares.
struct DeclaredRoutes: Sendable {
    struct Route: Sendable {
        let segments: [Substring]
        let allow: String

        init(template: String, methods: Set<HTTPRequest.Method>) {
            self.segments = template.split(separator: "/")
            self.allow = methods.map(\.rawValue).sorted().joined(separator: ", ")
        }

        func matches(_ path: [Substring]) -> Bool {
            path.count == segments.count
                && zip(segments, path).allSatisfy { template, actual in
                    template.hasPrefix("{") || template == actual
                }
        }
    }

    let routes: [Route]

    init(_ routes: [Route]) { self.routes = routes }

    /// These routes and `more` (routes registered outside the OpenAPI document).
    func adding(_ more: [Route]) -> DeclaredRoutes { DeclaredRoutes(routes + more) }

    /// The `Allow` value for a concrete path, if it matches a declared template.
    func allow(for path: String) -> String? {
        let segments = path.split(separator: "/")
        return routes.first { $0.matches(segments) }?.allow
    }
}

/// A method a known path does not declare answers 405 with `Allow`, not Hummingbird's 404:
/// the resource may well exist, only the method is wrong. Any method counts, including ones
/// the router has never heard of (`QUERY`).
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let routes: DeclaredRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // Only the router's own "no route" is an HTTPError; handlers' not-found is a CairnError.
            guard let allow = routes.allow(for: request.uri.path) else { throw error }
            var problem = Problem(
                status: .methodNotAllowed,
                slug: "method-not-allowed",
                detail: "\(request.uri.path) does not support \(request.method.rawValue); it supports \(allow)."
            )
            problem.headers[.allow] = allow
            throw problem
        }
    }
}
