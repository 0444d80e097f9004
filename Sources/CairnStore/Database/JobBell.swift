import Foundation
import Synchronization

/// A set once, read-after-commit flag a transaction carries (SQLite's stand-in for NOTIFY).
final class CommitFlag: Sendable {
    private let raised = Mutex(false)

    func set() { raised.withLock { $0 = true } }
    var isSet: Bool { raised.withLock { $0 } }
}

/// In-process fan-out of "jobs are ready" to every listening worker (the embedded engine's
/// LISTEN/NOTIFY). Listeners are callbacks, so ringing never blocks and never buffers.
final class JobBell: Sendable {
    /// The PostgreSQL channel name, shared with `Transaction.announceJobs()`.
    static let channel = "cairn_jobs"

    private let listeners = Mutex<[UUID: @Sendable () -> Void]>([:])

    func ring() {
        for wake in listeners.withLock({ Array($0.values) }) { wake() }
    }

    /// Keeps `wake` registered until the calling task is cancelled.
    func listen(_ wake: @escaping @Sendable () -> Void) async {
        let id = UUID()
        listeners.withLock { $0[id] = wake }
        defer { _ = listeners.withLock { $0.removeValue(forKey: id) } }
        // Parked until cancellation; the sleep throws then, which ends the registration.
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
