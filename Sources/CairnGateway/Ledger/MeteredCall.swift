import CairnCore
import Foundation

/// One model call's bookkeeping, from admission to its ledger row: the budget reservation and
/// rate-limit tokens it took, and what it is charged when it ends.
struct MeteredCall: Sendable {
    let principal: Principal
    let apiKeyID: APIKeyID?
    let alias: String
    let operation: ModelCallRecord.Operation
    let streamed: Bool
    /// An upper bound on the prompt's tokens (``ChatRequest/promptTokenBound``), charged when a
    /// call breaks off before the provider reports usage.
    let inputBound: Int
    let reservation: BudgetGuard.Reservation
    let rate: KeyRateLimiter.Admission
    let bookkeeping: GatewayBookkeeping
    let rateLimiter: KeyRateLimiter
    let started = ContinuousClock.now
    let at = Date()

    /// Commits the cost of what `deployment` delivered, frees the rest of the reservation, and
    /// queues the ledger row. Without `usage` (a stream cut short) the prompt's bound and the
    /// output's byte count stand in: both bound the tokens from above, so a broken call is never
    /// under-charged. Returns the cost charged.
    @discardableResult
    func finish(
        _ status: ModelCallStatus,
        deployment: ModelDeployment?,
        usage: TokenUsage?,
        outputBytes: Int = 0,
        attempts: Int,
        timeToFirstToken: Duration? = nil,
        cacheHit: Bool = false
    ) -> USD {
        let delivered = deployment != nil && (usage != nil || outputBytes > 0)
        let input = delivered ? usage?.promptTokens ?? inputBound : 0
        let output = delivered ? usage?.completionTokens ?? outputBytes : 0
        let cost = cacheHit ? USD.zero : deployment?.price.cost(input: input, output: output) ?? .zero
        bookkeeping.budgets.commit(reservation, actual: cost)
        rateLimiter.settle(rate, actualTokens: input + output)
        bookkeeping.record(
            ModelCallRecord(
                tenantID: principal.tenantID,
                apiKeyID: apiKeyID,
                subject: principal.subject,
                operation: operation,
                alias: alias,
                deployment: deployment?.name,
                status: status,
                inputTokens: input,
                outputTokens: output,
                cost: cost,
                latency: .now - started,
                timeToFirstToken: timeToFirstToken,
                attempts: attempts,
                cacheHit: cacheHit,
                streamed: streamed,
                at: at
            )
        )
        return cost
    }
}
