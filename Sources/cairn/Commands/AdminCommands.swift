import ArgumentParser
import CairnCore
import CairnRuntime
import CairnStore
import Foundation
import Logging

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Manage tenants.", subcommands: [Create.self])

    struct Create: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "Tenant name: lowercase letters, digits and inner hyphens.")
        var name: String

        func run(settings: Settings, logger: Logger) async throws {
            let name = try TenantName(name)
            let tenant = try await withStore(settings, logger: logger) { store in
                try await store.tenants.create(name: name, actor: "cli")
            }
            print("Created tenant \(tenant.name) (\(tenant.id))")
        }
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Manage API keys.", subcommands: [Create.self, Revoke.self])

    struct Create: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key. The key is printed alone on the last line of standard output."
        )

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: TenantOption

        @Option(help: "Role: admin, curator, analyst, reviewer, viewer or service. Repeat for several.")
        var role: [String]

        @Option(help: "Subject the key acts as (default: its name).")
        var subject: String?

        @Option(help: "Group membership. Repeat for several.")
        var group: [String] = []

        @Option(help: "Attribute as name=value: entity=E, branch=B (repeatable) or clearance=LEVEL.")
        var attr: [String] = []

        @Option(help: "A label for the key (default: cli-<first role>).")
        var name: String?

        @Option(help: "Days until the key expires (default: never).")
        var expiresInDays: Int?

        func run(settings: Settings, logger: Logger) async throws {
            let roles = try role.map { text throws(CairnError) -> Role in try parseChoice(text, as: "a role") }
            guard !roles.isEmpty else { throw CairnError(.invalidInput, "Give at least one --role.") }
            let attributes = try Self.parse(attributes: attr)
            if let expiresInDays, !(1...3650).contains(expiresInDays) {
                throw CairnError(.invalidInput, "--expires-in-days must be between 1 and 3650.")
            }
            let keyName = name ?? "cli-\(roles[0].rawValue)"
            let grant = APIKeyGrant(subject: subject ?? keyName, roles: Set(roles), groups: group, attributes: attributes)
            let expiresAt = expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
            let created = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.apiKeys.create(by: administrator, name: keyName, grant: grant, expiresAt: expiresAt)
            }
            print("Created API key \(created.key.id) for \(tenant.tenant) with roles \(roles.map(\.rawValue).joined(separator: ","))")
            print("Store it now; it cannot be shown again:")
            print(created.secret.token)
        }

        static func parse(attributes: [String]) throws(CairnError) -> AccessAttributes {
            var result = AccessAttributes()
            for attribute in attributes {
                let parts = attribute.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].isEmpty else {
                    throw CairnError(.invalidInput, "--attr takes name=value; '\(attribute)' is not.")
                }
                switch parts[0] {
                case "entity": result.entities.append(parts[1])
                case "branch": result.branches.append(parts[1])
                case "clearance":
                    guard let level = Classification(rawValue: parts[1]) else {
                        throw CairnError(.invalidInput, "clearance must be public, internal, confidential or restricted; '\(parts[1])' is not.")
                    }
                    result.clearance = level
                default:
                    throw CairnError(.invalidInput, "Unknown attribute '\(parts[0])'; use entity, branch or clearance.")
                }
            }
            return result
        }
    }

    struct Revoke: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by id.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The key id (a UUID, as listed by GET /v1/api-keys).")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let key = try await asOwningTenantAdministrator(
                of: id,
                noun: "an API key id",
                settings,
                logger: logger,
                owner: { try await $0.apiKeys.tenant(ofKey: $1) },
                { try await $0.apiKeys.revoke($1, by: $2) }
            )
            print("Revoked API key \(key.id) (\(key.name)). Nodes that cached it stop accepting it within CAIRN_AUTH_CACHE_SECONDS.")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Check the audit trail.", subcommands: [Verify.self])

    struct Verify: CairnCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every tenant's audit hash chain. Exits 0 when intact, 1 naming the first broken event."
        )

        @OptionGroup var logging: LoggingOptions

        @Option(help: "Only this tenant.")
        var tenant: String?

        func run(settings: Settings, logger: Logger) async throws {
            let tenantName = try tenant.map { name throws(CairnError) in try TenantName(name) }
            let results = try await withStore(settings, logger: logger) { store in
                try await store.audit.verify(tenantName: tenantName)
            }
            var broken = false
            for result in results {
                if let firstBreak = result.firstBreak {
                    broken = true
                    print("BROKEN \(result.tenant.name): \(firstBreak) — \(result.eventCount) events verified before it")
                } else {
                    print("OK \(result.tenant.name): \(result.eventCount) events")
                }
            }
            if broken { throw ExitCode.failure }
        }
    }
}

struct ConfigCommand: CairnCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Print the effective configuration, secrets redacted.")

    @OptionGroup var logging: LoggingOptions

    func run(settings: Settings, logger: Logger) async throws {
        try settings.validate()
        for (setting, value, source) in settings.describe() {
            print("\(setting.environmentName)=\(value)  # \(source); \(setting.summary)")
        }
    }
}
