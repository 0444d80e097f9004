import CairnCore
import Foundation
import Testing

@Suite("Audit hash chain")
struct AuditChainTests {
    let tenant = TenantID()

    func chain(_ count: Int) -> [AuditEvent] {
        var events: [AuditEvent] = []
        var previous = AuditChain.genesisHash
        for sequence in 1...Int64(count) {
            let event = AuditChain.link(
                AuditRecord(actor: "alice", action: "api_key.create", targetType: "api_key", targetID: "k\(sequence)", details: ["n": "\(sequence)"]),
                tenantID: tenant,
                sequence: sequence,
                occurredAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(sequence)),
                previousHash: previous
            )
            events.append(event)
            previous = event.hash
        }
        return events
    }

    @Test("An untouched chain verifies")
    func intact() {
        #expect(AuditChain.firstBreak(in: chain(5), recordedHead: 5, recordedHeadHash: chain(5)[4].hash) == nil)
    }

    @Test("The hash is SHA-256 of the previous hash and the canonical event")
    func hashDefinition() {
        let event = chain(1)[0]
        #expect(event.previousHash == String(repeating: "0", count: 64))
        #expect(event.hash.count == 64)
        // A different previous hash must give a different hash for the same content.
        let relinked = AuditChain.computeHash(
            tenantID: tenant,
            sequence: 1,
            occurredAtMilliseconds: event.occurredAtMilliseconds,
            record: event.record,
            previousHash: event.hash
        )
        #expect(relinked != event.hash)
    }

    @Test("The canonical form and hash match an independent computation")
    func pinnedHash() throws {
        // Computed outside Swift: sha256("0"*64 + json.dumps(event, sort_keys=True,
        // separators=(",", ":"), ensure_ascii=False)) in Python. A change to the encoder's
        // ordering or escaping would silently re-hash every stored chain; this catches it.
        let tenant = try #require(TenantID("00000000-0000-0000-0000-000000000001"))
        let event = AuditChain.link(
            AuditRecord(
                actor: "alice",
                action: "tenant.create",
                targetType: "tenant",
                targetID: "t1",
                details: ["name": "northbank", "by": "ops/team"]
            ),
            tenantID: tenant,
            sequence: 1,
            occurredAt: Date(timeIntervalSince1970: 1_700_000_000.123),
            previousHash: AuditChain.genesisHash
        )
        #expect(event.occurredAtMilliseconds == 1_700_000_000_123)
        #expect(event.hash == "98ddc4e9f275f31132cb6cf14803366fb6dfb3cc299e78af1d1aa68213bcc853")
    }

    @Test("An edited event is named")
    func edited() {
        var events = chain(4)
        let original = events[2]
        events[2] = AuditEvent(
            tenantID: tenant,
            sequence: 3,
            occurredAtMilliseconds: original.occurredAtMilliseconds,
            record: AuditRecord(actor: "mallory", action: original.record.action, targetType: "api_key", targetID: "k3", details: ["n": "3"]),
            previousHash: original.previousHash,
            hash: original.hash
        )
        #expect(AuditChain.firstBreak(in: events, recordedHead: 4, recordedHeadHash: chain(4)[3].hash) == .init(sequence: 3, reason: .contentAltered))
    }

    @Test("A deleted event is named")
    func deleted() {
        var events = chain(4)
        events.remove(at: 1)
        #expect(AuditChain.firstBreak(in: events, recordedHead: 4, recordedHeadHash: chain(4)[3].hash) == .init(sequence: 2, reason: .missing))
    }

    @Test("Deleting the newest events is caught by the recorded head")
    func truncated() {
        let events = Array(chain(4).prefix(3))
        #expect(
            AuditChain.firstBreak(in: events, recordedHead: 4, recordedHeadHash: chain(4)[3].hash)
                == .init(sequence: 4, reason: .truncated(expectedHead: 4))
        )
    }

    @Test("Rewriting the newest event and recomputing its hash is caught by the recorded head hash")
    func rewrittenHead() {
        var events = chain(3)
        let original = events[2]
        let forged = AuditChain.link(
            AuditRecord(actor: "mallory", action: original.record.action, targetType: "api_key", targetID: "k3", details: [:]),
            tenantID: tenant,
            sequence: 3,
            occurredAt: original.occurredAt,
            previousHash: original.previousHash
        )
        events[2] = forged
        #expect(AuditChain.firstBreak(in: events, recordedHead: 3, recordedHeadHash: original.hash) == .init(sequence: 3, reason: .headMismatch))
    }

    @Test("An event appended behind Cairn's back, past the recorded head, is named")
    func beyondHead() {
        let events = chain(4)
        #expect(
            AuditChain.firstBreak(in: events, recordedHead: 3, recordedHeadHash: events[2].hash)
                == .init(sequence: 4, reason: .beyondHead(recordedHead: 3))
        )
    }

    @Test("Two events swapped in place (sequence numbers exchanged) break the chain at the first of them")
    func swapped() {
        let events = chain(4)
        func renumbered(_ event: AuditEvent, _ sequence: Int64) -> AuditEvent {
            AuditEvent(
                tenantID: tenant,
                sequence: sequence,
                occurredAtMilliseconds: event.occurredAtMilliseconds,
                record: event.record,
                previousHash: event.previousHash,
                hash: event.hash
            )
        }
        let swapped = [events[0], renumbered(events[2], 2), renumbered(events[1], 3), events[3]]
        #expect(AuditChain.firstBreak(in: swapped, recordedHead: 4, recordedHeadHash: chain(4)[3].hash)?.sequence == 2)
    }
}
