import Foundation
import Synchronization

/// Wakes waiting tasks: "jobs may be ready", "the grace period is over".
///
/// Every signal bumps a generation. A waiter passes the generation it saw before it last looked
/// for work, so a signal that arrives between looking and waiting is not lost. A `sticky`
/// signal stays raised once signalled (shutdown phases).
final class WakeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [(id: UUID, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())
    private let sticky: Bool

    init(sticky: Bool = false) { self.sticky = sticky }

    var generation: UInt64 { state.withLock { $0.generation } }
    var isRaised: Bool { sticky && generation > 0 }

    /// Wakes every waiter.
    func signal() {
        let waiters = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Waits until a signal newer than `seen` (any, for a sticky signal not yet raised), until
    /// `timeout` passes, or until the task is cancelled. Returns whether it was signalled.
    @discardableResult
    func wait(after seen: UInt64? = nil, upTo timeout: Duration) async -> Bool {
        let baseline = seen ?? (sticky ? 0 : generation)
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            group.addTask {
                await self.waitForSignal(after: baseline)
                return !Task.isCancelled
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func waitForSignal(after baseline: UInt64) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    // Cancellation is checked under the lock the handler takes too, so a
                    // cancellation racing this registration resumes exactly once.
                    if state.generation != baseline || Task.isCancelled { return true }
                    state.waiters.append((id, continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
            }?.continuation.resume()
        }
    }
}
