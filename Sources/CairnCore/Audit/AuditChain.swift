import Crypto
public import Foundation

/// The pure rules of the audit hash chain: how a link is computed and how a chain is checked.
///
/// `hash = SHA-256(prev_hash ‖ canonical(event))`, where the canonical form is JSON with sorted
/// keys over every stored field except the hashes themselves. The sequence number is inside the
/// hashed bytes, so swapping two rows breaks the chain even if both hashes are swapped along.
public enum AuditChain {
    /// The `previousHash` of a tenant's first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Builds the next link after (`sequence - 1`, `previousHash`).
    public static func link(
        _ record: AuditRecord,
        tenantID: TenantID,
        sequence: Int64,
        occurredAt: Date,
        previousHash: String
    ) -> AuditEvent {
        let milliseconds = Int64((occurredAt.timeIntervalSince1970 * 1000).rounded(.down))
        let hash = computeHash(
            tenantID: tenantID,
            sequence: sequence,
            occurredAtMilliseconds: milliseconds,
            record: record,
            previousHash: previousHash
        )
        return AuditEvent(
            tenantID: tenantID,
            sequence: sequence,
            occurredAtMilliseconds: milliseconds,
            record: record,
            previousHash: previousHash,
            hash: hash
        )
    }

    /// Hex SHA-256 of `previousHash ‖ canonical(event)`: the definition verification re-applies.
    public static func computeHash(
        tenantID: TenantID,
        sequence: Int64,
        occurredAtMilliseconds: Int64,
        record: AuditRecord,
        previousHash: String
    ) -> String {
        var bytes = Data(previousHash.utf8)
        bytes.append(canonical(tenantID: tenantID, sequence: sequence, occurredAtMilliseconds: occurredAtMilliseconds, record: record))
        return SHA256.hash(data: bytes).hexString
    }

    /// Deterministic bytes for one event: sorted keys, no whitespace, no escaped slashes.
    static func canonical(tenantID: TenantID, sequence: Int64, occurredAtMilliseconds: Int64, record: AuditRecord) -> Data {
        let body = CanonicalEvent(
            tenant: tenantID.description,
            seq: sequence,
            at: occurredAtMilliseconds,
            actor: record.actor,
            action: record.action,
            targetType: record.targetType,
            targetID: record.targetID,
            details: record.details
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings and integers cannot fail.
        return try! encoder.encode(body)
    }

    private struct CanonicalEvent: Encodable {
        let tenant: String
        let seq: Int64
        let at: Int64
        let actor: String
        let action: String
        let targetType: String
        let targetID: String
        let details: [String: String]
    }

    /// Where a chain first stops being trustworthy.
    public struct Break: Sendable, Equatable, CustomStringConvertible {
        public enum Reason: Sendable, Equatable {
            /// Stored hash differs from the recomputed one: the row was edited.
            case contentAltered
            /// `previousHash` does not match the previous row's hash: rows were reordered or replaced.
            case linkBroken
            /// A sequence number is missing: a row was deleted.
            case missing
            /// Fewer events than the tenant's recorded head: the newest rows were deleted.
            case truncated(expectedHead: Int64)
            /// More events than the recorded head: rows were appended behind Cairn's back.
            case beyondHead(recordedHead: Int64)
            /// The newest event's hash differs from the one recorded as the head: the newest
            /// event was rewritten (even with a recomputed hash).
            case headMismatch
        }

        public let sequence: Int64
        public let reason: Reason

        public init(sequence: Int64, reason: Reason) {
            self.sequence = sequence
            self.reason = reason
        }

        public var description: String {
            switch reason {
            case .contentAltered: "event #\(sequence) was altered (its stored hash no longer matches its content)"
            case .linkBroken: "event #\(sequence) does not follow event #\(sequence - 1) (rows were reordered or replaced)"
            case .missing: "event #\(sequence) is missing (it was deleted)"
            case .truncated(let head): "event #\(sequence) is missing (the chain head records \(head) events; the newest were deleted)"
            case .beyondHead(let head): "event #\(sequence) lies beyond the recorded head (\(head) events; it was added behind Cairn's back)"
            case .headMismatch: "event #\(sequence) does not match the recorded chain head (the newest event was rewritten)"
            }
        }
    }

    /// Checks a chain one event at a time, in sequence order, so a verifier can stream rows
    /// from the database instead of loading a whole trail.
    public struct Checker: Sendable {
        private var expectedSequence: Int64 = 1
        private var previousHash = AuditChain.genesisHash

        /// A checker expecting sequence 1 after the genesis hash.
        public init() {}

        /// Feeds the next stored event; returns the break it reveals, if any.
        public mutating func check(_ event: AuditEvent) -> Break? {
            if event.sequence > expectedSequence {
                return Break(sequence: expectedSequence, reason: .missing)
            }
            if event.sequence < expectedSequence {
                return Break(sequence: event.sequence, reason: .linkBroken)
            }
            let recomputed = AuditChain.computeHash(
                tenantID: event.tenantID,
                sequence: event.sequence,
                occurredAtMilliseconds: event.occurredAtMilliseconds,
                record: event.record,
                previousHash: event.previousHash
            )
            if recomputed != event.hash {
                return Break(sequence: event.sequence, reason: .contentAltered)
            }
            if event.previousHash != previousHash {
                return Break(sequence: event.sequence, reason: .linkBroken)
            }
            previousHash = event.hash
            expectedSequence += 1
            return nil
        }

        /// After the last event: compares the chain with the head the tenant row recorded in
        /// the same transaction as each append. That catches deleted newest events, events
        /// appended behind Cairn's back, and a rewritten newest event whose hash was recomputed.
        public func finish(recordedHead: Int64, recordedHeadHash: String) -> Break? {
            let last = expectedSequence - 1
            if last < recordedHead {
                return Break(sequence: expectedSequence, reason: .truncated(expectedHead: recordedHead))
            }
            if last > recordedHead {
                return Break(sequence: recordedHead + 1, reason: .beyondHead(recordedHead: recordedHead))
            }
            if previousHash != recordedHeadHash {
                return Break(sequence: last, reason: .headMismatch)
            }
            return nil
        }
    }

    /// Walks `events` (in sequence order) and returns the first break, or `nil` if intact.
    public static func firstBreak(in events: some Sequence<AuditEvent>, recordedHead: Int64, recordedHeadHash: String) -> Break? {
        var checker = Checker()
        for event in events {
            if let broken = checker.check(event) { return broken }
        }
        return checker.finish(recordedHead: recordedHead, recordedHeadHash: recordedHeadHash)
    }
}
