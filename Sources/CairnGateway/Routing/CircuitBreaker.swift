import Synchronization

/// A deployment's circuit breaker: closed (traffic flows), open (no traffic), half-open (one
/// probe request decides).
///
/// It opens after `failureThreshold` consecutive failures that say something about the
/// deployment's health (5xx, timeouts, resets; not a rejected request). While open, the
/// deployment gets no traffic at all; after `cooldown`, exactly one request is let through as
/// a probe. The probe's success closes the circuit; its failure opens it for another cooldown.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable {
        case closed
        case open
        case halfOpen = "half-open"
    }

    /// What the breaker allows for one request.
    public enum Admission: Sendable, Equatable {
        case allowed
        /// The one request that tests a deployment whose cooldown has passed.
        case probe
        case rejected
    }

    private struct Machine {
        var state: State = .closed
        var consecutiveFailures = 0
        var openedAt: ContinuousClock.Instant?
        var probeInFlight = false
    }

    public let failureThreshold: Int
    public let cooldown: Duration
    private let machine = Mutex(Machine())

    public init(failureThreshold: Int = 5, cooldown: Duration = .seconds(30)) {
        self.failureThreshold = max(1, failureThreshold)
        self.cooldown = cooldown
    }

    public var state: State { machine.withLock { $0.state } }

    public func admit(now: ContinuousClock.Instant = .now) -> Admission {
        machine.withLock { machine in
            switch machine.state {
            case .closed:
                return .allowed
            case .open:
                guard let openedAt = machine.openedAt, now - openedAt >= cooldown else { return .rejected }
                machine.state = .halfOpen
                machine.probeInFlight = true
                return .probe
            case .halfOpen:
                // One probe at a time: everyone else keeps away until it reports.
                if machine.probeInFlight { return .rejected }
                machine.probeInFlight = true
                return .probe
            }
        }
    }

    public func recordSuccess() {
        machine.withLock { machine in
            machine = Machine()
        }
    }

    /// Records a failure that counts against health; returns whether this one opened the circuit.
    @discardableResult
    public func recordFailure(now: ContinuousClock.Instant = .now) -> Bool {
        machine.withLock { machine in
            switch machine.state {
            case .closed:
                machine.consecutiveFailures += 1
                guard machine.consecutiveFailures >= failureThreshold else { return false }
            case .halfOpen, .open:
                break
            }
            machine.state = .open
            machine.openedAt = now
            machine.probeInFlight = false
            return true
        }
    }

    /// An admitted request ended without saying anything about health (the caller gave up, the
    /// request itself was rejected): a probe slot is handed back so another request can probe.
    public func recordNeutral() {
        machine.withLock { machine in
            if machine.state == .halfOpen { machine.probeInFlight = false }
        }
    }
}
