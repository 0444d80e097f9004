import Dispatch
import Synchronization

/// The time a document may still take, and whether the task that asked for it was cancelled,
/// for the parsers written in Swift: they check it between units of work (a chunk inflated, a
/// few thousand tokens read), so a hostile file fails at the limit instead of holding a thread.
final class ParsingBudget: Sendable {
    let deadline: ContinuousClock.Instant
    private let cancelled = Atomic(false)

    init(timeLimit: Duration) {
        deadline = .now + timeLimit
    }

    /// Called from the task's cancellation handler, on any thread.
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    /// Throws `CancellationError` once the task is cancelled, `ParsingFailure.timeLimit` once
    /// the deadline has passed.
    func check() throws {
        if cancelled.load(ordering: .relaxed) { throw CancellationError() }
        if ContinuousClock.now >= deadline { throw ParsingFailure.timeLimit }
    }
}

/// Runs CPU-bound parsing on a Dispatch thread rather than on Swift's cooperative pool, which
/// it would otherwise hold for seconds at a time.
func offCooperativePool<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Swift.Result { try work() })
        }
    }
}
