package import CairnAPI
package import Foundation
import HTTPTypes
import NIOCore
import OpenAPIAsyncHTTPClient
package import OpenAPIRuntime

extension Client {
    /// The API of a `cairn serve` on loopback `port`, called through the client generated from
    /// `openapi.yaml` as an integrator's would be: typed inputs, typed outputs, the server's
    /// own date format, and `token` as the bearer key when one is given.
    package static func loopback(port: Int, token: String?) throws -> Client {
        guard let url = URL(string: "http://127.0.0.1:\(port)") else { throw URLError(.badURL) }
        return Client(
            serverURL: url,
            configuration: Configuration(dateTranscoder: FlexibleISO8601DateTranscoder()),
            transport: AsyncHTTPClientTransport(configuration: .init(timeout: .seconds(120))),
            middlewares: token.map { [BearerToken(token: $0)] } ?? []
        )
    }
}

/// Adds `Authorization: Bearer …` to every request.
private struct BearerToken: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        baseURL: URL,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}
