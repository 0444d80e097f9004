public import CairnStore

extension CairnStore {
    /// The model gateway's ledger, budgets and key limits.
    public var gatewayBooks: GatewayBooks { GatewayBooks(database: database) }
    /// Tenants' own gateway catalog entries and their sealed provider credentials.
    public var gatewayCatalog: GatewayCatalogRepository { GatewayCatalogRepository(database: database) }
}

/// The gateway's tables: the ledger, budgets, key limits, tenants' catalogs and privacy policy.
public enum GatewaySchema {
    public static let migrations: [Migration] = [.gateway, .gatewayPrivacy]
}
