public import CairnCore
public import Foundation
import SQLKit

/// Responses kept for `Idempotency-Key` replays, per tenant (or per platform, for the operator).
///
/// A request first *reserves* its key. The one reservation that wins runs; it stores its
/// response when done. A reservation is held for `lockFor`, after which a crashed holder's key
/// can be taken over, so a key is never stuck.
public struct IdempotencyRecords: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// Whose keys these are: a tenant's, or the platform operator's.
    public enum Scope: Sendable, Equatable {
        case tenant(TenantID)
        case platform

        var key: String {
            switch self {
            case .tenant(let id): id.description
            case .platform: "platform"
            }
        }

        var transaction: TransactionScope {
            switch self {
            case .tenant(let id): .tenant(id)
            case .platform: .platform
            }
        }
    }

    /// A response as kept for replay.
    public struct StoredResponse: Sendable, Equatable {
        public let status: Int
        public let contentType: String?
        public let body: Data

        public init(status: Int, contentType: String?, body: Data) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// What a reservation found.
    public enum Reservation: Sendable, Equatable {
        /// The key is this request's: run it, then `store` or `release`.
        case reserved
        /// The key was used for the same request, which completed: answer with this.
        case completed(StoredResponse)
        /// The key was used for a different request (method, path or body).
        case mismatch
        /// The same request is still running elsewhere.
        case inProgress
    }

    /// Reserves `key` for a request whose method, path and body hash to `fingerprint`.
    public func reserve(
        _ key: String,
        scope: Scope,
        fingerprint: String,
        lockFor lock: Duration,
        keepFor retention: Duration,
        now: Date = Date()
    ) async throws -> Reservation {
        let at = EpochMilliseconds.milliseconds(now)
        let lockedUntil = EpochMilliseconds.milliseconds(now, plus: lock)
        let expires = EpochMilliseconds.milliseconds(now, plus: retention)
        let tenant: String? = if case .tenant(let id) = scope { id.description } else { nil }
        return try await database.transaction(scope.transaction) { transaction in
            // Concurrent inserts of one key wait on the first; exactly one sees its row inserted.
            let inserted = try await transaction.sql.raw(
                """
                INSERT INTO idempotency_records (scope, idempotency_key, tenant_id, fingerprint, locked_until, created_at, expires_at)
                VALUES (\(bind: scope.key), \(bind: key), \(bind: tenant), \(bind: fingerprint), \(bind: lockedUntil), \(bind: at), \(bind: expires))
                ON CONFLICT (scope, idempotency_key) DO NOTHING RETURNING scope
                """
            ).all()
            if !inserted.isEmpty { return .reserved }

            guard
                let row = try await transaction.sql.raw(
                    "SELECT * FROM idempotency_records WHERE scope = \(bind: scope.key) AND idempotency_key = \(bind: key)\(transaction.rowLockClause)"
                ).first()
            else { throw CairnError(.internalFailure, "An idempotency record vanished while it was read.") }
            let expired = try row.int64("expires_at") <= at
            let abandoned = try row.optionalInt64("status") == nil && row.int64("locked_until") <= at
            if expired || abandoned {
                // An expired key is free again; an abandoned reservation's holder crashed.
                try await transaction.sql.raw(
                    """
                    UPDATE idempotency_records SET fingerprint = \(bind: fingerprint), status = NULL, content_type = NULL, body = NULL,
                           locked_until = \(bind: lockedUntil), created_at = \(bind: at), expires_at = \(bind: expires)
                    WHERE scope = \(bind: scope.key) AND idempotency_key = \(bind: key)
                    """
                ).run()
                return .reserved
            }
            guard try row.string("fingerprint") == fingerprint else { return .mismatch }
            guard let status = try row.optionalInt64("status") else { return .inProgress }
            let body = try row.decode(column: "body", as: String?.self).flatMap { Data(base64Encoded: $0) } ?? Data()
            return .completed(StoredResponse(status: Int(status), contentType: try row.decode(column: "content_type", as: String?.self), body: body))
        }
    }

    /// Stores the response of a reserved request, for replays until the key expires.
    public func store(_ response: StoredResponse, for key: String, scope: Scope) async throws {
        try await database.transaction(scope.transaction) { transaction in
            try await transaction.sql.raw(
                """
                UPDATE idempotency_records SET status = \(bind: response.status), content_type = \(bind: response.contentType),
                       body = \(bind: response.body.base64EncodedString())
                WHERE scope = \(bind: scope.key) AND idempotency_key = \(bind: key)
                """
            ).run()
        }
    }

    /// Gives a reserved key back unused (the request failed in a way worth retrying).
    public func release(_ key: String, scope: Scope) async throws {
        try await database.transaction(scope.transaction) { transaction in
            try await transaction.sql.raw(
                "DELETE FROM idempotency_records WHERE scope = \(bind: scope.key) AND idempotency_key = \(bind: key) AND status IS NULL"
            ).run()
        }
    }

    /// Deletes keys that expired before `now`, up to `limit`; returns how many went. Platform
    /// work for the retention task, which calls it until it returns less than `limit`.
    public func purgeExpired(now: Date = Date(), limit: Int = 1_000) async throws -> Int {
        let at = EpochMilliseconds.milliseconds(now)
        return try await database.transaction(.platform) { transaction in
            try await transaction.sql.raw(
                """
                DELETE FROM idempotency_records WHERE (scope, idempotency_key) IN (
                    SELECT scope, idempotency_key FROM idempotency_records WHERE expires_at < \(bind: at) LIMIT \(bind: limit)
                ) RETURNING scope
                """
            ).all().count
        }
    }
}
