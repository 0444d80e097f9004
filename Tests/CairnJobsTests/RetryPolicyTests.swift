import CairnJobs
import Testing

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("Backoff doubles from the base up to the cap, and full jitter spans zero to the ceiling")
    func backoff() {
        let policy = RetryPolicy(base: .seconds(1), cap: .seconds(60))
        #expect((1...8).map { policy.ceiling(afterAttempt: $0) } == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
        #expect(policy.delay(afterAttempt: 3, unit: 0) == .zero)
        #expect(policy.delay(afterAttempt: 3, unit: 0.5) == .seconds(2))
        #expect(policy.ceiling(afterAttempt: 1_000) == .seconds(60))
    }
}
