import ArgumentParser
import CairnAssistant
import CairnCore
import CairnRuntime
import CairnServer
import CairnStore
import Foundation
import Logging

struct AskCommand: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask a question of a tenant's approved documents, as its local administrator.",
        discussion: """
            Prints the answer as it is written, then each citation (title, page, version, quote), or says that the \
            approved documents do not cover the question. With CAIRN_ASSISTANT_MODEL naming a gateway model, the \
            model writes the answer (streamed as it writes) and every sentence is verified against the page it cites.
            """
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "The question.")
    var question: String

    @Option(help: "auto (generative when CAIRN_ASSISTANT_MODEL is set), extractive or generative.")
    var mode: String = "auto"

    @Option(help: "Only this collection.")
    var collection: String?

    @OptionGroup var tenant: DefaultTenantOption

    func run(settings: Settings, logger: Logger) async throws {
        let tenantName = try TenantName(tenant.tenant)
        let mode: AnswerMode = try parseChoice(mode, as: "an answer mode")
        let runtime = try DocumentRuntime.load(settings, logger: logger)
        let answer = try await withStore(settings, logger: logger) { store in
            guard let tenant = try await store.tenants.find(name: tenantName) else {
                throw CairnError(.notFound, "There is no tenant named '\(tenantName)'; 'bash scripts/run.sh' creates it with the demo policies.")
            }
            let models = try GatewayRuntime.load(settings, store: store, localEmbedder: runtime.localEmbedder, logger: logger)
            let assistant = runtime.services(store: store, tenantQueueCap: 1, models: models, logger: logger).assistant
            do {
                let answer = try await Self.write(
                    assistant.stream(.init(question, collection: collection, mode: mode), for: .localAdministrator(of: tenant))
                )
                try await models.finish()
                return answer
            } catch {
                try? await models.finish()
                throw error
            }
        }
        guard answer.kind != .refusal else { return }
        print("")
        for (number, citation) in answer.citations.enumerated() {
            let quote = citation.quote.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            print("[\(number + 1)] \(citation.title), page \(citation.page) (version \(citation.versionNumber)): \"\(quote)\"")
        }
        switch answer.kind {
        case .generative: print("(generative answer: every sentence verified against the page it cites)")
        default: print("(\(answer.kind.rawValue) answer: quoted from the approved documents)")
        }
    }

    /// Writes the tokens as they arrive; when verification removed some of what the model wrote,
    /// says so and writes the answer as verified. Returns the answer.
    private static func write(_ events: AsyncStream<AnswerEvent>) async throws -> Answer {
        var written = ""
        for await event in events {
            switch event {
            case .token(let text):
                written += text
                FileHandle.standardOutput.write(Data(text.utf8))
            case .citation:
                break
            case .answer(let answer):
                print("")
                if answer.text != written {
                    print("\nVerification kept only what the cited pages support:\n\(answer.text)")
                }
                return answer
            case .failure(let error):
                print("")
                throw error
            }
        }
        throw CairnError(.internalFailure, "The answer's stream ended without an answer.")
    }
}
