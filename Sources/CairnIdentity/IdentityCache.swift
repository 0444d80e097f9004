import CairnCore
import Foundation
import Synchronization

/// Resolved identities, keyed by a hash of the presented token, so that checking a known
/// credential costs a hash and a dictionary look-up, not a query or a signature check.
///
/// Entries live for at most `lifetime` (and never past the credential's own expiry). That
/// lifetime is the documented bound on how long a revocation made on *another* node can take
/// to bite; the node that revokes evicts the key at once.
final class IdentityCache: Sendable {
    private struct Entry {
        let principal: Principal
        let validUntil: Date
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys revoked on this node, until the cache lifetime has passed: a request that
        /// resolved a key just before its revocation committed must not put it back.
        var revoked: [APIKeyID: Date] = [:]
    }

    private let state = Mutex(State())
    let lifetime: Duration
    /// Past this many entries the cache drops expired ones, then everything if still full:
    /// memory stays bounded whatever tokens arrive.
    private let capacity: Int

    init(lifetime: Duration, capacity: Int = 50_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func principal(forTokenHash hash: String, now: Date = Date()) -> Principal? {
        state.withLock { state in
            guard let entry = state.entries[hash] else { return nil }
            guard now < entry.validUntil else {
                state.entries[hash] = nil
                return nil
            }
            return entry.principal
        }
    }

    func insert(_ principal: Principal, forTokenHash hash: String, credentialExpiry: Date?, now: Date = Date()) {
        let seconds = lifetime.inSeconds
        var validUntil = now.addingTimeInterval(seconds)
        if let credentialExpiry { validUntil = min(validUntil, credentialExpiry) }
        state.withLock { state in
            if case .apiKey(let id) = principal.credential, let until = state.revoked[id], now < until {
                return
            }
            if state.entries.count >= capacity {
                state.entries = state.entries.filter { now < $0.value.validUntil }
                if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            }
            state.entries[hash] = Entry(principal: principal, validUntil: validUntil)
        }
    }

    /// Evicts every cached identity minted from API key `id`, and keeps it out for one lifetime.
    func evict(apiKey id: APIKeyID, now: Date = Date()) {
        let seconds = lifetime.inSeconds
        state.withLock { state in
            state.entries = state.entries.filter { $0.value.principal.credential != .apiKey(id) }
            state.revoked = state.revoked.filter { now < $0.value }
            state.revoked[id] = now.addingTimeInterval(seconds)
        }
    }
}
