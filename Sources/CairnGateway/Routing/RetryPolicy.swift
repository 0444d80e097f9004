import CairnCore

/// How often and how long to wait before trying a deployment again.
///
/// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
/// Jitter"): the wait is drawn uniformly from zero to `base × 2^attempt`, capped, so clients that
/// failed together do not retry together. A provider's `Retry-After` wins when it asks for
/// longer; when it asks for longer than `longestRetryAfter`, the gateway moves to the next
/// deployment rather than hold the caller.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts at one deployment before falling back to the next (1 = no retry).
    public var attemptsPerDeployment: Int
    public var base: Duration
    public var cap: Duration
    public var longestRetryAfter: Duration

    public init(
        attemptsPerDeployment: Int = 2,
        base: Duration = .milliseconds(100),
        cap: Duration = .seconds(5),
        longestRetryAfter: Duration = .seconds(10)
    ) {
        self.attemptsPerDeployment = max(1, attemptsPerDeployment)
        self.base = base
        self.cap = cap
        self.longestRetryAfter = longestRetryAfter
    }

    /// The wait before retry number `retry` (1 = the first retry) after `failure`; `nil` when
    /// the failure should not be retried at this deployment.
    public func delay(beforeRetry retry: Int, after failure: UpstreamFailure, using generator: inout some RandomNumberGenerator) -> Duration? {
        guard failure.isRetryable, retry < attemptsPerDeployment, failure.kind != .unavailable else { return nil }
        let exponent = min(retry - 1, 30)
        let ceiling = min(cap, base * (1 << exponent))
        let jittered = Duration.nanoseconds(Int64.random(in: 0...max(0, ceiling.wholeNanoseconds), using: &generator))
        if case .rateLimited(let retryAfter?) = failure.kind {
            guard retryAfter <= longestRetryAfter else { return nil }
            return max(retryAfter, jittered)
        }
        return jittered
    }
}
