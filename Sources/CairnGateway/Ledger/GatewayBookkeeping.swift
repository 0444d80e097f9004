import CairnCore
import CairnStore
public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// Writes the gateway's books: ledger rows and budget settlements, batched a few times a
/// second, and once more at shutdown.
///
/// Batching keeps database writes off the call's path (the gateway's added latency is
/// measured in fractions of a millisecond). What a crash can lose is the last batch of ledger
/// rows; it cannot make budgets overspend, because unreported spend stays inside allotments
/// the database already counts against the limit (ADR 0022).
public final class GatewayBookkeeping: Service, Sendable {
    public let budgets: BudgetGuard
    let books: GatewayBooks
    private let pending = Mutex<[ModelCallRecord]>([])
    private let interval: Duration
    private let logger: Logger

    public init(books: GatewayBooks, interval: Duration = .milliseconds(250), logger: Logger) {
        self.books = books
        budgets = BudgetGuard(books: books)
        self.interval = interval
        self.logger = logger
    }

    /// Queues a call for the ledger and counts it in the metrics.
    public func record(_ call: ModelCallRecord) {
        pending.withLock { $0.append(call) }
        let dimensions = [("alias", call.alias), ("deployment", call.deployment ?? "none"), ("status", call.status.rawValue)]
        Counter(label: "cairn_gateway_calls_total", dimensions: dimensions).increment()
        Counter(label: "cairn_gateway_tokens_total", dimensions: [("direction", "input")]).increment(by: call.inputTokens)
        Counter(label: "cairn_gateway_tokens_total", dimensions: [("direction", "output")]).increment(by: call.outputTokens)
        Counter(label: "cairn_gateway_cost_nanodollars_total", dimensions: [("alias", call.alias)]).increment(by: Int(call.cost.nanodollars))
        Timer(label: "cairn_gateway_call_duration_seconds", dimensions: [("alias", call.alias)]).recordNanoseconds(call.latency.wholeNanoseconds)
        if let firstToken = call.timeToFirstToken {
            Timer(label: "cairn_gateway_time_to_first_token_seconds", dimensions: [("alias", call.alias)]).recordNanoseconds(
                firstToken.wholeNanoseconds
            )
        }
    }

    /// Writes what is pending now.
    public func flush() async throws {
        let calls = pending.withLock { calls in
            defer { calls.removeAll(keepingCapacity: true) }
            return calls
        }
        do {
            try await books.record(calls)
        } catch {
            pending.withLock { $0.insert(contentsOf: calls, at: 0) }
            throw error
        }
        try await budgets.flush()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.flushLogging()
            }
        }
        await flushLogging()
    }

    private func flushLogging() async {
        do {
            try await flush()
        } catch {
            logger.error("The gateway's books could not be written; retrying", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}
