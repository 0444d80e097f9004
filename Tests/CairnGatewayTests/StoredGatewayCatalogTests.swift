import CairnCore
import CairnGateway
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@Suite("Stored gateway catalog")
struct StoredGatewayCatalogTests {
    static let platform = GatewayCatalog(
        providers: [
            ModelProviderConfiguration(name: "openai", kind: .openAI, baseURL: "https://api.openai.test/v1", credential: .environment("OPENAI_KEY"))
        ],
        deployments: [
            ModelDeployment(name: "gpt-small", provider: "openai", model: "gpt-small"),
            ModelDeployment(name: "gpt-large", provider: "openai", model: "gpt-large"),
        ],
        aliases: [ModelAlias(name: "chat", deployments: ["gpt-small"]), ModelAlias(name: "reasoning", deployments: ["gpt-large"])]
    )

    /// Applies `change` for `tenant` under the platform catalog's rules, as the admin API does.
    static func apply(_ change: GatewayCatalogChange, _ tenant: TenantID, _ store: CairnStore) async throws {
        try await store.gatewayCatalog.apply(change, tenant: tenant, actor: "cli") { entries in
            try platform.checkTenantEntries(entries, after: change)
        }
    }

    static func code(_ error: any Error) -> CairnError.Code? { (error as? CairnError)?.code }

    @Test(
        "A tenant's entries lay over the platform's by name for that tenant only; an alias may mix platform and tenant deployments",
        arguments: TestEngine.all
    )
    func overlay(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank").tenantID
            let southbank = try await makeTenant(store, "southbank").tenantID
            let catalogs = StoredGatewayCatalog(platform: Self.platform, repository: store.gatewayCatalog, lifetime: .seconds(3600))

            try await store.gatewayCatalog.setCredential("own-key", secret: "sk-own", tenant: northbank, actor: "cli", key: .generate())
            try await Self.apply(
                .putProvider(
                    ModelProviderConfiguration(name: "own", kind: .openAI, baseURL: "https://llm.northbank.test/v1", credential: .stored("own-key"))
                ),
                northbank,
                store
            )
            // A tenant deployment on its own provider, and one overriding a platform deployment by
            // name (on its own provider too: the platform's providers are priced by the platform).
            try await Self.apply(.putDeployment(ModelDeployment(name: "in-house", provider: "own", model: "llama")), northbank, store)
            try await Self.apply(
                .putDeployment(ModelDeployment(name: "gpt-small", provider: "own", model: "gpt-small-2024", maxConcurrency: 4)),
                northbank,
                store
            )
            try await Self.apply(.putAlias(ModelAlias(name: "chat", deployments: ["in-house", "gpt-large"])), northbank, store)

            let seen = try await catalogs.catalog(for: northbank)
            #expect(seen.aliases["chat"]?.deployments == ["in-house", "gpt-large"])
            #expect(seen.aliases["reasoning"] == Self.platform.aliases["reasoning"])
            #expect(seen.deployments["gpt-small"]?.model == "gpt-small-2024")
            #expect(seen.providers.keys.sorted() == ["openai", "own"])
            var generator = SystemRandomNumberGenerator()
            #expect(seen.route("chat", capability: .chat, using: &generator)?.map(\.deployment.name) == ["in-house", "gpt-large"])
            #expect(seen.route("chat", capability: .chat, using: &generator)?.first?.provider.credential == .stored("own-key"))

            #expect(try await catalogs.catalog(for: southbank) == Self.platform)
        }
    }

    @Test("A change on this node is seen at once after catalogChanged; until then the cached catalog serves", arguments: TestEngine.all)
    func invalidation(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank").tenantID
            let catalogs = StoredGatewayCatalog(platform: Self.platform, repository: store.gatewayCatalog, lifetime: .seconds(3600))
            #expect(try await catalogs.catalog(for: northbank).aliases["chat"]?.deployments == ["gpt-small"])
            try await Self.apply(.putAlias(ModelAlias(name: "chat", deployments: ["gpt-large"])), northbank, store)
            // Cached for its lifetime: this is what other nodes see until it passes.
            #expect(try await catalogs.catalog(for: northbank).aliases["chat"]?.deployments == ["gpt-small"])
            catalogs.catalogChanged(for: northbank)
            #expect(try await catalogs.catalog(for: northbank).aliases["chat"]?.deployments == ["gpt-large"])

            let shortLived = StoredGatewayCatalog(platform: Self.platform, repository: store.gatewayCatalog, lifetime: .zero)
            try await Self.apply(.deleteAlias("chat"), northbank, store)
            #expect(try await shortLived.catalog(for: northbank).aliases["chat"]?.deployments == ["gpt-small"])
        }
    }

    @Test(
        "References are checked against platform and tenant entries together: unknown names are 422, taking away a name in use is 409",
        arguments: TestEngine.all
    )
    func references(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank").tenantID
            try await Self.apply(
                .putProvider(ModelProviderConfiguration(name: "own", kind: .openAI, baseURL: "https://own.test/v1")),
                northbank,
                store
            )
            try await Self.apply(.putDeployment(ModelDeployment(name: "mine", provider: "own", model: "m")), northbank, store)
            try await Self.apply(.putAlias(ModelAlias(name: "both", deployments: ["mine", "gpt-small"])), northbank, store)

            let refused: [(GatewayCatalogChange, CairnError.Code, String)] = [
                (
                    .putAlias(ModelAlias(name: "x", deployments: ["mine", "nope"])), .invalidInput,
                    "The alias 'x' names the unknown deployment 'nope'."
                ),
                (
                    .putDeployment(ModelDeployment(name: "y", provider: "nobody", model: "m")), .invalidInput,
                    "The deployment 'y' names the unknown provider 'nobody'."
                ),
                (
                    .putDeployment(ModelDeployment(name: "z", provider: "openai", model: "m")), .invalidInput,
                    "The deployment 'z' must use one of the tenant's own providers; 'openai' is the platform's, and the platform prices its deployments."
                ),
                (
                    .putProvider(ModelProviderConfiguration(name: "p", kind: .openAI, baseURL: "https://p.test", credential: .stored("missing"))),
                    .invalidInput, "The provider 'p' names the unknown credential 'missing'."
                ),
                (.deleteDeployment("mine"), .conflict, "The deployment 'mine' is still used by the alias 'both'; change or delete that first."),
            ]
            for (change, code, message) in refused {
                await #expect {
                    try await Self.apply(change, northbank, store)
                } throws: { error in
                    Self.code(error) == code && (error as? CairnError)?.message == message
                }
            }
            // Overriding a platform deployment and then deleting the override leaves the platform's
            // in place, so nothing dangles.
            try await Self.apply(.putDeployment(ModelDeployment(name: "gpt-small", provider: "own", model: "other")), northbank, store)
            try await Self.apply(.deleteDeployment("gpt-small"), northbank, store)
            try await Self.apply(.deleteAlias("both"), northbank, store)
            try await Self.apply(.deleteDeployment("mine"), northbank, store)
            try await Self.apply(.deleteProvider("own"), northbank, store)
            #expect(try await store.gatewayCatalog.entries(of: northbank) == TenantGatewayEntries())
        }
    }

    @Test("The platform catalog file cannot use stored credentials, which belong to a tenant")
    func platformStoredCredential() throws {
        let json = """
            {"providers":[{"name":"p","kind":"openai","base_url":"https://p.test/v1","credential":"stored:shared"}],
             "deployments":[{"name":"d","provider":"p","model":"m"}]}
            """
        #expect {
            try JSONDecoder().decode(GatewayCatalogDocument.self, from: Data(json.utf8)).catalog()
        } throws: { error in
            (error as? CairnError)?.message.contains("stored credentials belong to a tenant") == true
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect {
            try GatewayCatalogDocument.load(file.path)
        } throws: { error in
            Self.code(error) == .misconfigured && (error as? CairnError)?.message.contains(file.path) == true
        }
    }
}
