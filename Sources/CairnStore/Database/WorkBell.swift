import Foundation
import Synchronization

/// A set once, read-after-commit flag a transaction carries (SQLite's stand-in for NOTIFY).
package final class CommitFlag: Sendable {
    private let raised = Mutex(false)

    package func set() { raised.withLock { $0 = true } }
    package var isSet: Bool { raised.withLock { $0 } }
}

/// In-process fan-out of "work is ready" to every listening worker (the embedded engine's
/// LISTEN/NOTIFY). Listeners are callbacks, so ringing never blocks and never buffers.
package final class WorkBell: Sendable {
    /// The PostgreSQL channel name, shared with `Transaction.announceWork()`. Its text predates
    /// the name: nodes of different releases must hear each other during a rolling upgrade.
    package static let channel = "cairn_jobs"

    private let listeners = Mutex<[UUID: @Sendable () -> Void]>([:])

    package func ring() {
        for wake in listeners.withLock({ Array($0.values) }) { wake() }
    }

    /// Keeps `wake` registered until the calling task is cancelled.
    package func listen(_ wake: @escaping @Sendable () -> Void) async {
        let id = UUID()
        listeners.withLock { $0[id] = wake }
        defer { _ = listeners.withLock { $0.removeValue(forKey: id) } }
        // Parked until cancellation; the sleep throws then, which ends the registration.
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
    }
}
