public import CairnCore
import Synchronization

/// Requests-per-minute and tokens-per-minute limits per API key, as token buckets.
///
/// Buckets live in this node's memory: with several API nodes, each enforces a key's limits on
/// the traffic it sees (ADR 0022). Budgets, which guard money, are the fleet-wide limit.
public final class KeyRateLimiter: Sendable {
    private struct Buckets {
        var limits: ModelAccessLimits
        var requests: TokenBucket?
        var tokens: TokenBucket?
    }

    private let buckets = Mutex<[APIKeyID: Buckets]>([:])
    /// The clock buckets refill on: the continuous clock, or a test's hand-moved one, so that a
    /// slow machine's calls cannot refill a bucket the test expects empty.
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.now = now
    }

    /// What was taken at admission, to be corrected once the call's real tokens are known.
    public struct Admission: Sendable {
        let key: APIKeyID?
        let estimatedTokens: Int
    }

    /// Takes one request and `estimatedTokens` from the key's buckets, or throws a 429 saying
    /// when to retry. Calls without a key (OIDC users, in-process callers) are not limited here.
    public func admit(key: APIKeyID?, limits: ModelAccessLimits, estimatedTokens: Int) throws(CairnError) -> Admission {
        guard let key, limits.requestsPerMinute != nil || limits.tokensPerMinute != nil else {
            return Admission(key: nil, estimatedTokens: 0)
        }
        if let tpm = limits.tokensPerMinute, estimatedTokens > tpm {
            throw CairnError(.invalidInput, "This request may use up to \(estimatedTokens) tokens, more than the key's limit of \(tpm) per minute.")
        }
        let now = now()
        let wait: Duration? = buckets.withLock { all in
            var entry = all[key] ?? Buckets(limits: limits)
            if entry.limits != limits { entry = Buckets(limits: limits) }
            if entry.requests == nil, let rpm = limits.requestsPerMinute {
                entry.requests = TokenBucket(capacity: rpm, period: .seconds(60), now: now)
            }
            if entry.tokens == nil, let tpm = limits.tokensPerMinute { entry.tokens = TokenBucket(capacity: tpm, period: .seconds(60), now: now) }
            defer { all[key] = entry }
            if let wait = entry.requests?.take(1, now: now) { return wait }
            if let wait = entry.tokens?.take(Double(estimatedTokens), now: now) {
                entry.requests?.adjust(by: 1, now: now)
                return wait
            }
            return nil
        }
        if let wait {
            var error = CairnError(.overloaded, "The key's rate limit is reached; retry after the time Retry-After gives.")
            error.retryAfter = wait
            throw error
        }
        return Admission(key: key, estimatedTokens: estimatedTokens)
    }

    /// Corrects the token bucket to the tokens the call really used.
    public func settle(_ admission: Admission, actualTokens: Int) {
        guard let key = admission.key else { return }
        let now = now()
        buckets.withLock { all in
            all[key]?.tokens?.adjust(by: Double(admission.estimatedTokens - actualTokens), now: now)
        }
    }
}
