package import ArgumentParser
package import CairnCore
package import CairnStore
package import Logging

/// `--verbose`, which every one-shot command takes: on a terminal such a command shows only
/// warnings and errors unless asked for more.
package struct LoggingOptions: ParsableArguments {
    @Flag(help: "Also log routine events (on a terminal, one-shot commands show only warnings and errors).")
    package var verbose = false

    package init() {}
}

/// An option naming the tenant a command acts on as its local administrator.
package protocol TenantNaming: ParsableArguments {
    var tenant: String { get }
}

extension TenantNaming {
    /// Runs `body` on the configured store as the tenant's local administrator; one sentence
    /// saying how to create the tenant when there is none.
    package func asAdministrator<Result: Sendable>(
        _ settings: Settings,
        logger: Logger,
        _ body: @Sendable (CairnStore, Principal) async throws -> Result
    ) async throws -> Result {
        let tenantName = try TenantName(tenant)
        return try await withStore(settings, logger: logger) { store in
            try await body(store, .localAdministrator(of: try await store.tenants.existing(tenantName)))
        }
    }
}

/// `--tenant NAME`, required.
package struct TenantOption: TenantNaming {
    @Option(help: "Tenant name.")
    package var tenant: String

    package init() {}
}

/// `--tenant NAME` for commands that work on the demo corpus's tenant unless told otherwise.
package struct DefaultTenantOption: TenantNaming {
    @Option(help: "Tenant name.")
    package var tenant: String = "default"

    package init() {}
}

/// Runs `body` on the entity whose id is `text` (a job, a run), as the local administrator of
/// the tenant that owns it; a sentence naming `noun` when `text` is not an id.
package func asOwningTenantAdministrator<Entity, Result: Sendable>(
    of text: String,
    noun: String,
    _ settings: Settings,
    logger: Logger,
    owner: @escaping @Sendable (CairnStore, EntityID<Entity>) async throws -> Tenant,
    _ body: @Sendable (CairnStore, EntityID<Entity>, Principal) async throws -> Result
) async throws -> Result {
    guard let id = EntityID<Entity>(text) else { throw CairnError(.invalidInput, "'\(text.prefix(80))' is not \(noun) (a UUID).") }
    return try await withStore(settings, logger: logger) { store in
        try await body(store, id, .localAdministrator(of: try await owner(store, id)))
    }
}
