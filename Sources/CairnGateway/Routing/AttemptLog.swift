/// What happened on the way to an answer: every attempt, in order. Kept per call so that the
/// response can say how many attempts it took, and the log and the ledger which ones failed.
public struct AttemptLog: Sendable {
    public private(set) var failures: [UpstreamFailure] = []
    public private(set) var attempts = 0

    public init() {}

    mutating func attempted() { attempts += 1 }
    mutating func failed(_ failure: UpstreamFailure) { failures.append(failure) }

    /// The failure to report when every deployment failed: the last one that was not a skip,
    /// since "unavailable" only says the deployment was passed over.
    var decisive: UpstreamFailure? { failures.last { $0.kind != .unavailable } ?? failures.last }
}
