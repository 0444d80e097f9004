import Synchronization

/// Spaces out the `NOTIFY`s of single-job enqueues on PostgreSQL to one per `window`.
///
/// A `NOTIFY` serialises its transaction's commit with every other notifying commit in the
/// database and wakes every listening node; one per enqueue was most of what four producers and
/// four workers cost (`cairn bench queue`: 2,700 jobs/s with it, 4,400 without). A worker woken
/// once claims everything ready, so one notification per window carries as much news.
///
/// An enqueue that `claim()` turns down goes without, and calls `missed()` after it commits; the
/// throttle then sends one `NOTIFY` at the window's end. That one is sent after the job is
/// visible, so no job is left waiting for a worker's poll interval.
public final class AnnouncementThrottle: Sendable {
    private struct State {
        /// When the last notification went, as `elapsed` counts.
        var lastSent: Duration?
        /// Work committed without a notification sent after its commit.
        var pending = false
    }

    private let window: Duration
    private let state = Mutex(State())
    private let missedWork = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// Time since the throttle was made, on its clock, and a sleep until such a time; a test
    /// moves a manual clock past the window instead of waiting it out.
    private let elapsed: @Sendable () -> Duration
    private let sleepUntil: @Sendable (Duration) async throws -> Void

    package init<C: Clock>(window: Duration, clock: C = ContinuousClock()) where C.Duration == Duration {
        self.window = window
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleepUntil = { try await clock.sleep(until: origin.advanced(by: $0), tolerance: nil) }
    }

    /// Whether the enqueue about to run should notify itself; if so it counts as sent now.
    /// Its notification is delivered at its commit, after every job already marked pending
    /// committed, so it carries their news too.
    package func claim() -> Bool {
        let now = elapsed()
        return state.withLock { state in
            if let last = state.lastSent, now - last < window { return false }
            state.lastSent = now
            state.pending = false
            return true
        }
    }

    /// Records that committed work went without a notification.
    package func missed() {
        state.withLock { $0.pending = true }
        missedWork.continuation.yield()
    }

    /// Sends the deferred notifications with `notify` until cancelled.
    package func run(notify: @Sendable () async throws -> Void) async {
        for await _ in missedWork.stream {
            let now = elapsed()
            let due = state.withLock { ($0.lastSent ?? now) + window }
            try? await sleepUntil(due)
            guard !Task.isCancelled else { return }
            let send = state.withLock { state in
                guard state.pending else { return false }
                state.pending = false
                state.lastSent = elapsed()
                return true
            }
            // A failed NOTIFY leaves the jobs to the workers' poll, as a lost one would.
            if send { try? await notify() }
        }
    }
}
