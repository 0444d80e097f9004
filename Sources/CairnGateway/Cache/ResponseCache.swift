import CairnCore
import Crypto
import Foundation
import Synchronization

/// Exact-match answers kept for a while, per tenant: a caller who asks the same question again
/// within the TTL it chose gets the stored answer, at no cost and without a provider call.
///
/// Opt-in per request (the front door's `Cairn-Cache-TTL` header), because a cached answer is
/// a stale one and only the caller knows whether that is acceptable. The key is a hash of the
/// tenant and the whole request as sent (alias, messages, tools, format, sampling parameters),
/// so one tenant's answers are never another's, and any change in the request misses. Held
/// in this node's memory, bounded by entry count; the oldest entries go first.
final class ResponseCache: Sendable {
    /// The longest a caller may ask answers to be kept.
    static let longestTTL: Duration = .seconds(86_400)

    private struct Entry {
        let completion: ChatCompletion
        let expires: ContinuousClock.Instant
    }

    private struct Storage {
        var entries: [String: Entry] = [:]
        /// Keys in insertion order, for eviction.
        var order: [String] = []
    }

    private let capacity: Int
    private let storage = Mutex(Storage())

    init(capacity: Int = 10_000) { self.capacity = capacity }

    static func key(for request: ChatRequest, tenant: TenantID) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var request = request
        request.stream = nil
        request.streamOptions = nil
        let body = (try? encoder.encode(request)) ?? Data()
        return SHA256.hash(data: Data(tenant.description.utf8) + [0] + body).hexString
    }

    func lookup(_ key: String, now: ContinuousClock.Instant = .now) -> ChatCompletion? {
        storage.withLock { storage in
            guard let entry = storage.entries[key] else { return nil }
            guard entry.expires > now else {
                storage.entries[key] = nil
                return nil
            }
            return entry.completion
        }
    }

    func store(_ completion: ChatCompletion, key: String, ttl: Duration, now: ContinuousClock.Instant = .now) {
        storage.withLock { storage in
            if storage.entries.updateValue(Entry(completion: completion, expires: now + ttl), forKey: key) == nil {
                storage.order.append(key)
            }
            // Evict in insertion order; keys already expired and dropped are skipped over.
            while storage.entries.count > capacity, !storage.order.isEmpty {
                storage.entries[storage.order.removeFirst()] = nil
            }
            if storage.order.count > capacity * 2 {
                storage.order.removeAll { storage.entries[$0] == nil }
            }
        }
    }
}
