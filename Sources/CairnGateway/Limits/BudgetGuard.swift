public import CairnCore
import CairnStore
public import Foundation
import Synchronization

/// Reserve-then-commit against every budget a call falls under (its tenant's and its key's).
///
/// Before a call, its worst-case cost is reserved; after it, the actual cost is committed and
/// the rest released; a failed call releases everything. Reservations are taken out of an
/// *allotment* this node holds for each budget window, granted by the database in slices
/// (``GatewayBooks/grant(_:window:wanted:needed:)``), so most calls reserve in memory and the
/// fleet together can still never spend past a budget (ADR 0022). Spend is reported back to
/// the database by ``flush()``, which `GatewayBookkeeping` runs a few times a second.
public final class BudgetGuard: Sendable {
    /// The share of a budget's limit a node asks for at once, beyond what a call needs.
    static let sliceFraction: Int64 = 20
    /// How long an allotment may sit unused before the node hands it back.
    static let idleReturn: Duration = .seconds(2)
    /// How long a tenant's list of budgets is reused before it is read again.
    static let budgetsLifetime: Duration = .seconds(5)

    fileprivate struct AccountKey: Hashable {
        let budget: GatewayBudgetID
        let window: Int64
    }

    /// This node's share of one budget window.
    private struct Account {
        let budget: GatewayBudget
        let window: Int64
        /// Granted by the database and not yet reported as spent or returned.
        var granted: Int64 = 0
        /// Held by calls in flight.
        var reserved: Int64 = 0
        /// Committed by finished calls, not yet reported.
        var unreported: Int64 = 0
        var lastUse: ContinuousClock.Instant

        var available: Int64 { granted - reserved - unreported }
    }

    private let books: GatewayBooks
    private let accounts = Mutex<[AccountKey: Account]>([:])
    private let budgetLists = Mutex<[String: (budgets: [GatewayBudget], loaded: ContinuousClock.Instant)]>([:])
    /// Settlements taken out of the accounts but not yet written (a failed write is retried).
    private let unsent = Mutex<[GatewayBooks.Settlement]>([])

    public init(books: GatewayBooks) { self.books = books }

    /// A reservation: what is held against which budget windows.
    public struct Reservation: Sendable {
        fileprivate let holds: [(key: AccountKeyBox, amount: Int64)]
        public let worstCase: USD
    }

    /// Hides the private key type in a public struct.
    fileprivate struct AccountKeyBox: Sendable {
        let key: AccountKey
    }

    /// Reserves `worstCase` in every budget that applies to `key` in `tenant`; throws
    /// `budgetExhausted` (402) when any of them cannot cover it, holding nothing then.
    public func reserve(_ worstCase: USD, tenant: TenantID, key: APIKeyID?, now: Date = Date()) async throws -> Reservation {
        let budgets = try await applicableBudgets(tenant: tenant, key: key)
        var holds: [(key: AccountKeyBox, amount: Int64)] = []
        do {
            for budget in budgets {
                holds.append((AccountKeyBox(key: try await hold(worstCase.nanodollars, in: budget, now: now)), worstCase.nanodollars))
            }
        } catch {
            release(Reservation(holds: holds, worstCase: worstCase))
            throw error
        }
        return Reservation(holds: holds, worstCase: worstCase)
    }

    /// Commits `actual` against every budget of the reservation and frees the rest of it.
    public func commit(_ reservation: Reservation, actual: USD) {
        let clock = ContinuousClock.now
        accounts.withLock { accounts in
            for hold in reservation.holds {
                accounts[hold.key.key]?.reserved -= hold.amount
                accounts[hold.key.key]?.unreported += actual.nanodollars
                accounts[hold.key.key]?.lastUse = clock
            }
        }
    }

    /// Frees the whole reservation: the call cost nothing.
    public func release(_ reservation: Reservation) {
        commit(reservation, actual: .zero)
    }

    /// Reports spend to the database, and hands back allotments idle for a while or of a
    /// window that has ended.
    public func flush(now: ContinuousClock.Instant = .now, date: Date = Date()) async throws {
        let settlements = accounts.withLock { accounts in
            var settlements: [GatewayBooks.Settlement] = []
            for (key, account) in accounts {
                var account = account
                let current = account.budget.period.windowStart(containing: date) == account.window
                let idle = account.reserved == 0 && (now - account.lastUse >= Self.idleReturn || !current)
                let returned = idle ? account.granted - account.unreported : 0
                guard account.unreported > 0 || returned > 0 else {
                    if idle { accounts[key] = nil }
                    continue
                }
                settlements.append(
                    .init(
                        budget: account.budget,
                        window: account.window,
                        spent: USD(nanodollars: account.unreported),
                        returned: USD(nanodollars: returned)
                    )
                )
                account.granted -= account.unreported + returned
                account.unreported = 0
                accounts[key] = idle ? nil : account
            }
            return settlements
        }
        let pending = unsent.withLock { unsent in
            defer { unsent.removeAll() }
            return unsent + settlements
        }
        do {
            try await books.settle(pending)
        } catch {
            unsent.withLock { $0.append(contentsOf: pending) }
            throw error
        }
    }

    /// Forgets the cached budget lists, so changes made on this node apply at once.
    public func budgetsChanged(tenant: TenantID) {
        budgetLists.withLock { lists in lists = lists.filter { !$0.key.hasPrefix(tenant.description) } }
    }

    private func applicableBudgets(tenant: TenantID, key: APIKeyID?) async throws -> [GatewayBudget] {
        let cacheKey = tenant.description + "/" + (key?.description ?? "-")
        let now = ContinuousClock.now
        if let cached = budgetLists.withLock({ $0[cacheKey] }), now - cached.loaded < Self.budgetsLifetime {
            return cached.budgets
        }
        let budgets = try await books.budgets(of: tenant, apiKeyID: key)
        budgetLists.withLock { $0[cacheKey] = (budgets, now) }
        return budgets
    }

    /// Holds `amount` in `budget`'s current window, asking the database for more allotment
    /// when this node's is short.
    private func hold(_ amount: Int64, in budget: GatewayBudget, now: Date) async throws -> AccountKey {
        let key = AccountKey(budget: budget.id, window: budget.period.windowStart(containing: now))
        // Concurrent callers may all find the allotment short and each ask for a slice; the
        // loop takes from whatever arrived, and the surplus goes back when idle.
        for _ in 0..<8 {
            let shortfall: Int64 = accounts.withLock { accounts in
                var account = accounts[key] ?? Account(budget: budget, window: key.window, lastUse: .now)
                defer { accounts[key] = account }
                guard account.available >= amount else { return amount - account.available }
                account.reserved += amount
                account.lastUse = .now
                return 0
            }
            if shortfall == 0 { return key }
            let slice = max(budget.limit.nanodollars / Self.sliceFraction, 1)
            let granted = try await books.grant(
                budget,
                window: key.window,
                wanted: USD(nanodollars: shortfall + slice),
                needed: USD(nanodollars: shortfall)
            )
            guard granted > .zero else {
                throw Self.exhausted(budget, amount: amount)
            }
            accounts.withLock { accounts in
                accounts[key, default: Account(budget: budget, window: key.window, lastUse: .now)].granted += granted.nanodollars
            }
        }
        throw Self.exhausted(budget, amount: amount)
    }

    private static func exhausted(_ budget: GatewayBudget, amount: Int64) -> CairnError {
        let scope = budget.apiKeyID == nil ? "The tenant's" : "This API key's"
        let period =
            switch budget.period {
            case .day: " daily"
            case .month: " monthly"
            case .total: ""
            }
        return CairnError(
            .budgetExhausted,
            "\(scope)\(period) budget of \(budget.limit) cannot cover this call's worst-case cost of \(USD(nanodollars: amount)); nothing was sent to a model."
        )
    }
}
