import CairnCore
import CairnIdentity
import CairnTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@Suite("OIDC key set refresh")
struct KeySetRefresherTests {
    final class FetchCounter: Sendable {
        let count = Mutex(0)
    }

    @Test("The refresher re-fetches the key set on its interval and returns normally when stopped")
    func refreshes() async throws {
        let provider = try TestIdentityProvider()
        let document = try provider.jwks()
        let counter = FetchCounter()
        let keySet = JSONWebKeySet(minimumRefreshInterval: nil) {
            counter.count.withLock { $0 += 1 }
            return document
        }
        let clock = ManualClock()
        let refresher = KeySetRefresher(keySet: keySet, interval: .seconds(600), clock: clock, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await refresher.run() }
            for fetch in 1...3 {
                try await eventually("the refresher to wait out interval \(fetch)") { clock.sleeping == 1 }
                #expect(counter.count.withLock { $0 } == fetch - 1, "no fetch before the interval ends")
                clock.advance(by: .seconds(600))
                try await eventually("fetch \(fetch)") { counter.count.withLock { $0 } == fetch }
            }
            group.cancelAll()
            // A service that threw on stop would fail the whole service group (and `cairn serve`).
            try await group.waitForAll()
        }
        #expect(counter.count.withLock { $0 } >= 3)
        #expect(await keySet.count == 3)
    }

    @Test("A JWKS URL must be https, except on loopback")
    func transport() {
        #expect(throws: CairnError.self) { try JSONWebKeySet.at("http://idp.bank.test/jwks") }
        #expect((try? JSONWebKeySet.at("http://127.0.0.1:8081/jwks")) != nil)
        #expect((try? JSONWebKeySet.at("https://idp.bank.test/jwks")) != nil)
    }
}
