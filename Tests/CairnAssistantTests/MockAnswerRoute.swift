import CairnAssistant
import CairnCore
import CairnGateway
import CairnMockLLM
import CairnStore
import Logging

/// Runs `body` with the `mock` provider on loopback and a gateway, its books on `store`, that
/// routes the model `answers` to the mock's `writer-model` (and `judge` to its `judge-model`);
/// the gateway's clients close after.
func withMockAnswerRoute(store: CairnStore, _ body: @Sendable (AnswerRoute, MockScript) async throws -> Void) async throws {
    try await MockModelServer.withRunning { mock in
        let catalog = GatewayCatalog(
            providers: [ModelProviderConfiguration(name: "mock", kind: .mock, baseURL: mock.baseURL + "/v1")],
            deployments: [
                ModelDeployment(name: "writer", provider: "mock", model: "writer-model"),
                ModelDeployment(name: "judge", provider: "mock", model: "judge-model"),
            ],
            aliases: [ModelAlias(name: "answers", deployments: ["writer"]), ModelAlias(name: "judge", deployments: ["judge"])]
        )
        let pool = DeploymentPool()
        let logger = Logger(label: "cairn.test.assistant")
        let gateway = ModelGateway(
            catalogs: FixedGatewayCatalog(catalog),
            pool: pool,
            credentials: ProviderCredentials(environment: [:]),
            localEmbedder: nil,
            bookkeeping: GatewayBookkeeping(books: store.gatewayBooks, logger: logger),
            logger: logger
        )
        do {
            try await body(AnswerRoute(gateway: gateway, model: "answers"), mock.script)
            try await pool.shutdown()
        } catch {
            try? await pool.shutdown()
            throw error
        }
    }
}
