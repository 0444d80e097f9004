/// Why one attempt at a deployment failed, classified for retry and failover decisions.
///
/// The classification follows what a retry can change: a server error, a rate limit, a timeout
/// or a dropped connection may go away on the next try or the next deployment; a request the
/// provider rejects (400, 401, 403, 404, 422) would be rejected by every retry too.
public struct UpstreamFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The provider answered with this HTTP status (not 429).
        case status(Int)
        /// 429, with the provider's `Retry-After` if it sent one.
        case rateLimited(retryAfter: Duration?)
        /// No connection within the connect timeout, no first token within its timeout, or the
        /// attempt ran past its total timeout.
        case timedOut
        /// The connection failed or was reset.
        case connectionFailed
        /// The answer could not be understood (not the dialect's JSON, a broken event stream).
        case malformedResponse
        /// The deployment was at its concurrency limit or its circuit was open; nothing was sent.
        case unavailable
    }

    public let kind: Kind
    /// The deployment the attempt went to.
    public let deployment: String
    /// What the provider said, trimmed; for logs, never shown to API callers (it may echo input).
    public let detail: String

    public init(_ kind: Kind, deployment: String, detail: String = "") {
        self.kind = kind
        self.deployment = deployment
        self.detail = String(detail.prefix(500))
    }

    /// Whether another attempt (here or at the next deployment) may succeed.
    public var isRetryable: Bool {
        switch kind {
        case .status(let code): code == 408 || code == 409 || code >= 500
        case .rateLimited, .timedOut, .connectionFailed, .malformedResponse, .unavailable: true
        }
    }

    /// Whether the failure counts against the deployment's circuit breaker. A rejected request
    /// says nothing about the deployment's health, and neither does being skipped.
    public var countsAgainstHealth: Bool {
        switch kind {
        case .status(let code): code >= 500
        case .rateLimited, .timedOut, .connectionFailed, .malformedResponse: true
        case .unavailable: false
        }
    }

    public var description: String {
        switch kind {
        case .status(let code): "\(deployment) answered HTTP \(code)"
        case .rateLimited: "\(deployment) is rate limited"
        case .timedOut: "\(deployment) timed out"
        case .connectionFailed: "\(deployment) could not be reached"
        case .malformedResponse: "\(deployment) sent a malformed response"
        case .unavailable: "\(deployment) is unavailable"
        }
    }
}
