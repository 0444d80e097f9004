public import Testing

/// Polls `condition` every `interval` until it yields a value, and returns it; past `timeout`
/// the test records an issue naming `what` and stops.
///
/// The condition is asked once more after a sleep that crossed the deadline: on a loaded run the
/// test process itself can be starved for seconds, and its wake-up is no reason to fail a
/// condition that came true meanwhile. Timeouts are generous because they only bound a failure.
@discardableResult
public func eventually<Value>(
    _ what: String,
    timeout: Duration = .seconds(60),
    interval: Duration = .milliseconds(50),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Value?
) async throws -> Value {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await condition() { return value }
        if ContinuousClock.now >= deadline { break }
        try await Task.sleep(for: interval)
    }
    Issue.record("Timed out after \(timeout) waiting for \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// Polls until `condition` holds; past `timeout` the test records an issue naming `what`.
public func eventually(
    _ what: String,
    timeout: Duration = .seconds(60),
    interval: Duration = .milliseconds(50),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async throws {
    let _: Bool = try await eventually(what, timeout: timeout, interval: interval, sourceLocation: sourceLocation) {
        try await condition() ? true : nil
    }
}
