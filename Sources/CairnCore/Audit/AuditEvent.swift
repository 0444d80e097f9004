public import Foundation

/// What happened, before it is placed on a tenant's chain.
public struct AuditRecord: Sendable, Equatable {
    /// Subject of the caller, or `operator` / `cli` for platform actions.
    public let actor: String
    /// Dotted verb, e.g. `api_key.create`.
    public let action: String
    public let targetType: String
    public let targetID: String
    /// Small, flat, non-secret facts about the change.
    public let details: [String: String]

    public init(actor: String, action: String, targetType: String, targetID: String, details: [String: String] = [:]) {
        self.actor = actor
        self.action = action
        self.targetType = targetType
        self.targetID = targetID
        self.details = details
    }
}

/// One link of a tenant's append-only audit chain.
public struct AuditEvent: Sendable, Equatable {
    public let tenantID: TenantID
    /// 1, 2, 3, … per tenant, with no gaps.
    public let sequence: Int64
    /// Milliseconds since the Unix epoch; whole milliseconds so the value survives any engine.
    public let occurredAtMilliseconds: Int64
    public let record: AuditRecord
    /// Hex SHA-256 of the previous event (64 zeros for the first).
    public let previousHash: String
    /// Hex SHA-256 of `previousHash ‖ canonical(event)`.
    public let hash: String

    public init(
        tenantID: TenantID,
        sequence: Int64,
        occurredAtMilliseconds: Int64,
        record: AuditRecord,
        previousHash: String,
        hash: String
    ) {
        self.tenantID = tenantID
        self.sequence = sequence
        self.occurredAtMilliseconds = occurredAtMilliseconds
        self.record = record
        self.previousHash = previousHash
        self.hash = hash
    }

    /// `occurredAtMilliseconds` as a date.
    public var occurredAt: Date { Date(timeIntervalSince1970: Double(occurredAtMilliseconds) / 1000) }
}
