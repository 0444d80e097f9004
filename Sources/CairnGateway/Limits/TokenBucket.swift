import CairnCore

/// A token bucket: holds up to `capacity` tokens, refilled at `capacity` per `period`.
///
/// The level may go negative when actual use exceeds what was taken up front (a reply longer
/// than estimated); later takers then wait until it refills, so the limit holds on average.
struct TokenBucket: Sendable {
    let capacity: Double
    let perSecond: Double
    private var level: Double
    private var updated: ContinuousClock.Instant

    init(capacity: Int, period: Duration, now: ContinuousClock.Instant) {
        self.capacity = Double(capacity)
        perSecond = Double(capacity) / period.inSeconds
        level = Double(capacity)
        updated = now
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        level = min(capacity, level + (now - updated).inSeconds * perSecond)
        updated = now
    }

    /// Takes `amount` if the bucket holds it; otherwise takes nothing and returns how long
    /// until it would.
    mutating func take(_ amount: Double, now: ContinuousClock.Instant) -> Duration? {
        refill(now)
        if level >= amount {
            level -= amount
            return nil
        }
        return .milliseconds(Int64(((amount - level) / perSecond * 1000).rounded(.up)))
    }

    /// Puts back (or, when negative, takes more of) what an estimate got wrong.
    mutating func adjust(by amount: Double, now: ContinuousClock.Instant) {
        refill(now)
        level = min(capacity, level + amount)
    }
}
