import CairnAPI
import CairnCore
import CairnGateway
import CairnStore
import Foundation
import OpenAPIRuntime

// The model gateway's administration: the tenant's catalog entries and stored credentials, API
// keys' model limits and budgets, tenants' budgets (platform operator), and usage. After each
// change, the gateway on this node drops what it cached; other nodes read afresh within seconds.
extension APIHandlers {
    // MARK: Catalog

    func getGatewayCatalog(_ input: Operations.GetGatewayCatalog.Input) async throws -> Operations.GetGatewayCatalog.Output {
        let entries = try await store.gatewayCatalog.entries(of: try RequestCaller.principal().tenantID)
        return .ok(.init(body: .json(.init(platform: gatewayAdministration.platformCatalog, tenant: entries))))
    }

    func getGatewayPrivacy(_ input: Operations.GetGatewayPrivacy.Input) async throws -> Operations.GetGatewayPrivacy.Output {
        let entries = try await store.gatewayCatalog.entries(of: try RequestCaller.principal().tenantID)
        return .ok(.init(body: .json(.init(redactPersonalData: entries.redactsPersonalData))))
    }

    func putGatewayPrivacy(_ input: Operations.PutGatewayPrivacy.Input) async throws -> Operations.PutGatewayPrivacy.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let principal = try RequestCaller.principal()
        try await store.gatewayCatalog.setRedactsPersonalData(body.redactPersonalData, tenant: principal.tenantID, actor: principal.auditActor)
        gateway.catalogChanged(tenant: principal.tenantID)
        return .ok(.init(body: .json(.init(redactPersonalData: body.redactPersonalData))))
    }

    func putGatewayProvider(_ input: Operations.PutGatewayProvider.Input) async throws -> Operations.PutGatewayProvider.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let name = try Self.catalogName(input.path.name, "provider")
        let entry = GatewayCatalogDocument.Provider(
            name: name,
            kind: body.kind.domain,
            baseURL: body.baseURL,
            credential: try body.credential.map(Self.storedCredential),
            apiVersion: body.apiVersion,
            region: body.region
        )
        let provider = try entry.configuration()
        let replaced = try await changeCatalog(.putProvider(provider))
        let wire = Components.Schemas.GatewayProvider(provider, source: .tenant, platform: gatewayAdministration.platformCatalog)
        return replaced ? .ok(.init(body: .json(wire))) : .created(.init(body: .json(wire)))
    }

    func deleteGatewayProvider(_ input: Operations.DeleteGatewayProvider.Input) async throws -> Operations.DeleteGatewayProvider.Output {
        try await changeCatalog(.deleteProvider(try Self.catalogName(input.path.name, "provider")))
        return .noContent(.init())
    }

    func putGatewayDeployment(_ input: Operations.PutGatewayDeployment.Input) async throws -> Operations.PutGatewayDeployment.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let entry = GatewayCatalogDocument.Deployment(
            name: try Self.catalogName(input.path.name, "deployment"),
            provider: body.provider,
            model: body.model,
            capability: body.capability.map { $0 == .embeddings ? .embeddings : .chat },
            inputUSDPerMillion: body.inputUSDPerMillion,
            outputUSDPerMillion: body.outputUSDPerMillion,
            timeouts: body.timeouts.map { .init(connect: $0.connect, firstToken: $0.firstToken, total: $0.total) },
            maxConcurrency: body.maxConcurrency,
            defaultMaxOutputTokens: body.defaultMaxOutputTokens,
            weight: body.weight,
            dimension: body.dimension
        )
        let deployment = try entry.deployment()
        let replaced = try await changeCatalog(.putDeployment(deployment))
        let wire = Components.Schemas.GatewayDeployment(deployment, source: .tenant, platform: gatewayAdministration.platformCatalog)
        return replaced ? .ok(.init(body: .json(wire))) : .created(.init(body: .json(wire)))
    }

    func deleteGatewayDeployment(_ input: Operations.DeleteGatewayDeployment.Input) async throws -> Operations.DeleteGatewayDeployment.Output {
        try await changeCatalog(.deleteDeployment(try Self.catalogName(input.path.name, "deployment")))
        return .noContent(.init())
    }

    func putGatewayAlias(_ input: Operations.PutGatewayAlias.Input) async throws -> Operations.PutGatewayAlias.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let alias = ModelAlias(
            name: try Self.catalogName(input.path.name, "alias"),
            strategy: body.strategy == .weighted ? .weighted : .ordered,
            deployments: body.deployments
        )
        try GatewayCatalogDocument.check(alias)
        let replaced = try await changeCatalog(.putAlias(alias))
        let wire = Components.Schemas.GatewayAlias(alias, source: .tenant, platform: gatewayAdministration.platformCatalog)
        return replaced ? .ok(.init(body: .json(wire))) : .created(.init(body: .json(wire)))
    }

    func deleteGatewayAlias(_ input: Operations.DeleteGatewayAlias.Input) async throws -> Operations.DeleteGatewayAlias.Output {
        try await changeCatalog(.deleteAlias(try Self.catalogName(input.path.name, "alias")))
        return .noContent(.init())
    }

    /// Applies `change` to the caller's tenant if its entries stay valid over the platform
    /// catalog, and has the gateway route by the result from its next call on this node.
    @discardableResult
    private func changeCatalog(_ change: GatewayCatalogChange) async throws -> Bool {
        let principal = try RequestCaller.principal()
        let platform = gatewayAdministration.platformCatalog
        let replaced = try await store.gatewayCatalog.apply(change, tenant: principal.tenantID, actor: principal.auditActor) { entries in
            try platform.checkTenantEntries(entries, after: change)
        }
        gateway.catalogChanged(tenant: principal.tenantID)
        return replaced
    }

    // MARK: Credentials

    func listGatewayCredentials(_ input: Operations.ListGatewayCredentials.Input) async throws -> Operations.ListGatewayCredentials.Output {
        let credentials = try await store.gatewayCatalog.credentials(of: try RequestCaller.principal().tenantID)
        return .ok(.init(body: .json(.init(credentials: credentials.map(Components.Schemas.GatewayCredential.init)))))
    }

    func putGatewayCredential(_ input: Operations.PutGatewayCredential.Input) async throws -> Operations.PutGatewayCredential.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let name = try Self.catalogName(input.path.name, "credential")
        guard let masterKey = gatewayAdministration.masterKey else {
            throw CairnError(
                .conflict,
                "Stored credentials need a master key: set CAIRN_MASTER_KEY (or CAIRN_MASTER_KEY_FILE) on every node and restart Cairn."
            )
        }
        let principal = try RequestCaller.principal()
        // Secrets are read on every call, never cached: the next call uses the new one.
        try await store.gatewayCatalog.setCredential(
            name,
            secret: body.secret,
            tenant: principal.tenantID,
            actor: principal.auditActor,
            key: masterKey
        )
        return .noContent(.init())
    }

    func deleteGatewayCredential(_ input: Operations.DeleteGatewayCredential.Input) async throws -> Operations.DeleteGatewayCredential.Output {
        let name = try Self.catalogName(input.path.name, "credential")
        let principal = try RequestCaller.principal()
        try await store.gatewayCatalog.deleteCredential(name, tenant: principal.tenantID, actor: principal.auditActor)
        return .noContent(.init())
    }

    // MARK: Key limits

    func getModelLimits(_ input: Operations.GetModelLimits.Input) async throws -> Operations.GetModelLimits.Output {
        let id = try Self.keyID(input.path.keyId)
        let principal = try RequestCaller.principal()
        // The limits of a key of another tenant read as none; the key itself must be found.
        _ = try await store.apiKeys.get(id, for: principal)
        let limits = try await store.gatewayBooks.limits(of: id, tenant: principal.tenantID)
        return .ok(.init(body: .json(.init(limits))))
    }

    func putModelLimits(_ input: Operations.PutModelLimits.Input) async throws -> Operations.PutModelLimits.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let id = try Self.keyID(input.path.keyId)
        let principal = try RequestCaller.principal()
        if let models = body.allowedModels {
            guard models.count <= 100 else { throw CairnError(.invalidInput, "allowedModels takes at most 100 names.") }
            for model in models { try GatewayName.check(model, "model") }
        }
        let limits = body.domain
        try await store.gatewayBooks.setLimits(limits, of: id, tenant: principal.tenantID, actor: principal.auditActor)
        gateway.limitsChanged(key: id)
        return .ok(.init(body: .json(.init(limits))))
    }

    // MARK: Budgets

    func listGatewayBudgets(_ input: Operations.ListGatewayBudgets.Input) async throws -> Operations.ListGatewayBudgets.Output {
        let tenant = try RequestCaller.principal().tenantID
        var budgets: [Components.Schemas.Budget] = []
        for budget in try await store.gatewayBooks.budgets(of: tenant, includingAllKeys: true) {
            budgets.append(try await budgetWithWindow(budget))
        }
        return .ok(.init(body: .json(.init(budgets: budgets))))
    }

    func putKeyBudget(_ input: Operations.PutKeyBudget.Input) async throws -> Operations.PutKeyBudget.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let id = try Self.keyID(input.path.keyId)
        let principal = try RequestCaller.principal()
        let budget = try await store.gatewayBooks.setBudget(
            tenant: principal.tenantID,
            apiKeyID: id,
            period: try Self.period(input.path.period),
            limit: try Self.dollars(body.limitUSD, "limitUSD"),
            actor: principal.auditActor
        )
        gateway.budgetsChanged(tenant: principal.tenantID)
        return .ok(.init(body: .json(try await budgetWithWindow(budget))))
    }

    func deleteKeyBudget(_ input: Operations.DeleteKeyBudget.Input) async throws -> Operations.DeleteKeyBudget.Output {
        let id = try Self.keyID(input.path.keyId)
        let principal = try RequestCaller.principal()
        try await deleteBudget(of: principal.tenantID, key: id, period: try Self.period(input.path.period), actor: principal.auditActor)
        return .noContent(.init())
    }

    func putTenantBudget(_ input: Operations.PutTenantBudget.Input) async throws -> Operations.PutTenantBudget.Output {
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let tenant = try await existingTenant(input.path.tenantId)
        let budget = try await store.gatewayBooks.setBudget(
            tenant: tenant,
            apiKeyID: nil,
            period: try Self.period(input.path.period),
            limit: try Self.dollars(body.limitUSD, "limitUSD"),
            actor: "operator"
        )
        gateway.budgetsChanged(tenant: tenant)
        return .ok(.init(body: .json(try await budgetWithWindow(budget))))
    }

    func deleteTenantBudget(_ input: Operations.DeleteTenantBudget.Input) async throws -> Operations.DeleteTenantBudget.Output {
        let tenant = try await existingTenant(input.path.tenantId)
        try await deleteBudget(of: tenant, key: nil, period: try Self.period(input.path.period), actor: "operator")
        return .noContent(.init())
    }

    private func deleteBudget(of tenant: TenantID, key: APIKeyID?, period: BudgetPeriod, actor: String) async throws {
        let budgets = try await store.gatewayBooks.budgets(of: tenant, includingAllKeys: true)
        guard let budget = budgets.first(where: { $0.apiKeyID == key && $0.period == period }) else {
            let owner = key.map { "The API key \($0)" } ?? "The tenant"
            throw CairnError(.notFound, "\(owner) has no \(period.rawValue) budget.")
        }
        try await store.gatewayBooks.deleteBudget(budget.id, tenant: tenant, actor: actor)
        gateway.budgetsChanged(tenant: tenant)
    }

    private func budgetWithWindow(_ budget: GatewayBudget, now: Date = Date()) async throws -> Components.Schemas.Budget {
        let start = budget.period.windowStart(containing: now)
        return .init(budget, window: try await store.gatewayBooks.window(budget, start: start), windowStart: start)
    }

    /// The platform operator names tenants by id; an unknown one answers 404 before anything is written.
    private func existingTenant(_ text: String) async throws -> TenantID {
        guard let id = TenantID(text), try await store.tenants.find(id: id) != nil else {
            throw CairnError(.notFound, "There is no tenant with id '\(text.prefix(80))'.")
        }
        return id
    }

    // MARK: Usage

    func getUsage(_ input: Operations.GetUsage.Input) async throws -> Operations.GetUsage.Output {
        let tenant = try RequestCaller.principal().tenantID
        let (from, to) = try Self.usageWindow(from: input.query.from, to: input.query.to)
        let grouping = try input.query.groupBy.map(Self.grouping) ?? .model
        let rows = try await store.gatewayBooks.usage(of: tenant, groupedBy: grouping.domain, from: from, to: to)
        return .ok(.init(body: .json(.init(groupBy: grouping, from: from, to: to, rows: rows.map(Components.Schemas.UsageRow.init)))))
    }

    func getPlatformUsage(_ input: Operations.GetPlatformUsage.Input) async throws -> Operations.GetPlatformUsage.Output {
        let (from, to) = try Self.usageWindow(from: input.query.from, to: input.query.to)
        var rows: [Components.Schemas.UsageRow] = []
        // One read per tenant, each in that tenant's own scope: the ledger is never read across
        // tenants in one transaction (row-level security holds it to one).
        for tenant in try await store.tenants.all().sorted(by: { $0.name.rawValue < $1.name.rawValue }) {
            for row in try await store.gatewayBooks.usage(of: tenant.id, groupedBy: .tenant, from: from, to: to) {
                var wire = Components.Schemas.UsageRow(row)
                wire.group = tenant.name.rawValue
                rows.append(wire)
            }
        }
        return .ok(.init(body: .json(.init(groupBy: .tenant, from: from, to: to, rows: rows))))
    }

    // MARK: Input rules

    /// The longest report: a year, and a leap day.
    static let maximumUsageSpan: TimeInterval = 366 * 86_400

    /// The report's window: `to` defaults to now and `from` to 30 days before `to`.
    static func usageWindow(from: Date?, to: Date?, now: Date = Date()) throws(CairnError) -> (from: Date, to: Date) {
        let end = to ?? now
        let start = from ?? end.addingTimeInterval(-30 * 86_400)
        guard start < end else { throw CairnError(.invalidInput, "from must be before to.") }
        guard end.timeIntervalSince(start) <= maximumUsageSpan else {
            throw CairnError(.invalidInput, "A usage report spans at most 366 days; move from and to closer together.")
        }
        return (start, end)
    }

    // Periods and groupings are declared as patterns rather than enums: the runtime answers an
    // enum it cannot decode with a generic 400, these answer 422 with the values allowed.
    static func period(_ text: String) throws(CairnError) -> BudgetPeriod {
        guard let period = BudgetPeriod(rawValue: text) else { throw CairnError(.invalidInput, "period must be day, month or total.") }
        return period
    }

    static func grouping(_ text: String) throws(CairnError) -> Components.Schemas.UsageGrouping {
        guard let grouping = Components.Schemas.UsageGrouping(rawValue: text) else {
            throw CairnError(.invalidInput, "group_by must be tenant, key, model or day.")
        }
        return grouping
    }

    static func catalogName(_ text: String, _ what: String) throws(CairnError) -> String {
        try GatewayName.check(text, what)
        return text
    }

    /// A tenant's provider names one of the tenant's stored credentials, never the server's
    /// environment or files.
    static func storedCredential(_ text: String) throws(CairnError) -> CredentialReference {
        guard text.unicodeScalars.count <= "stored:".count + GatewayName.maximumLength, case .stored(let name)? = CredentialReference(text) else {
            throw CairnError(.invalidInput, "credential must be stored:NAME, naming one of the tenant's stored credentials.")
        }
        try GatewayName.check(name, "credential")
        return .stored(name)
    }

    static func dollars(_ value: Double, _ field: String) throws(CairnError) -> USD {
        guard let amount = USD(dollars: value) else {
            throw CairnError(.invalidInput, "\(field) must be an amount of dollars from 0 up to 1,000,000,000.")
        }
        return amount
    }
}
