public import CairnCore
public import CairnStore
public import Foundation
import SQLKit

/// One tenant's own gateway catalog entries, laid over the platform catalog by name, and the
/// names of its stored credentials.
public struct TenantGatewayEntries: Sendable, Equatable {
    public var providers: [ModelProviderConfiguration]
    public var deployments: [ModelDeployment]
    public var aliases: [ModelAlias]
    public var credentialNames: Set<String>
    /// The tenant's policy: personal data is redacted from every request sent to a provider.
    public var redactsPersonalData: Bool

    public init(
        providers: [ModelProviderConfiguration] = [],
        deployments: [ModelDeployment] = [],
        aliases: [ModelAlias] = [],
        credentialNames: Set<String> = [],
        redactsPersonalData: Bool = false
    ) {
        self.providers = providers
        self.deployments = deployments
        self.aliases = aliases
        self.credentialNames = credentialNames
        self.redactsPersonalData = redactsPersonalData
    }
}

/// A change to a tenant's catalog entries.
public enum GatewayCatalogChange: Sendable, Equatable {
    case putProvider(ModelProviderConfiguration)
    case putDeployment(ModelDeployment)
    case putAlias(ModelAlias)
    case deleteProvider(String)
    case deleteDeployment(String)
    case deleteAlias(String)
}

/// A stored credential as listed: never its secret.
public struct StoredCredential: Sendable, Equatable {
    public let name: String
    public let createdAt: Date
    public let createdBy: String
}

/// Tenants' gateway catalog entries (providers, deployments, aliases) and their provider
/// credentials, sealed under the master key. Every change is audited in the tenant's chain in
/// the same transaction.
///
/// The platform catalog is a file and is not stored here. What makes a tenant's entries valid
/// over it is the gateway's rule; the caller passes it as `check`, which runs inside the
/// transaction on the entries as they would be after the change, so two concurrent changes
/// cannot together leave a reference dangling.
public struct GatewayCatalogRepository: Sendable {
    let database: any Database

    public init(database: any Database) { self.database = database }

    /// The longest secret accepted, in Unicode scalars: AWS session tokens run to a few thousand.
    public static let maximumSecretLength = 8192

    // MARK: - Catalog entries

    /// The tenant's own entries, sorted by name.
    public func entries(of tenant: TenantID) async throws -> TenantGatewayEntries {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.entries(of: tenant, in: transaction)
        }
    }

    /// Applies `change` to the tenant's entries if `check` accepts the result. Returns whether
    /// a put replaced an entry of the same name (always `true` for a delete).
    @discardableResult
    public func apply(
        _ change: GatewayCatalogChange,
        tenant: TenantID,
        actor: String,
        check: @Sendable (TenantGatewayEntries) throws -> Void
    ) async throws -> Bool {
        if case .putProvider(let provider) = change, let credential = provider.credential {
            // env: and file: name the Cairn server's own environment and files: a tenant's
            // provider reading them would send the platform's secrets to the tenant's URL.
            guard case .stored = credential else {
                throw CairnError(.invalidInput, "A tenant's provider can use only a stored credential (stored:NAME), never env: or file:.")
            }
        }
        return try await database.transaction(.tenant(tenant)) { transaction in
            // Changes to one tenant's catalog take turns, so `check` sees every committed one.
            try await Self.lockTenant(tenant, in: transaction)
            let (kind, name) = change.target
            let existed =
                try await transaction.sql.raw(
                    "SELECT name FROM \(ident: kind.table) WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
                ).first() != nil
            try await transaction.sql.raw(
                "DELETE FROM \(ident: kind.table) WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
            ).run()
            var details: [String: String]
            switch change {
            case .putProvider(let provider):
                try await Self.insert(provider, tenant: tenant, actor: actor, in: transaction)
                details = [
                    "kind": provider.kind.rawValue, "base_url": provider.baseURL, "credential": provider.credential?.description ?? "-",
                    "api_version": provider.apiVersion ?? "-", "region": provider.region ?? "-",
                ]
            case .putDeployment(let deployment):
                try await Self.insert(deployment, tenant: tenant, actor: actor, in: transaction)
                details = [
                    "provider": deployment.provider, "model": deployment.model, "capability": deployment.capability.rawValue,
                    "input_per_million": deployment.price.inputPerMillion.description,
                    "output_per_million": deployment.price.outputPerMillion.description,
                    "max_concurrency": String(deployment.maxConcurrency), "weight": String(deployment.weight),
                ]
            case .putAlias(let alias):
                try await Self.insert(alias, tenant: tenant, actor: actor, in: transaction)
                details = ["strategy": alias.strategy.rawValue, "deployments": alias.deployments.joined(separator: ",")]
            case .deleteProvider, .deleteDeployment, .deleteAlias:
                guard existed else { throw CairnError(.notFound, "This tenant has no \(kind.noun) named '\(name.prefix(128))'.") }
                details = [:]
            }
            try check(try await Self.entries(of: tenant, in: transaction))
            let verb = change.isDelete ? "delete" : "put"
            if !change.isDelete { details["change"] = existed ? "replaced" : "created" }
            try await AuditLog.append(
                AuditRecord(
                    actor: actor,
                    action: "gateway.\(kind.noun).\(verb)",
                    targetType: "gateway_\(kind.noun)",
                    targetID: name,
                    details: details
                ),
                tenantID: tenant,
                in: transaction
            )
            return existed
        }
    }

    // MARK: - Credentials

    /// Seals `secret` under `key` and stores it as the tenant's credential `name`, replacing
    /// one of the same name. Returns whether one was replaced. The secret is never audited.
    @discardableResult
    public func setCredential(_ name: String, secret: String, tenant: TenantID, actor: String, key: MasterKey) async throws -> Bool {
        try GatewayName.check(name, "credential")
        guard (1...Self.maximumSecretLength).contains(secret.unicodeScalars.count),
            !secret.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            // A control character would end up in an HTTP header of the provider request.
            throw CairnError(.invalidInput, "A secret must be 1–\(Self.maximumSecretLength) characters without control characters.")
        }
        let sealed = try key.seal(secret, tenant: tenant, name: name)
        return try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.lockTenant(tenant, in: transaction)
            let existed =
                try await transaction.sql.raw(
                    "SELECT name FROM gateway_credentials WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
                ).first() != nil
            try await transaction.sql.raw(
                "DELETE FROM gateway_credentials WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
            ).run()
            try await transaction.sql.raw(
                """
                INSERT INTO gateway_credentials (tenant_id, name, nonce, ciphertext, created_at, created_by)
                VALUES (\(bind: tenant.description), \(bind: name), \(bind: sealed.nonce), \(bind: sealed.ciphertext),
                        \(bind: EpochMilliseconds.nowMilliseconds()), \(bind: actor))
                """
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: actor,
                    action: "gateway.credential.set",
                    targetType: "gateway_credential",
                    targetID: name,
                    details: ["change": existed ? "replaced" : "created"]
                ),
                tenantID: tenant,
                in: transaction
            )
            return existed
        }
    }

    /// Removes the tenant's credential `name`; refused while one of its providers uses it.
    public func deleteCredential(_ name: String, tenant: TenantID, actor: String) async throws {
        try await database.transaction(.tenant(tenant)) { transaction in
            try await Self.lockTenant(tenant, in: transaction)
            let exists =
                try await transaction.sql.raw(
                    "SELECT name FROM gateway_credentials WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
                ).first() != nil
            guard exists else { throw CairnError(.notFound, "This tenant has no stored credential named '\(name.prefix(128))'.") }
            let reference = CredentialReference.stored(name).description
            if let user = try await transaction.sql.raw(
                "SELECT name FROM gateway_providers WHERE tenant_id = \(bind: tenant.description) AND credential = \(bind: reference) ORDER BY name"
            ).first() {
                throw CairnError(
                    .conflict,
                    "The provider '\(try user.string("name"))' uses the credential '\(name)'; change or delete the provider first."
                )
            }
            try await transaction.sql.raw(
                "DELETE FROM gateway_credentials WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
            ).run()
            try await AuditLog.append(
                AuditRecord(actor: actor, action: "gateway.credential.delete", targetType: "gateway_credential", targetID: name, details: [:]),
                tenantID: tenant,
                in: transaction
            )
        }
    }

    // MARK: - Privacy

    /// Sets whether personal data is redacted from the tenant's requests to providers; audited
    /// as `gateway.privacy.set`.
    public func setRedactsPersonalData(_ redacts: Bool, tenant: TenantID, actor: String) async throws {
        let now = EpochMilliseconds.milliseconds(Date())
        try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                """
                INSERT INTO gateway_privacy (tenant_id, redact_personal_data, updated_at, updated_by)
                VALUES (\(bind: tenant.description), \(bind: redacts ? 1 : 0), \(bind: now), \(bind: actor))
                ON CONFLICT (tenant_id) DO UPDATE SET redact_personal_data = excluded.redact_personal_data, updated_at = excluded.updated_at,
                                                      updated_by = excluded.updated_by
                """
            ).run()
            try await AuditLog.append(
                AuditRecord(
                    actor: actor,
                    action: "gateway.privacy.set",
                    targetType: "tenant",
                    targetID: tenant.description,
                    details: ["redact_personal_data": String(redacts)]
                ),
                tenantID: tenant,
                in: transaction
            )
        }
    }

    /// The tenant's stored credentials by name, without their secrets.
    public func credentials(of tenant: TenantID) async throws -> [StoredCredential] {
        let rows = try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                "SELECT name, created_at, created_by FROM gateway_credentials WHERE tenant_id = \(bind: tenant.description) ORDER BY name"
            ).all()
        }
        return try rows.map {
            StoredCredential(name: try $0.string("name"), createdAt: try $0.date("created_at"), createdBy: try $0.string("created_by"))
        }
    }

    /// The secret of the tenant's credential `name`, opened with `key`.
    public func secret(ofCredential name: String, tenant: TenantID, key: MasterKey) async throws -> String {
        let row = try await database.transaction(.tenant(tenant)) { transaction in
            try await transaction.sql.raw(
                "SELECT nonce, ciphertext FROM gateway_credentials WHERE tenant_id = \(bind: tenant.description) AND name = \(bind: name)"
            ).first()
        }
        guard let row else { throw CairnError(.notFound, "This tenant has no stored credential named '\(name.prefix(128))'.") }
        let sealed = MasterKey.Sealed(
            nonce: try row.decode(column: "nonce", as: Data.self),
            ciphertext: try row.decode(column: "ciphertext", as: Data.self)
        )
        return try key.open(sealed, tenant: tenant, name: name)
    }

    // MARK: - Rows

    private static func lockTenant(_ tenant: TenantID, in transaction: Transaction) async throws {
        let row = try await transaction.sql.raw(
            "SELECT id FROM tenants WHERE id = \(bind: tenant.description)\(transaction.rowLockClause)"
        ).first()
        guard row != nil else { throw CairnError(.notFound, "The tenant no longer exists.") }
    }

    private static func insert(_ provider: ModelProviderConfiguration, tenant: TenantID, actor: String, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            INSERT INTO gateway_providers (tenant_id, name, kind, base_url, credential, api_version, region, updated_at, updated_by)
            VALUES (\(bind: tenant.description), \(bind: provider.name), \(bind: provider.kind.rawValue), \(bind: provider.baseURL),
                    \(bind: provider.credential?.description), \(bind: provider.apiVersion), \(bind: provider.region),
                    \(bind: EpochMilliseconds.nowMilliseconds()), \(bind: actor))
            """
        ).run()
    }

    private static func insert(_ deployment: ModelDeployment, tenant: TenantID, actor: String, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            INSERT INTO gateway_deployments (tenant_id, name, provider, model, capability, input_nanos_per_million, output_nanos_per_million,
                                             connect_ms, first_token_ms, total_ms, max_concurrency, default_max_output_tokens, weight,
                                             dimension, updated_at, updated_by)
            VALUES (\(bind: tenant.description), \(bind: deployment.name), \(bind: deployment.provider), \(bind: deployment.model),
                    \(bind: deployment.capability.rawValue), \(bind: deployment.price.inputPerMillion.nanodollars),
                    \(bind: deployment.price.outputPerMillion.nanodollars), \(bind: deployment.timeouts.connect.wholeMilliseconds),
                    \(bind: deployment.timeouts.firstToken.wholeMilliseconds), \(bind: deployment.timeouts.total.wholeMilliseconds),
                    \(bind: Int64(deployment.maxConcurrency)), \(bind: Int64(deployment.defaultMaxOutputTokens)), \(bind: Int64(deployment.weight)),
                    \(bind: deployment.dimension.map(Int64.init)), \(bind: EpochMilliseconds.nowMilliseconds()), \(bind: actor))
            """
        ).run()
    }

    private static func insert(_ alias: ModelAlias, tenant: TenantID, actor: String, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            INSERT INTO gateway_aliases (tenant_id, name, strategy, deployments, updated_at, updated_by)
            VALUES (\(bind: tenant.description), \(bind: alias.name), \(bind: alias.strategy.rawValue), \(bind: JSONText.encode(alias.deployments)),
                    \(bind: EpochMilliseconds.nowMilliseconds()), \(bind: actor))
            """
        ).run()
    }

    private static func entries(of tenant: TenantID, in transaction: Transaction) async throws -> TenantGatewayEntries {
        let id = tenant.description
        let sql = transaction.sql
        let providers = try await sql.raw("SELECT * FROM gateway_providers WHERE tenant_id = \(bind: id) ORDER BY name").all().map { row in
            guard let kind = ProviderKind(rawValue: try row.string("kind")) else {
                throw CairnError(.integrityViolation, "A stored gateway provider has a kind Cairn does not know.")
            }
            let credential = try row.decode(column: "credential", as: String?.self)
            return ModelProviderConfiguration(
                name: try row.string("name"),
                kind: kind,
                baseURL: try row.string("base_url"),
                credential: credential.flatMap(CredentialReference.init),
                apiVersion: try row.decode(column: "api_version", as: String?.self),
                region: try row.decode(column: "region", as: String?.self)
            )
        }
        let deployments = try await sql.raw("SELECT * FROM gateway_deployments WHERE tenant_id = \(bind: id) ORDER BY name").all().map { row in
            guard let capability = DeploymentCapability(rawValue: try row.string("capability")) else {
                throw CairnError(.integrityViolation, "A stored gateway deployment has a capability Cairn does not know.")
            }
            return ModelDeployment(
                name: try row.string("name"),
                provider: try row.string("provider"),
                model: try row.string("model"),
                capability: capability,
                price: TokenPrice(
                    inputPerMillion: USD(nanodollars: try row.int64("input_nanos_per_million")),
                    outputPerMillion: USD(nanodollars: try row.int64("output_nanos_per_million"))
                ),
                timeouts: DeploymentTimeouts(
                    connect: .milliseconds(try row.int64("connect_ms")),
                    firstToken: .milliseconds(try row.int64("first_token_ms")),
                    total: .milliseconds(try row.int64("total_ms"))
                ),
                maxConcurrency: Int(try row.int64("max_concurrency")),
                defaultMaxOutputTokens: Int(try row.int64("default_max_output_tokens")),
                weight: Int(try row.int64("weight")),
                dimension: try row.optionalInt64("dimension").map(Int.init)
            )
        }
        let aliases = try await sql.raw("SELECT * FROM gateway_aliases WHERE tenant_id = \(bind: id) ORDER BY name").all().map { row in
            guard let strategy = ModelAlias.Strategy(rawValue: try row.string("strategy")) else {
                throw CairnError(.integrityViolation, "A stored gateway alias has a strategy Cairn does not know.")
            }
            return ModelAlias(name: try row.string("name"), strategy: strategy, deployments: try row.list("deployments"))
        }
        let credentials = try await sql.raw("SELECT name FROM gateway_credentials WHERE tenant_id = \(bind: id)").all().map { try $0.string("name") }
        let redacts =
            try await sql.raw("SELECT redact_personal_data FROM gateway_privacy WHERE tenant_id = \(bind: id)").first()
            .map { try $0.int64("redact_personal_data") != 0 } ?? false
        return TenantGatewayEntries(
            providers: providers,
            deployments: deployments,
            aliases: aliases,
            credentialNames: Set(credentials),
            redactsPersonalData: redacts
        )
    }
}

extension GatewayCatalogChange {
    /// The kinds of catalog entry, each with its table.
    enum Kind {
        case provider, deployment, alias

        /// The table of the kind's rows; interpolated as a quoted identifier, never from input.
        var table: String {
            switch self {
            case .provider: "gateway_providers"
            case .deployment: "gateway_deployments"
            case .alias: "gateway_aliases"
            }
        }

        var noun: String {
            switch self {
            case .provider: "provider"
            case .deployment: "deployment"
            case .alias: "alias"
            }
        }
    }

    var target: (kind: Kind, name: String) {
        switch self {
        case .putProvider(let provider): (.provider, provider.name)
        case .putDeployment(let deployment): (.deployment, deployment.name)
        case .putAlias(let alias): (.alias, alias.name)
        case .deleteProvider(let name): (.provider, name)
        case .deleteDeployment(let name): (.deployment, name)
        case .deleteAlias(let name): (.alias, name)
        }
    }

    var isDelete: Bool {
        switch self {
        case .putProvider, .putDeployment, .putAlias: false
        case .deleteProvider, .deleteDeployment, .deleteAlias: true
        }
    }
}
