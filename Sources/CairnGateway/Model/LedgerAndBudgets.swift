public import CairnCore
public import Foundation

/// How often a budget starts afresh. Windows are calendar periods in UTC.
public enum BudgetPeriod: String, Sendable, Codable, CaseIterable {
    case day
    case month
    /// Never resets: a fixed allowance.
    case total

    /// The start of the window `date` falls in, in milliseconds since 1970 (0 for `total`).
    public func windowStart(containing date: Date) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start: Date
        switch self {
        case .day: start = calendar.startOfDay(for: date)
        case .month: start = calendar.date(from: calendar.dateComponents([.year, .month], from: date)) ?? date
        case .total: return 0
        }
        return Int64((start.timeIntervalSince1970 * 1000).rounded())
    }
}

public typealias GatewayBudgetID = EntityID<GatewayBudget>

/// A spending limit in dollars per period, for a whole tenant or for one of its API keys.
public struct GatewayBudget: Sendable, Equatable {
    public let id: GatewayBudgetID
    public let tenantID: TenantID
    /// `nil`: the tenant's budget, covering every caller in it.
    public let apiKeyID: APIKeyID?
    public let period: BudgetPeriod
    public let limit: USD

    public init(id: GatewayBudgetID, tenantID: TenantID, apiKeyID: APIKeyID?, period: BudgetPeriod, limit: USD) {
        self.id = id
        self.tenantID = tenantID
        self.apiKeyID = apiKeyID
        self.period = period
        self.limit = limit
    }
}

/// What an API key may do through the gateway, beyond its roles: which models, how fast.
public struct ModelAccessLimits: Sendable, Equatable {
    /// Alias or deployment names the key may call; `nil` allows every model.
    public var allowedModels: [String]?
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?

    public init(allowedModels: [String]? = nil, requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil) {
        self.allowedModels = allowedModels
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
    }

    public static let unlimited = ModelAccessLimits()

    public func allows(model: String) -> Bool { allowedModels?.contains(model) ?? true }
}

/// How a model call ended, as the ledger records it.
public enum ModelCallStatus: String, Sendable, Codable {
    case succeeded
    /// No deployment could answer, or the answer was rejected (schema); nothing was delivered.
    case failed
    /// A stream that broke off after output had been delivered.
    case broken
    /// The caller went away before the answer was complete.
    case cancelled
}

/// One row of the usage ledger: one call through the gateway, whatever its outcome.
public struct ModelCallRecord: Sendable, Equatable {
    public enum Operation: String, Sendable, Codable {
        case chat
        case embeddings
    }

    public var id: UUID
    public var tenantID: TenantID
    public var apiKeyID: APIKeyID?
    public var subject: String
    public var operation: Operation
    /// The model name the caller asked for.
    public var alias: String
    /// The deployment that answered; `nil` when none did.
    public var deployment: String?
    public var status: ModelCallStatus
    public var inputTokens: Int
    public var outputTokens: Int
    public var cost: USD
    public var latency: Duration
    public var timeToFirstToken: Duration?
    public var attempts: Int
    public var cacheHit: Bool
    public var streamed: Bool
    public var at: Date

    public init(
        id: UUID = UUID(),
        tenantID: TenantID,
        apiKeyID: APIKeyID?,
        subject: String,
        operation: Operation,
        alias: String,
        deployment: String?,
        status: ModelCallStatus,
        inputTokens: Int,
        outputTokens: Int,
        cost: USD,
        latency: Duration,
        timeToFirstToken: Duration?,
        attempts: Int,
        cacheHit: Bool,
        streamed: Bool,
        at: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.apiKeyID = apiKeyID
        self.subject = subject
        self.operation = operation
        self.alias = alias
        self.deployment = deployment
        self.status = status
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
        self.latency = latency
        self.timeToFirstToken = timeToFirstToken
        self.attempts = attempts
        self.cacheHit = cacheHit
        self.streamed = streamed
        self.at = at
    }
}
