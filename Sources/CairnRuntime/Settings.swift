package import CairnAssistant
package import CairnCore
package import CairnEmbed
package import CairnGateway
package import CairnIdentity
package import CairnJobs
package import CairnServer
package import CairnStore
import Configuration
package import Foundation
package import Logging

/// Every configuration key Cairn reads, in one table: its environment variable, default,
/// whether it is secret, and what it means. `cairn config` prints this table resolved.
///
/// Precedence: command line → environment → config file (`CAIRN_CONFIG_FILE`, JSON with the
/// same dotted keys nested) → the defaults below.
package struct Setting: Sendable {
    package let key: String
    package let defaultValue: String?
    package let isSecret: Bool
    package let summary: String

    /// The environment variable swift-configuration maps the key to (`cairn.http.port` → `CAIRN_HTTP_PORT`).
    package var environmentName: String { key.uppercased().replacingOccurrences(of: ".", with: "_") }

    package static let home = Setting(
        key: "cairn.home",
        defaultValue: "./.cairn",
        isSecret: false,
        summary: "Directory for the embedded database, blobs and the embedding model."
    )
    package static let databaseURL = Setting(
        key: "cairn.database.url",
        defaultValue: nil,
        isSecret: true,
        summary: "postgres://… to use PostgreSQL; unset for embedded SQLite under cairn.home."
    )
    package static let httpHost = Setting(key: "cairn.http.host", defaultValue: "127.0.0.1", isSecret: false, summary: "Address to listen on.")
    package static let httpPort = Setting(key: "cairn.http.port", defaultValue: "8080", isSecret: false, summary: "Port to listen on (--port).")
    package static let maximumBodyBytes = Setting(
        key: "cairn.http.max.body.bytes",
        defaultValue: "1048576",
        isSecret: false,
        summary: "Largest request body accepted, in bytes."
    )
    package static let corsOrigins = Setting(
        key: "cairn.cors.origins",
        defaultValue: "",
        isSecret: false,
        summary: "Comma-separated browser origins allowed by CORS; empty disables CORS."
    )
    package static let operatorToken = Setting(
        key: "cairn.operator.token",
        defaultValue: nil,
        isSecret: true,
        summary: "Platform operator bearer token (tenant administration); unset disables it over HTTP."
    )
    package static let authCacheSeconds = Setting(
        key: "cairn.auth.cache.seconds",
        defaultValue: "30",
        isSecret: false,
        summary: "How long a verified credential is reused; bounds revocation delay on other nodes."
    )
    package static let oidcJWKS = Setting(
        key: "cairn.oidc.jwks",
        defaultValue: nil,
        isSecret: false,
        summary: "JWKS of the OIDC provider: an https:// URL or a file path; unset disables OIDC."
    )
    package static let oidcIssuer = Setting(key: "cairn.oidc.issuer", defaultValue: nil, isSecret: false, summary: "Required `iss` of OIDC tokens.")
    package static let oidcAudience = Setting(
        key: "cairn.oidc.audience",
        defaultValue: nil,
        isSecret: false,
        summary: "Required `aud` of OIDC tokens."
    )
    package static let oidcClockSkew = Setting(
        key: "cairn.oidc.clock.skew.seconds",
        defaultValue: "60",
        isSecret: false,
        summary: "Tolerance on `exp` and `nbf`."
    )
    package static let claimTenant = Setting(
        key: "cairn.oidc.claim.tenant",
        defaultValue: "tenant",
        isSecret: false,
        summary: "Claim naming the tenant."
    )
    package static let claimSubject = Setting(
        key: "cairn.oidc.claim.subject",
        defaultValue: "sub",
        isSecret: false,
        summary: "Claim naming the subject."
    )
    package static let claimRoles = Setting(key: "cairn.oidc.claim.roles", defaultValue: "roles", isSecret: false, summary: "Claim listing roles.")
    package static let claimGroups = Setting(
        key: "cairn.oidc.claim.groups",
        defaultValue: "groups",
        isSecret: false,
        summary: "Claim listing groups."
    )
    package static let claimEntity = Setting(
        key: "cairn.oidc.claim.entity",
        defaultValue: "entity",
        isSecret: false,
        summary: "Claim listing legal entities."
    )
    package static let claimBranch = Setting(
        key: "cairn.oidc.claim.branch",
        defaultValue: "branch",
        isSecret: false,
        summary: "Claim listing branches."
    )
    package static let claimClearance = Setting(
        key: "cairn.oidc.claim.clearance",
        defaultValue: "clearance",
        isSecret: false,
        summary: "Claim giving the clearance level."
    )
    package static let jobsConcurrency = Setting(
        key: "cairn.jobs.concurrency",
        defaultValue: "4",
        isSecret: false,
        summary: "Jobs a worker process runs at once (--concurrency)."
    )
    package static let jobsTenantConcurrency = Setting(
        key: "cairn.jobs.tenant.concurrency",
        defaultValue: "4",
        isSecret: false,
        summary: "Jobs one tenant may have running at once across all workers."
    )
    package static let jobsLeaseSeconds = Setting(
        key: "cairn.jobs.lease.seconds",
        defaultValue: "30",
        isSecret: false,
        summary: "Lease on a running job; heartbeats renew it every third."
    )
    package static let jobsGraceSeconds = Setting(
        key: "cairn.jobs.grace.seconds",
        defaultValue: "10",
        isSecret: false,
        summary: "On SIGTERM, how long in-flight jobs may finish before they are handed back."
    )
    package static let jobsPollMilliseconds = Setting(
        key: "cairn.jobs.poll.milliseconds",
        defaultValue: "1000",
        isSecret: false,
        summary: "How often an idle worker looks for work without a notification."
    )
    package static let queueTenantMax = Setting(
        key: "cairn.jobs.queue.tenant.max",
        defaultValue: "10000",
        isSecret: false,
        summary: "Waiting jobs one tenant may have; past it enqueueing answers 429."
    )
    package static let queueMax = Setting(
        key: "cairn.jobs.queue.max",
        defaultValue: "100000",
        isSecret: false,
        summary: "Waiting jobs across all tenants; past it enqueueing answers 429."
    )
    package static let jobsRetentionDays = Setting(
        key: "cairn.jobs.retention.days",
        defaultValue: "30",
        isSecret: false,
        summary: "Finished jobs (succeeded, cancelled, dead) older than this are pruned."
    )
    package static let scheduleRetention = Setting(
        key: "cairn.schedule.retention",
        defaultValue: "15 3 * * *",
        isSecret: false,
        summary: "When the retention task runs (cron, UTC)."
    )
    package static let scheduleAgentRunSweep = Setting(
        key: "cairn.schedule.agent.sweep",
        defaultValue: "*/5 * * * *",
        isSecret: false,
        summary: "When agent runs left running with no job are failed (cron, UTC)."
    )
    package static let scheduleAuditVerify = Setting(
        key: "cairn.schedule.audit.verify",
        defaultValue: "45 2 * * *",
        isSecret: false,
        summary: "When every audit chain is re-verified (cron, UTC)."
    )
    package static let idempotencyHours = Setting(
        key: "cairn.idempotency.hours",
        defaultValue: "24",
        isSecret: false,
        summary: "How long an Idempotency-Key's response is kept for replay."
    )
    package static let uploadMaxBytes = Setting(
        key: "cairn.upload.max.bytes",
        defaultValue: "104857600",
        isSecret: false,
        summary: "Largest document upload accepted, in bytes."
    )
    package static let ocrLanguage = Setting(
        key: "cairn.ocr.language",
        defaultValue: "eng",
        isSecret: false,
        summary: "Tesseract language(s) for pages without a text layer, e.g. eng or eng+deu; 'none' disables OCR."
    )
    package static let embeddingURL = Setting(
        key: "cairn.embedding.url",
        defaultValue: nil,
        isSecret: false,
        summary: "Base URL of an OpenAI-compatible embeddings server (…/v1); unset runs the model in process."
    )
    package static let embeddingModel = Setting(
        key: "cairn.embedding.model",
        defaultValue: "sentence-transformers/all-MiniLM-L6-v2",
        isSecret: false,
        summary: "Model name sent to the embeddings server."
    )
    package static let embeddingDimension = Setting(
        key: "cairn.embedding.dimension",
        defaultValue: "384",
        isSecret: false,
        summary: "Length of the embeddings server's vectors."
    )
    package static let embeddingAPIKey = Setting(
        key: "cairn.embedding.api.key",
        defaultValue: nil,
        isSecret: true,
        summary: "Bearer token for the embeddings server, if it needs one."
    )
    package static let gatewayCatalog = Setting(
        key: "cairn.gateway.catalog",
        defaultValue: nil,
        isSecret: false,
        summary: "JSON file listing the platform's model providers, deployments and aliases; unset serves no models."
    )
    package static let assistantModel = Setting(
        key: "cairn.assistant.model",
        defaultValue: nil,
        isSecret: false,
        summary: "The gateway model (an alias) that writes generative answers; unset answers extractively."
    )
    package static let assistantJudgeModel = Setting(
        key: "cairn.assistant.judge.model",
        defaultValue: nil,
        isSecret: false,
        summary:
            "A gateway model asked about every claim verification finds supported (a second opinion that can only remove claims); unset asks none."
    )
    package static let agentFourEyes = Setting(
        key: "cairn.agent.four.eyes",
        defaultValue: "false",
        isSecret: false,
        summary:
            "true: a run's side-effecting calls are approved by someone other than its starter (a manager); false: the starter may approve them too."
    )
    package static let masterKey = Setting(
        key: "cairn.master.key",
        defaultValue: nil,
        isSecret: true,
        summary: "Base64 of 32 random bytes sealing tenants' stored provider credentials (AES-256-GCM); unset refuses to store them."
    )
    package static let masterKeyFile = Setting(
        key: "cairn.master.key.file",
        defaultValue: nil,
        isSecret: false,
        summary: "A file holding the master key's base64 (a mounted secret), instead of cairn.master.key."
    )
    package static let logLevel = Setting(
        key: "cairn.log.level",
        defaultValue: "info",
        isSecret: false,
        summary: "trace, debug, info, notice, warning, error or critical."
    )
    package static let otlpEndpoint = Setting(
        key: "otel.exporter.otlp.endpoint",
        defaultValue: nil,
        isSecret: false,
        summary: "OTLP/HTTP collector base URL; spans go to <url>/v1/traces."
    )

    package static let all: [Setting] = [
        home, databaseURL, httpHost, httpPort, maximumBodyBytes, corsOrigins, operatorToken, authCacheSeconds,
        oidcJWKS, oidcIssuer, oidcAudience, oidcClockSkew, claimTenant, claimSubject, claimRoles, claimGroups,
        claimEntity, claimBranch, claimClearance, jobsConcurrency, jobsTenantConcurrency, jobsLeaseSeconds, jobsGraceSeconds,
        jobsPollMilliseconds, queueTenantMax, queueMax, jobsRetentionDays, scheduleRetention, scheduleAuditVerify, scheduleAgentRunSweep,
        idempotencyHours,
        uploadMaxBytes, ocrLanguage, embeddingURL, embeddingModel, embeddingDimension, embeddingAPIKey, gatewayCatalog, assistantModel,
        assistantJudgeModel, agentFourEyes, masterKey, masterKeyFile,
        logLevel, otlpEndpoint,
    ]
}

/// The resolved configuration: a `ConfigReader` over the provider chain, read through `Setting`s.
package struct Settings: Sendable {
    private let providers: [any ConfigProvider]
    private let reader: ConfigReader

    /// - Parameter arguments: values given on the command line, by setting.
    package static func load(
        arguments: [Setting: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(CairnError) -> Settings {
        let secretVariables = Set(Setting.all.filter(\.isSecret).map(\.environmentName))
        var providers: [any ConfigProvider] = [
            InMemoryProvider(
                name: "command line",
                values: Dictionary(
                    uniqueKeysWithValues: arguments.map { setting, value in
                        (
                            AbsoluteConfigKey(setting.key.split(separator: ".").map(String.init)),
                            ConfigValue(.string(value), isSecret: setting.isSecret)
                        )
                    }
                )
            ),
            EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretVariables)),
        ]
        if let path = environment["CAIRN_CONFIG_FILE"], !path.isEmpty {
            do {
                let location = ConfigReader(provider: InMemoryProvider(values: ["filePath": .init(.string(path), isSecret: false)]))
                let secretKeys = Set(Setting.all.filter(\.isSecret).map(\.key))
                providers.append(
                    try await FileProvider<JSONSnapshot>(parsingOptions: .init(secretsSpecifier: .specific(secretKeys)), config: location)
                )
            } catch {
                throw CairnError(.misconfigured, "The config file \(path) cannot be read as JSON.", underlying: error)
            }
        }
        return Settings(providers: providers, reader: ConfigReader(providers: providers))
    }

    private init(providers: [any ConfigProvider], reader: ConfigReader) {
        self.providers = providers
        self.reader = reader
    }

    /// The setting's effective text; an empty value counts as unset and falls back to the default.
    package func string(_ setting: Setting) -> String? {
        let value = Self.text(reader, ConfigKey(setting.key.split(separator: ".").map(String.init)), isSecret: setting.isSecret)
        return (value?.isEmpty ?? true) ? setting.defaultValue.flatMap { $0.isEmpty ? nil : $0 } : value
    }

    package func boolean(_ setting: Setting) throws(CairnError) -> Bool {
        let text = string(setting) ?? setting.defaultValue ?? ""
        // A JSON config file's `true` reaches here as "1": swift-configuration's JSON snapshot
        // reads booleans as numbers.
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw CairnError(.misconfigured, "\(setting.environmentName) must be true or false; '\(text.prefix(40))' is not.")
        }
    }

    package func integer(_ setting: Setting, in range: ClosedRange<Int>) throws(CairnError) -> Int {
        let text = string(setting) ?? setting.defaultValue ?? ""
        guard let value = Int(text), range.contains(value) else {
            throw CairnError(
                .misconfigured,
                "\(setting.environmentName) must be a whole number from \(range.lowerBound) to \(range.upperBound); '\(text)' is not."
            )
        }
        return value
    }

    /// Names of the providers, in precedence order, for `cairn config`.
    private static let sourceNames = ["command line", "environment", "config file"]

    /// Each setting with its effective value and where it came from; secrets redacted.
    package func describe() -> [(setting: Setting, value: String, source: String)] {
        Setting.all.map { setting in
            let key = ConfigKey(setting.key.split(separator: ".").map(String.init))
            let index = providers.firstIndex { Self.text(ConfigReader(provider: $0), key).map { !$0.isEmpty } ?? false }
            let source = index.map { Self.sourceNames[$0] } ?? (setting.defaultValue?.isEmpty == false ? "default" : "unset")
            let shown = string(setting).map { setting.isSecret ? "<redacted>" : $0 } ?? "<unset>"
            return (setting, shown, source)
        }
    }

    /// Checks that every setting parses, so `cairn config` fails on the values `serve` would.
    package func validate() throws(CairnError) {
        _ = try databaseLocation
        _ = try logLevel
        _ = try server
        _ = try oidc
        _ = try integer(.authCacheSeconds, in: 0...3600)
        _ = try worker
        _ = try queueLimits
        _ = try idempotencyRetention
        _ = try recurringTasks(store: nil)
        _ = try uploadLimit
        _ = try ocrLanguage
        _ = try remoteEmbedder
        _ = try gatewayCatalog
        _ = try agentApprovals
        _ = try masterKey
    }

    /// A value as text, whether the source holds it as a string or (JSON files) a number or bool.
    private static func text(_ reader: ConfigReader, _ key: ConfigKey, isSecret: Bool = false) -> String? {
        reader.string(forKey: key, isSecret: isSecret)
            ?? reader.int(forKey: key, isSecret: isSecret).map(String.init)
            ?? reader.double(forKey: key, isSecret: isSecret).map { String($0) }
            ?? reader.bool(forKey: key, isSecret: isSecret).map(String.init)
    }

    // MARK: Typed views

    package var databaseLocation: DatabaseLocation {
        get throws(CairnError) {
            try DatabaseLocation.resolve(databaseURL: string(.databaseURL), home: home)
        }
    }

    /// `cairn.home`; it has a default, so it is never unset.
    private var home: String { string(.home) ?? "./.cairn" }

    /// Where `scripts/setup.sh` puts all-MiniLM-L6-v2: `models/` under the home directory.
    package var embeddingModelDirectory: URL {
        URL(fileURLWithPath: home).appendingPathComponent("models/all-MiniLM-L6-v2")
    }

    /// The embeddings server, when one is configured instead of the in-process model.
    package var remoteEmbedder: RemoteSentenceEmbedder? {
        get throws(CairnError) {
            guard let url = string(.embeddingURL) else { return nil }
            return try RemoteSentenceEmbedder(
                baseURL: url,
                model: string(.embeddingModel) ?? "sentence-transformers/all-MiniLM-L6-v2",
                dimension: try integer(.embeddingDimension, in: 1...8192),
                apiKey: string(.embeddingAPIKey)
            )
        }
    }

    /// The gateway model that writes generative answers, if one is configured.
    package var assistantModel: String? { string(.assistantModel) }
    package var assistantJudgeModel: String? { string(.assistantJudgeModel) }

    /// Who may approve the side-effecting call an agent run waits on.
    package var agentApprovals: AgentApprovalRule {
        get throws(CairnError) { try boolean(.agentFourEyes) ? .fourEyes : .starterOrManager }
    }

    /// The platform's model catalog, from the file `cairn.gateway.catalog` names; empty when unset.
    package var gatewayCatalog: GatewayCatalog {
        get throws(CairnError) {
            guard let path = string(.gatewayCatalog) else { return GatewayCatalog() }
            return try GatewayCatalogDocument.load(path)
        }
    }

    /// The key tenants' stored provider credentials are sealed with, from `cairn.master.key` or
    /// the file `cairn.master.key.file` names; `nil` when neither is set.
    package var masterKey: MasterKey? {
        get throws(CairnError) {
            switch (string(.masterKey), string(.masterKeyFile)) {
            case (nil, nil):
                return nil
            case (.some, .some):
                throw CairnError(.misconfigured, "Set CAIRN_MASTER_KEY or CAIRN_MASTER_KEY_FILE, not both.")
            case (let text?, nil):
                do {
                    return try MasterKey(base64: text)
                } catch {
                    throw CairnError(.misconfigured, "CAIRN_MASTER_KEY: \(error.message)")
                }
            case (nil, let path?):
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                    throw CairnError(.misconfigured, "The master key file \(path) (CAIRN_MASTER_KEY_FILE) cannot be read.")
                }
                do {
                    return try MasterKey(base64: text)
                } catch {
                    throw CairnError(.misconfigured, "The master key file \(path): \(error.message)")
                }
            }
        }
    }

    /// Derived data that can be rebuilt (embedding caches).
    package var cacheDirectory: URL {
        URL(fileURLWithPath: home).appendingPathComponent("cache")
    }

    /// The demo policies rendered as PDFs, as `cairn demo seed` uploads them.
    package var demoDirectory: URL {
        URL(fileURLWithPath: home).appendingPathComponent("demo")
    }

    /// Uploaded files, content-addressed.
    package var blobDirectory: URL {
        URL(fileURLWithPath: home).appendingPathComponent("blobs")
    }

    package var uploadLimit: Int {
        get throws(CairnError) { try integer(.uploadMaxBytes, in: 1...(1 << 34)) }
    }

    /// Tesseract's language for OCR; `nil` leaves pages without a text layer empty.
    package var ocrLanguage: String? {
        get throws(CairnError) {
            let text = string(.ocrLanguage) ?? "eng"
            if text == "none" { return nil }
            guard text.utf8.allSatisfy({ (97...122).contains($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "_") }) else {
                throw CairnError(
                    .misconfigured,
                    "CAIRN_OCR_LANGUAGE must name Tesseract languages such as eng or eng+deu, or be none; '\(text.prefix(40))' is not."
                )
            }
            return text
        }
    }

    package var logLevel: Logger.Level {
        get throws(CairnError) {
            let text = string(.logLevel) ?? "info"
            guard let level = Logger.Level(rawValue: text) else {
                throw CairnError(
                    .misconfigured,
                    "CAIRN_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical; '\(text)' is not."
                )
            }
            return level
        }
    }

    package var server: ServerConfiguration {
        get throws(CairnError) {
            ServerConfiguration(
                host: string(.httpHost) ?? "127.0.0.1",
                port: try integer(.httpPort, in: 0...65535),
                corsAllowedOrigins: (string(.corsOrigins) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                },
                maximumBodyBytes: try integer(.maximumBodyBytes, in: 1024...(1 << 30)),
                idempotencyRetention: try idempotencyRetention
            )
        }
    }

    package var worker: WorkerConfiguration {
        get throws(CairnError) {
            let lease = try integer(.jobsLeaseSeconds, in: 2...3600)
            return WorkerConfiguration(
                concurrency: try integer(.jobsConcurrency, in: 1...256),
                perTenantConcurrency: try integer(.jobsTenantConcurrency, in: 1...10_000),
                lease: .seconds(lease),
                pollInterval: .milliseconds(try integer(.jobsPollMilliseconds, in: 10...60_000)),
                gracePeriod: .seconds(try integer(.jobsGraceSeconds, in: 0...3600)),
                // Expired leases are looked for at least twice per lease, so a dead worker's
                // jobs wait at most about 1.5 leases.
                reapInterval: .seconds(max(1, min(5, lease / 2)))
            )
        }
    }

    package var queueLimits: QueueLimits {
        get throws(CairnError) {
            QueueLimits(perTenant: try integer(.queueTenantMax, in: 1...100_000_000), total: try integer(.queueMax, in: 1...1_000_000_000))
        }
    }

    /// The platform's recurring tasks; with no store, only checks that their settings parse.
    package func recurringTasks(store: CairnStore?) throws(CairnError) -> [RecurringTask] {
        let keep = Duration.seconds(86_400 * (try integer(.jobsRetentionDays, in: 1...36_500)))
        let retention = try schedule(.scheduleRetention)
        let audit = try schedule(.scheduleAuditVerify)
        let sweep = try schedule(.scheduleAgentRunSweep)
        guard let store else { return [] }
        return [
            .retention(store: store, schedule: retention, keepFinishedJobs: keep),
            .auditVerification(store: store, schedule: audit),
            .agentRunSweep(store: store, schedule: sweep),
        ]
    }

    private func schedule(_ setting: Setting) throws(CairnError) -> CronSchedule {
        do {
            return try CronSchedule(string(setting) ?? setting.defaultValue ?? "")
        } catch {
            throw CairnError(.misconfigured, "\(setting.environmentName): \(error.message)")
        }
    }

    package var idempotencyRetention: Duration {
        get throws(CairnError) { .seconds(3600 * (try integer(.idempotencyHours, in: 1...24 * 365))) }
    }

    package var oidc: (jwks: String, configuration: OIDCConfiguration)? {
        get throws(CairnError) {
            guard let jwks = string(.oidcJWKS) else { return nil }
            guard let issuer = string(.oidcIssuer), let audience = string(.oidcAudience) else {
                throw CairnError(.misconfigured, "CAIRN_OIDC_JWKS is set, so CAIRN_OIDC_ISSUER and CAIRN_OIDC_AUDIENCE must be set too.")
            }
            var claims = ClaimMapping()
            claims.tenant = string(.claimTenant) ?? claims.tenant
            claims.subject = string(.claimSubject) ?? claims.subject
            claims.roles = string(.claimRoles) ?? claims.roles
            claims.groups = string(.claimGroups) ?? claims.groups
            claims.entity = string(.claimEntity) ?? claims.entity
            claims.branch = string(.claimBranch) ?? claims.branch
            claims.clearance = string(.claimClearance) ?? claims.clearance
            let skew = try integer(.oidcClockSkew, in: 0...3600)
            return (jwks, OIDCConfiguration(issuer: issuer, audience: audience, clockSkew: TimeInterval(skew), claims: claims))
        }
    }
}

extension Setting: Hashable {
    package static func == (lhs: Setting, rhs: Setting) -> Bool { lhs.key == rhs.key }
    package func hash(into hasher: inout Hasher) { hasher.combine(key) }
}
