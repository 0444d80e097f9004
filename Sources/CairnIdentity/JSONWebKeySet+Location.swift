import AsyncHTTPClient
public import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

extension JSONWebKeySet {
    /// A key set read from `location`: an `https://` URL (plain `http://` only on loopback, for
    /// a development IdP) fetched with a 10-second timeout and a 1 MiB cap, or a local file path.
    public static func at(_ location: String) throws(CairnError) -> JSONWebKeySet {
        if location.hasPrefix("https://") || location.hasPrefix("http://") {
            guard let url = URL(string: location), let host = url.host else {
                throw CairnError(.misconfigured, "CAIRN_OIDC_JWKS is not a valid URL.")
            }
            guard url.scheme == "https" || ["127.0.0.1", "localhost", "::1"].contains(host) else {
                throw CairnError(.misconfigured, "CAIRN_OIDC_JWKS must use https (plain http is accepted only on loopback).")
            }
            return JSONWebKeySet {
                var request = HTTPClientRequest(url: location)
                request.headers.add(name: "Accept", value: "application/json")
                let response = try await keySetClient.execute(request, timeout: .seconds(10))
                guard response.status == .ok else {
                    throw CairnError(.unavailable, "The JWKS endpoint answered HTTP \(response.status.code).")
                }
                return Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            }
        }
        return JSONWebKeySet {
            try Data(contentsOf: URL(fileURLWithPath: location))
        }
    }
}

/// The client for key sets: it follows no redirect, so an `https://` key set URL can never be
/// downgraded to plain HTTP by a redirect. Process-wide, like `HTTPClient.shared`, so it is
/// never shut down.
private let keySetClient = HTTPClient(
    eventLoopGroup: HTTPClient.defaultEventLoopGroup,
    configuration: HTTPClient.Configuration(redirectConfiguration: .disallow)
)
