import ArgumentParser
import CairnCore
import CairnDemo
import CairnDocuments
import CairnRuntime
import CairnStore
import Foundation
import Logging

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The demo corpus: synthetic bank policies to ask questions of.",
        subcommands: [DemoSeedCommand.self]
    )
}

struct DemoSeedCommand: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Create the tenant if needed, render the demo policies as PDFs and ingest them approved into 'policies'.",
        discussion: """
            Run again, it changes nothing: the tenant is reused and identical PDFs are left as they are. Edited \
            policies become new versions.
            """
    )

    @OptionGroup var logging: LoggingOptions

    @Option(help: "The folder of Markdown policies.")
    var corpus: String = "demo/policies"

    @OptionGroup var tenant: DefaultTenantOption

    func run(settings: Settings, logger: Logger) async throws {
        let tenantName = try TenantName(tenant.tenant)
        let policies = try DemoCorpus(folder: URL(fileURLWithPath: corpus)).renderPDFs(into: settings.demoDirectory)
        try await withStore(settings, logger: logger) { store in
            if try await store.tenants.find(name: tenantName) == nil {
                let created = try await store.tenants.create(name: tenantName, actor: "cli")
                print("Created tenant \(created.name) (\(created.id)).")
            }
        }
        try await IngestCommand.ingest(
            policies.map { IngestCommand.IngestFile(url: $0.pdf, title: $0.title) },
            tenant: tenantName,
            collection: "policies",
            policy: DocumentAccessPolicy(classification: .internal),
            approve: true,
            settings: settings,
            logger: logger
        )
        print("Ask away: cairn ask --tenant \(tenantName) \"What must the Board approve about technology risk appetite?\"")
    }
}
