package import ArgumentParser
package import CairnCore
package import CairnStore
package import Logging

/// `--verbose`, which every command takes: on a terminal a one-shot command shows only
/// warnings and errors unless asked for more.
package struct LoggingOptions: ParsableArguments {
    @Flag(help: "Also log routine events (on a terminal, one-shot commands show only warnings and errors).")
    package var verbose = false

    package init() {}
}

/// `--tenant NAME`, required: the tenant a command acts on as its local administrator.
package struct TenantOption: ParsableArguments {
    @Option(help: "Tenant name.")
    package var tenant: String

    package init() {}

    /// Runs `body` on the configured store as the tenant's local administrator.
    package func asAdministrator<Result: Sendable>(
        _ settings: Settings,
        logger: Logger,
        _ body: @Sendable (CairnStore, Principal) async throws -> Result
    ) async throws -> Result {
        try await asTenantAdministrator(named: tenant, settings, logger: logger, body)
    }
}

/// `--tenant NAME` for commands that work on the demo corpus's tenant unless told otherwise.
package struct DefaultTenantOption: ParsableArguments {
    @Option(help: "Tenant name.")
    package var tenant: String = "default"

    package init() {}

    /// Runs `body` on the configured store as the tenant's local administrator.
    package func asAdministrator<Result: Sendable>(
        _ settings: Settings,
        logger: Logger,
        _ body: @Sendable (CairnStore, Principal) async throws -> Result
    ) async throws -> Result {
        try await asTenantAdministrator(named: tenant, settings, logger: logger, body)
    }
}

/// Runs `body` as the local administrator of the tenant named `name`; one sentence saying how
/// to create it when there is none.
private func asTenantAdministrator<Result: Sendable>(
    named name: String,
    _ settings: Settings,
    logger: Logger,
    _ body: @Sendable (CairnStore, Principal) async throws -> Result
) async throws -> Result {
    let tenantName = try TenantName(name)
    return try await withStore(settings, logger: logger) { store in
        try await body(store, .localAdministrator(of: try await store.tenants.existing(tenantName)))
    }
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
