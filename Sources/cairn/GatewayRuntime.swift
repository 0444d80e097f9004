import CairnAssistant
import CairnCore
import CairnEmbed
import CairnGateway
import CairnRuntime
import CairnStore
import Logging
import ServiceLifecycle

/// The model gateway as a process wires it: the platform catalog laid under tenants' own
/// entries, stored credentials sealed with the master key, and the ledger.
struct GatewayRuntime: Sendable {
    let gateway: ModelGateway
    let platformCatalog: GatewayCatalog
    let masterKey: MasterKey?
    /// The ledger writer and the deployments' connection pools: services to run while the
    /// gateway is used, started before it and stopped after.
    let bookkeeping: GatewayBookkeeping
    let deployments: DeploymentPool
    /// The model the assistant writes answers and agent runs think with, when configured.
    let answerRoute: AnswerRoute?
    /// The model asked about each claim verification finds supported, when configured.
    let judgeRoute: AnswerRoute?

    var services: [any Service] { [bookkeeping, deployments] }

    /// For a one-shot command that used the gateway without running its services: writes the
    /// ledger and closes the deployments' connections.
    func finish() async throws {
        try await bookkeeping.flush()
        try await deployments.shutdown()
    }

    static func load(_ settings: Settings, store: CairnStore, localEmbedder: LocalSentenceEmbedder?, logger: Logger) throws -> GatewayRuntime {
        let deployments = DeploymentPool()
        let bookkeeping = GatewayBookkeeping(books: store.gatewayBooks, logger: logger)
        let platformCatalog = try settings.gatewayCatalog
        let masterKey = try settings.masterKey
        if masterKey == nil {
            logger.notice("No master key is configured (CAIRN_MASTER_KEY); tenants cannot store provider credentials.")
        }
        let gateway = ModelGateway(
            catalogs: StoredGatewayCatalog(platform: platformCatalog, repository: store.gatewayCatalog),
            pool: deployments,
            credentials: StoredCredentials(repository: store.gatewayCatalog, masterKey: masterKey),
            localEmbedder: localEmbedder,
            bookkeeping: bookkeeping,
            logger: logger
        )
        return GatewayRuntime(
            gateway: gateway,
            platformCatalog: platformCatalog,
            masterKey: masterKey,
            bookkeeping: bookkeeping,
            deployments: deployments,
            answerRoute: settings.assistantModel.map { AnswerRoute(gateway: gateway, model: $0) },
            judgeRoute: settings.assistantJudgeModel.map { AnswerRoute(gateway: gateway, model: $0) }
        )
    }
}
