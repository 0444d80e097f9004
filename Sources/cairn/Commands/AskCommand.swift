import ArgumentParser
import CairnAssistant
import CairnCore
import CairnServer
import CairnStore
import Logging

struct AskCommand: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask a question of a tenant's approved documents, as its local administrator.",
        discussion: """
            Prints an answer whose every sentence cites the page it comes from (title, page, version), or says that \
            the approved documents do not cover the question.
            """
    )

    @Argument(help: "The question.")
    var question: String

    @Option(help: "auto or extractive (both extractive here: generative answers come from cairn serve).")
    var mode: String = "auto"

    @Option(help: "Only this collection.")
    var collection: String?

    @Option(help: "Tenant name.")
    var tenant: String = "default"

    func run(settings: Settings, logger: Logger) async throws {
        let tenantName = try TenantName(tenant)
        let mode: AnswerMode = try parseChoice(mode, as: "an answer mode")
        guard mode != .generative else {
            throw CairnError(.invalidInput, "cairn ask answers extractively; generative answers come from cairn serve with CAIRN_ASSISTANT_MODEL set.")
        }
        let runtime = try DocumentRuntime.load(settings, logger: logger)
        let answer = try await withStore(settings, logger: logger) { store in
            guard let tenant = try await store.tenants.find(name: tenantName) else {
                throw CairnError(.notFound, "There is no tenant named '\(tenantName)'; 'bash scripts/run.sh' creates it with the demo policies.")
            }
            let assistant = runtime.services(store: store, tenantQueueCap: 1, logger: logger).assistant
            return try await assistant.answer(.init(question, collection: collection, mode: mode), for: .localAdministrator(of: tenant))
        }
        print(answer.text)
        guard answer.kind != .refusal else { return }
        print("")
        for (number, citation) in answer.citations.enumerated() {
            let quote = citation.quote.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            print("[\(number + 1)] \(citation.title), page \(citation.page) (version \(citation.versionNumber)): \"\(quote)\"")
        }
        print("(\(answer.kind.rawValue) answer: quoted from the approved documents)")
    }
}
