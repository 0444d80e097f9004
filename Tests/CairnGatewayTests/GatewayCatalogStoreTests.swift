import CairnCore
import CairnGateway
import CairnTestSupport
import Foundation
import SQLKit
import Testing

@testable import CairnStore

@Suite("Gateway catalog store")
struct GatewayCatalogStoreTests {
    static let provider = ModelProviderConfiguration(
        name: "own",
        kind: .openAI,
        baseURL: "https://llm.northbank.test/v1",
        credential: .stored("own-key")
    )
    static let deployment = ModelDeployment(
        name: "fast",
        provider: "own",
        model: "small-1",
        price: TokenPrice(inputPerMillion: USD(dollars: 0.25)!, outputPerMillion: USD(dollars: 1.25)!),
        timeouts: DeploymentTimeouts(connect: .milliseconds(1500), firstToken: .seconds(8), total: .seconds(60)),
        maxConcurrency: 7,
        weight: 3
    )
    static let alias = ModelAlias(name: "chat", strategy: .weighted, deployments: ["fast", "platform-chat"])

    static func actions(_ store: CairnStore, _ tenant: Principal) async throws -> [String] {
        try await store.audit.page(for: tenant, filter: .init(), before: nil, limit: 100).events.map(\.record.action).reversed()
    }

    @Test("Entries round-trip, a put says whether it replaced, a delete of nothing is a 404, and each change is audited", arguments: TestEngine.all)
    func entries(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            let catalog = store.gatewayCatalog
            let tenant = northbank.tenantID
            try await catalog.setCredential("own-key", secret: "sk-northbank", tenant: tenant, actor: "cli", key: .generate())
            #expect(try await catalog.apply(.putProvider(Self.provider), tenant: tenant, actor: "cli") { _ in } == false)
            #expect(try await catalog.apply(.putDeployment(Self.deployment), tenant: tenant, actor: "cli") { _ in } == false)
            #expect(try await catalog.apply(.putAlias(Self.alias), tenant: tenant, actor: "cli") { _ in } == false)
            var renamed = Self.alias
            renamed.deployments = ["fast"]
            #expect(try await catalog.apply(.putAlias(renamed), tenant: tenant, actor: "cli") { _ in } == true)

            let entries = try await catalog.entries(of: tenant)
            #expect(entries.providers == [Self.provider])
            #expect(entries.deployments == [Self.deployment])
            #expect(entries.aliases == [renamed])
            #expect(entries.credentialNames == ["own-key"])
            #expect(try await catalog.entries(of: southbank.tenantID) == TenantGatewayEntries())

            try await catalog.apply(.deleteAlias("chat"), tenant: tenant, actor: "cli") { _ in }
            await #expect { try await catalog.apply(.deleteAlias("chat"), tenant: tenant, actor: "cli") { _ in } } throws: { error in
                (error as? CairnError)?.code == .notFound
            }
            // Another tenant's entries are not there to delete.
            await #expect { try await catalog.apply(.deleteDeployment("fast"), tenant: southbank.tenantID, actor: "cli") { _ in } } throws: { error in
                (error as? CairnError)?.code == .notFound
            }
            #expect(
                try await Self.actions(store, northbank).suffix(6) == [
                    "gateway.credential.set", "gateway.provider.put", "gateway.deployment.put", "gateway.alias.put", "gateway.alias.put",
                    "gateway.alias.delete",
                ]
            )
            let events = try await store.audit.page(for: northbank, filter: .init(action: "gateway.alias.put"), before: nil, limit: 10).events
            #expect(events.map { $0.record.details["change"] } == ["replaced", "created"])
            #expect(events.first?.record.details["deployments"] == "fast")
            #expect(try await store.audit.verify(tenantName: northbank.tenantName).first?.firstBreak == nil)
        }
    }

    @Test(
        "A change the check refuses writes nothing and audits nothing; a tenant's provider cannot read the server's environment",
        arguments: TestEngine.all
    )
    func refusedChanges(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank")
            let catalog = store.gatewayCatalog
            let before = try await Self.actions(store, northbank)
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                try await catalog.apply(.putDeployment(Self.deployment), tenant: northbank.tenantID, actor: "cli") { entries in
                    // The check sees the entries as the change would leave them.
                    #expect(entries.deployments == [Self.deployment])
                    throw Refused()
                }
            }
            for credential in [CredentialReference.environment("CAIRN_OPERATOR_TOKEN"), .file("/etc/shadow")] {
                var provider = Self.provider
                provider.credential = credential
                await #expect {
                    try await catalog.apply(.putProvider(provider), tenant: northbank.tenantID, actor: "cli") { _ in }
                } throws: { error in
                    (error as? CairnError)?.code == .invalidInput
                }
            }
            #expect(try await catalog.entries(of: northbank.tenantID) == TenantGatewayEntries())
            #expect(try await Self.actions(store, northbank) == before)
        }
    }

    @Test(
        "A stored secret is sealed: the row holds no plaintext, another key or another tenant's row does not open, and the API lists names only",
        arguments: TestEngine.all
    )
    func sealedCredentials(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            let catalog = store.gatewayCatalog
            let key = MasterKey.generate()
            let secret = "sk-live-4f9a1c0d2e3b4a5f6e7d8c9b0a1f2e3d"
            #expect(try await catalog.setCredential("openai", secret: secret, tenant: northbank.tenantID, actor: "cli", key: key) == false)
            #expect(try await catalog.secret(ofCredential: "openai", tenant: northbank.tenantID, key: key) == secret)

            let row = try #require(
                try await store.database.transaction(.platform) { transaction in
                    try await transaction.sql.raw("SELECT * FROM gateway_credentials WHERE tenant_id = \(bind: northbank.tenantID.description)")
                        .first()
                }
            )
            let nonce = try row.decode(column: "nonce", as: Data.self)
            let ciphertext = try row.decode(column: "ciphertext", as: Data.self)
            #expect(nonce.count == 12)
            #expect(ciphertext.count == secret.utf8.count + 16)
            #expect(ciphertext.range(of: Data(secret.utf8)) == nil && nonce.range(of: Data(secret.utf8)) == nil)
            #expect(!row.allColumns.contains { column in (try? row.decode(column: column, as: String.self))?.contains("sk-live") == true })

            // Another master key does not open it.
            await #expect {
                try await catalog.secret(ofCredential: "openai", tenant: northbank.tenantID, key: .generate())
            } throws: { error in
                (error as? CairnError)?.code == .integrityViolation
            }
            // The row copied into another tenant, or under another name, does not open either:
            // the tenant and the name are authenticated.
            try await store.database.transaction(.platform) { transaction in
                for (tenant, name) in [(southbank.tenantID.description, "openai"), (northbank.tenantID.description, "renamed")] {
                    try await transaction.sql.raw(
                        """
                        INSERT INTO gateway_credentials (tenant_id, name, nonce, ciphertext, created_at, created_by)
                        VALUES (\(bind: tenant), \(bind: name), \(bind: nonce), \(bind: ciphertext), 0, 'mallory')
                        """
                    ).run()
                }
            }
            for (tenant, name) in [(southbank.tenantID, "openai"), (northbank.tenantID, "renamed")] {
                await #expect {
                    try await catalog.secret(ofCredential: name, tenant: tenant, key: key)
                } throws: { error in
                    (error as? CairnError)?.code == .integrityViolation && !(error as! CairnError).message.contains(secret)
                }
            }

            // Replacing seals afresh; listing shows names and creators only.
            #expect(
                try await catalog.setCredential("openai", secret: "sk-rotated", tenant: northbank.tenantID, actor: "api_key:ops", key: key) == true
            )
            #expect(try await catalog.secret(ofCredential: "openai", tenant: northbank.tenantID, key: key) == "sk-rotated")
            #expect(try await catalog.credentials(of: northbank.tenantID).map(\.name) == ["openai", "renamed"])
            #expect(try await catalog.credentials(of: northbank.tenantID).first?.createdBy == "api_key:ops")
            let events = try await store.audit.page(for: northbank, filter: .init(action: "gateway.credential.set"), before: nil, limit: 10).events
            #expect(events.count == 2)
            #expect(events.allSatisfy { event in !event.record.details.values.contains { $0.contains("sk-") } })
        }
    }

    @Test("A credential in use cannot be deleted; secrets with control characters or over the size limit are refused", arguments: TestEngine.all)
    func credentialRules(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank")
            let catalog = store.gatewayCatalog
            let tenant = northbank.tenantID
            let key = MasterKey.generate()
            try await catalog.setCredential("own-key", secret: "sk-1", tenant: tenant, actor: "cli", key: key)
            try await catalog.apply(.putProvider(Self.provider), tenant: tenant, actor: "cli") { _ in }
            await #expect { try await catalog.deleteCredential("own-key", tenant: tenant, actor: "cli") } throws: { error in
                (error as? CairnError)?.code == .conflict && (error as? CairnError)?.message.contains("'own'") == true
            }
            try await catalog.apply(.deleteProvider("own"), tenant: tenant, actor: "cli") { _ in }
            try await catalog.deleteCredential("own-key", tenant: tenant, actor: "cli")
            #expect(try await catalog.credentials(of: tenant).isEmpty)
            await #expect { try await catalog.deleteCredential("own-key", tenant: tenant, actor: "cli") } throws: { error in
                (error as? CairnError)?.code == .notFound
            }
            for (name, secret) in [
                ("crlf", "sk-1\r\nX-Injected: yes"), ("huge", String(repeating: "k", count: GatewayCatalogRepository.maximumSecretLength + 1)),
                ("empty", ""), ("bad name", "sk-1"),
            ] {
                await #expect {
                    try await catalog.setCredential(name, secret: secret, tenant: tenant, actor: "cli", key: key)
                } throws: { error in
                    (error as? CairnError)?.code == .invalidInput
                }
            }
        }
    }

    @Test("The master key is 32 bytes of base64 and never shows in a description")
    func masterKey() throws {
        let text = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let key = try MasterKey(base64: text + "\n")
        #expect("\(key)" == "<redacted>")
        #expect(!String(reflecting: key).contains(text))
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains(text.prefix(8)))
        for bad in ["", "not base64!", Data(count: 16).base64EncodedString(), Data(count: 33).base64EncodedString()] {
            #expect(throws: CairnError.self) { try MasterKey(base64: bad) }
        }
    }
}
