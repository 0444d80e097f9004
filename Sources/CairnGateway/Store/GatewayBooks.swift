public import CairnCore
public import CairnStore
public import Foundation
import SQLKit

/// The gateway's books: the usage ledger, budgets and their windows, and per-key model limits.
///
/// Budgets are enforced through allotments (ADR 0022): a node asks for a slice of a budget's
/// window with ``grant(_:window:wanted:needed:)``, spends it locally, and reports what it spent
/// (and hands back what it no longer needs) with ``settle(_:)``. Every grant keeps
/// `spent + allotted ≤ limit`, so nodes together can never spend past a budget.
public struct GatewayBooks: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    // MARK: - Ledger

    /// Appends calls to the ledger, in one transaction (they may belong to several tenants).
    public func record(_ calls: [ModelCallRecord]) async throws {
        guard !calls.isEmpty else { return }
        try await database.transaction(.platform) { transaction in
            for call in calls {
                try await transaction.sql.raw(
                    """
                    INSERT INTO model_calls (id, tenant_id, api_key_id, subject, operation, alias, deployment, status, input_tokens,
                                             output_tokens, cost_nanos, latency_ms, first_token_ms, attempts, cache_hit, streamed, created_at)
                    VALUES (\(bind: call.id.uuidString.lowercased()), \(bind: call.tenantID.description), \(bind: call.apiKeyID?.description),
                            \(bind: call.subject), \(bind: call.operation.rawValue), \(bind: call.alias), \(bind: call.deployment),
                            \(bind: call.status.rawValue), \(bind: Int64(call.inputTokens)), \(bind: Int64(call.outputTokens)),
                            \(bind: call.cost.nanodollars), \(bind: call.latency.wholeMilliseconds),
                            \(bind: call.timeToFirstToken.map(\.wholeMilliseconds)), \(bind: Int64(call.attempts)),
                            \(bind: Int64(call.cacheHit ? 1 : 0)), \(bind: Int64(call.streamed ? 1 : 0)),
                            \(bind: EpochMilliseconds.milliseconds(call.at)))
                    """
                ).run()
            }
        }
    }

    /// How `usage` groups the ledger.
    public enum UsageGrouping: String, Sendable, CaseIterable {
        case tenant, key, model, day
    }

    /// One group of the ledger.
    public struct UsageRow: Sendable, Equatable {
        public let group: String
        public let calls: Int
        public let failedCalls: Int
        public let inputTokens: Int
        public let outputTokens: Int
        public let cost: USD
    }

    /// The ledger of `tenant` between `from` and `to`, grouped. Keys show as their ids (calls
    /// without a key, from OIDC tokens or in process, as `-`), models as the names callers
    /// asked for, days as `YYYY-MM-DD` in UTC.
    public func usage(of tenant: TenantID, groupedBy grouping: UsageGrouping, from: Date, to: Date) async throws -> [UsageRow] {
        let rows = try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                """
                SELECT tenant_id, api_key_id, alias, created_at, status, input_tokens, output_tokens, cost_nanos FROM model_calls
                WHERE tenant_id = \(bind: tenant.description)
                  AND created_at >= \(bind: EpochMilliseconds.milliseconds(from)) AND created_at < \(bind: EpochMilliseconds.milliseconds(to))
                """
            ).all()
        }
        // Grouped here rather than in SQL: day buckets need a date function, which the two
        // engines spell differently, and a tenant's rows for a report window are few enough.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        var groups: [String: (calls: Int, failed: Int, input: Int, output: Int, cost: Int64)] = [:]
        for row in rows {
            let group: String =
                switch grouping {
                case .tenant: try row.string("tenant_id")
                case .key: try row.decode(column: "api_key_id", as: String?.self) ?? "-"
                case .model: try row.string("alias")
                case .day: formatter.string(from: try row.date("created_at"))
                }
            var totals = groups[group] ?? (0, 0, 0, 0, 0)
            totals.calls += 1
            if try row.string("status") != ModelCallStatus.succeeded.rawValue { totals.failed += 1 }
            totals.input += Int(try row.int64("input_tokens"))
            totals.output += Int(try row.int64("output_tokens"))
            totals.cost += try row.int64("cost_nanos")
            groups[group] = totals
        }
        return groups.sorted { $0.key < $1.key }.map { group, totals in
            UsageRow(
                group: group,
                calls: totals.calls,
                failedCalls: totals.failed,
                inputTokens: totals.input,
                outputTokens: totals.output,
                cost: USD(nanodollars: totals.cost)
            )
        }
    }

    /// The ledger's total cost for `tenant` since `from`.
    public func totalCost(of tenant: TenantID, since from: Date = .distantPast) async throws -> USD {
        let nanos = try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                """
                SELECT CAST(COALESCE(SUM(cost_nanos), 0) AS BIGINT) AS total FROM model_calls
                WHERE tenant_id = \(bind: tenant.description) AND created_at >= \(bind: EpochMilliseconds.milliseconds(max(from, Date(timeIntervalSince1970: 0))))
                """
            ).first()?.decode(column: "total", as: Int64.self) ?? 0
        }
        return USD(nanodollars: nanos)
    }

    // MARK: - Budgets

    /// Sets the budget of `tenant` (or of its key `apiKeyID`) for `period`, replacing one set before.
    @discardableResult
    public func setBudget(tenant: TenantID, apiKeyID: APIKeyID?, period: BudgetPeriod, limit: USD, actor: String) async throws -> GatewayBudget {
        guard limit >= .zero else { throw CairnError(.invalidInput, "A budget's limit cannot be negative.") }
        let scopeKey = apiKeyID?.description ?? "tenant"
        return try await database.transaction(.tenant(tenant)) { transaction in
            if let apiKeyID {
                let exists = try await transaction.sql.raw(
                    "SELECT id FROM api_keys WHERE id = \(bind: apiKeyID.description) AND tenant_id = \(bind: tenant.description)"
                ).first()
                guard exists != nil else { throw CairnError(.notFound, "There is no API key \(apiKeyID) in this tenant.") }
            }
            let existing: GatewayBudgetID? = try await transaction.sql.raw(
                """
                SELECT id FROM gateway_budgets
                WHERE tenant_id = \(bind: tenant.description) AND scope_key = \(bind: scopeKey) AND period = \(bind: period.rawValue)
                """
            ).first().map { try $0.entityID("id") }
            let id = existing ?? GatewayBudgetID()
            if existing != nil {
                try await transaction.sql.raw(
                    "UPDATE gateway_budgets SET limit_nanos = \(bind: limit.nanodollars) WHERE id = \(bind: id.description)"
                ).run()
            } else {
                try await transaction.sql.raw(
                    """
                    INSERT INTO gateway_budgets (id, tenant_id, api_key_id, scope_key, period, limit_nanos, created_at, created_by)
                    VALUES (\(bind: id.description), \(bind: tenant.description), \(bind: apiKeyID?.description), \(bind: scopeKey),
                            \(bind: period.rawValue), \(bind: limit.nanodollars), \(bind: EpochMilliseconds.nowMilliseconds()), \(bind: actor))
                    """
                ).run()
            }
            try await AuditLog.append(
                AuditRecord(
                    actor: actor,
                    action: "gateway.budget.set",
                    targetType: "budget",
                    targetID: id.description,
                    details: ["scope": apiKeyID.map { "key \($0)" } ?? "tenant", "period": period.rawValue, "limit": limit.description]
                ),
                tenantID: tenant,
                in: transaction
            )
            return GatewayBudget(id: id, tenantID: tenant, apiKeyID: apiKeyID, period: period, limit: limit)
        }
    }

    /// Removes a budget; its windows go with it.
    public func deleteBudget(_ id: GatewayBudgetID, tenant: TenantID, actor: String) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            let row = try await transaction.sql.raw(
                "SELECT id FROM gateway_budgets WHERE id = \(bind: id.description) AND tenant_id = \(bind: tenant.description)"
            ).first()
            guard row != nil else { throw CairnError(.notFound, "There is no budget \(id) in this tenant.") }
            try await transaction.sql.raw("DELETE FROM budget_windows WHERE budget_id = \(bind: id.description)").run()
            try await transaction.sql.raw("DELETE FROM gateway_budgets WHERE id = \(bind: id.description)").run()
            try await AuditLog.append(
                AuditRecord(actor: actor, action: "gateway.budget.delete", targetType: "budget", targetID: id.description, details: [:]),
                tenantID: tenant,
                in: transaction
            )
        }
    }

    /// The budgets that apply to a call by `apiKeyID` (or by no key) in `tenant`: the tenant's
    /// own, and the key's.
    public func budgets(of tenant: TenantID, apiKeyID: APIKeyID? = nil, includingAllKeys: Bool = false) async throws -> [GatewayBudget] {
        let rows = try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                "SELECT id, api_key_id, period, limit_nanos FROM gateway_budgets WHERE tenant_id = \(bind: tenant.description) ORDER BY created_at, id"
            ).all()
        }
        return try rows.compactMap { row in
            let key = try row.decode(column: "api_key_id", as: String?.self).flatMap(APIKeyID.init)
            guard includingAllKeys || key == nil || key == apiKeyID else { return nil }
            guard let id = GatewayBudgetID(try row.string("id")), let period = BudgetPeriod(rawValue: try row.string("period")) else {
                throw CairnError(.integrityViolation, "A stored budget has an unreadable id or period.")
            }
            return GatewayBudget(id: id, tenantID: tenant, apiKeyID: key, period: period, limit: USD(nanodollars: try row.int64("limit_nanos")))
        }
    }

    /// A budget window as stored: committed spend and outstanding allotments.
    public struct WindowState: Sendable, Equatable {
        public let spent: USD
        public let allotted: USD
    }

    /// Grants up to `wanted` (and at least `needed`) of `budget`'s window to the asking node.
    /// Returns what was granted: `wanted` or what is left if less, and zero when not even
    /// `needed` is left — then nothing is granted at all.
    public func grant(_ budget: GatewayBudget, window: Int64, wanted: USD, needed: USD) async throws -> USD {
        try await database.transaction(.tenant(budget.tenantID)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO budget_windows (budget_id, tenant_id, window_start, spent_nanos, allotted_nanos)
                VALUES (\(bind: budget.id.description), \(bind: budget.tenantID.description), \(bind: window), 0, 0)
                ON CONFLICT (budget_id, window_start) DO NOTHING
                """
            ).run()
            guard
                let row = try await transaction.sql.raw(
                    """
                    SELECT w.spent_nanos, w.allotted_nanos, b.limit_nanos FROM budget_windows w JOIN gateway_budgets b ON b.id = w.budget_id
                    WHERE w.budget_id = \(bind: budget.id.description) AND w.window_start = \(bind: window)\(transaction.rowLockClause)
                    """
                ).first()
            else {
                throw CairnError(.notFound, "The budget was removed.")
            }
            let left = try row.int64("limit_nanos") - row.int64("spent_nanos") - row.int64("allotted_nanos")
            guard left >= needed.nanodollars else { return .zero }
            let granted = min(max(wanted.nanodollars, needed.nanodollars), left)
            try await transaction.sql.raw(
                """
                UPDATE budget_windows SET allotted_nanos = allotted_nanos + \(bind: granted)
                WHERE budget_id = \(bind: budget.id.description) AND window_start = \(bind: window)
                """
            ).run()
            return USD(nanodollars: granted)
        }
    }

    /// What a node reports for one budget window: spend to commit and allotment to hand back.
    public struct Settlement: Sendable, Equatable {
        public let budget: GatewayBudget
        public let window: Int64
        /// Spent out of the node's allotment since its last report: moves from allotted to spent.
        public let spent: USD
        /// Allotment the node no longer holds.
        public let returned: USD

        public init(budget: GatewayBudget, window: Int64, spent: USD, returned: USD) {
            self.budget = budget
            self.window = window
            self.spent = spent
            self.returned = returned
        }
    }

    /// Applies settlements, each in its tenant's transaction.
    public func settle(_ settlements: [Settlement]) async throws {
        for settlement in settlements where settlement.spent > .zero || settlement.returned > .zero {
            try await database.transaction(.tenant(settlement.budget.tenantID)) { transaction in
                try await transaction.sql.raw(
                    """
                    UPDATE budget_windows
                    SET spent_nanos = spent_nanos + \(bind: settlement.spent.nanodollars),
                        allotted_nanos = allotted_nanos - \(bind: settlement.spent.nanodollars + settlement.returned.nanodollars)
                    WHERE budget_id = \(bind: settlement.budget.id.description) AND window_start = \(bind: settlement.window)
                    """
                ).run()
            }
        }
    }

    /// The stored state of a budget window; zero for one never drawn on.
    public func window(_ budget: GatewayBudget, start: Int64) async throws -> WindowState {
        try await database.transaction(.tenant(budget.tenantID)) { transaction in
            let row = try await transaction.sql.raw(
                """
                SELECT spent_nanos, allotted_nanos FROM budget_windows
                WHERE budget_id = \(bind: budget.id.description) AND window_start = \(bind: start)
                """
            ).first()
            return WindowState(
                spent: USD(nanodollars: try row?.int64("spent_nanos") ?? 0),
                allotted: USD(nanodollars: try row?.int64("allotted_nanos") ?? 0)
            )
        }
    }

    // MARK: - Key limits

    /// The model limits of `apiKeyID`; unlimited when none are set.
    public func limits(of apiKeyID: APIKeyID, tenant: TenantID) async throws -> ModelAccessLimits {
        try await database.transaction(.tenant(tenant)) { transaction in
            guard
                let row = try await transaction.sql.raw(
                    """
                    SELECT allowed_models, requests_per_minute, tokens_per_minute FROM api_key_limits
                    WHERE api_key_id = \(bind: apiKeyID.description) AND tenant_id = \(bind: tenant.description)
                    """
                ).first()
            else { return .unlimited }
            return ModelAccessLimits(
                allowedModels: try row.decode(column: "allowed_models", as: String?.self).map(JSONText.decodeList),
                requestsPerMinute: try row.optionalInt64("requests_per_minute").map(Int.init),
                tokensPerMinute: try row.optionalInt64("tokens_per_minute").map(Int.init)
            )
        }
    }

    /// Sets the model limits of a key in `tenant`.
    public func setLimits(_ limits: ModelAccessLimits, of apiKeyID: APIKeyID, tenant: TenantID, actor: String) async throws {
        if let rpm = limits.requestsPerMinute, !(1...1_000_000).contains(rpm) {
            throw CairnError(.invalidInput, "requestsPerMinute must be between 1 and 1,000,000.")
        }
        if let tpm = limits.tokensPerMinute, !(1...1_000_000_000).contains(tpm) {
            throw CairnError(.invalidInput, "tokensPerMinute must be between 1 and 1,000,000,000.")
        }
        try await database.transaction(.tenant(tenant)) { transaction in
            let exists = try await transaction.sql.raw(
                "SELECT id FROM api_keys WHERE id = \(bind: apiKeyID.description) AND tenant_id = \(bind: tenant.description)"
            ).first()
            guard exists != nil else { throw CairnError(.notFound, "There is no API key \(apiKeyID) in this tenant.") }
            try await transaction.sql.raw("DELETE FROM api_key_limits WHERE api_key_id = \(bind: apiKeyID.description)").run()
            try await transaction.sql.raw(
                """
                INSERT INTO api_key_limits (api_key_id, tenant_id, allowed_models, requests_per_minute, tokens_per_minute)
                VALUES (\(bind: apiKeyID.description), \(bind: tenant.description), \(bind: limits.allowedModels.map(JSONText.encode)),
                        \(bind: limits.requestsPerMinute.map(Int64.init)), \(bind: limits.tokensPerMinute.map(Int64.init)))
                """
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: actor,
                    action: "gateway.key_limits.set",
                    targetType: "api_key",
                    targetID: apiKeyID.description,
                    details: [
                        "models": limits.allowedModels?.joined(separator: ",") ?? "*",
                        "rpm": limits.requestsPerMinute.map(String.init) ?? "-",
                        "tpm": limits.tokensPerMinute.map(String.init) ?? "-",
                    ]
                ),
                tenantID: tenant,
                in: transaction
            )
        }
    }
}
