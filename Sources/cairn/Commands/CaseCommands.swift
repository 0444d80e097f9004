import ArgumentParser
import CairnCore
import CairnIngest
import CairnPipelines
import CairnRuntime
import CairnStore
import Foundation
import Logging

struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Open KYC cases, add their documents, and read what became of them.",
        subcommands: [List.self, Show.self, Create.self, Add.self]
    )

    struct List: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's cases, newest first.")

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: DefaultTenantOption

        @Option(help: "Only cases in this state: open, processing, awaiting_review, approved, rejected or escalated.")
        var state: String?

        @Option(help: "At most this many cases (1–500).")
        var limit: Int = 50

        func run(settings: Settings, logger: Logger) async throws {
            let caseState = try state.map { text throws(CairnError) -> KYCCase.State in try parseChoice(text, as: "a case state") }
            let page = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.cases.list(for: administrator, state: caseState, limit: limit)
            }
            if page.items.isEmpty { print("No cases\(state.map { " in state \($0)" } ?? ""); open one with 'cairn cases create REFERENCE'.") }
            for item in page.items { print(CasesCommand.summary(item)) }
            if page.nextCursor != nil { print("(more cases exist; narrow with --state, or raise --limit)") }
        }
    }

    struct Show: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Show a case: its subject, scope, documents and decision.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The case id.")
        var id: String

        func run(settings: Settings, logger: Logger) async throws {
            let (found, fields) = try await CasesCommand.asAdministrator(ofCase: id, settings: settings, logger: logger) {
                store,
                caseID,
                administrator in
                (try await store.cases.get(caseID, for: administrator), try await store.cases.fields(of: caseID, for: administrator))
            }
            print(CasesCommand.summary(found))
            print("  pipeline: \(found.pipeline)")
            if let entity = found.scope.entity { print("  entity:   \(entity)\(found.scope.branch.map { ", branch \($0)" } ?? "")") }
            for (key, value) in found.subject.sorted(by: { $0.key < $1.key }) { print("  subject \(key): \(value.string ?? "\(value)")") }
            for document in found.documents {
                var line = "  document \(document.id)  \(document.fileName)  \(document.state.rawValue)"
                if let type = document.documentType { line += " as \(type)" }
                if let version = document.pipelineVersion { line += " (version \(version))" }
                if let failure = document.failure { line += ": \(failure)" }
                print(line)
                for entry in fields where entry.documentID == document.id {
                    print("    " + CasesCommand.describe(entry))
                    for problem in entry.field.problems { print("      problem: \(problem)") }
                }
            }
            if let decision = found.decision {
                print(
                    "  decided: \(decision.decision.rawValue) by \(decision.decidedBy) at \(decision.decidedAt.formatted(.iso8601)): \(decision.reason)"
                )
            }
        }
    }

    struct Create: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Open a case; prints its id.")

        @OptionGroup var logging: LoggingOptions

        @OptionGroup var tenant: DefaultTenantOption

        @Argument(help: "The bank's reference for the case (an application number).")
        var reference: String

        @Option(help: "kyc_individual or kyc_business.")
        var kind: String = "kyc_individual"

        @Option(help: "What the applicant declared, as a JSON object (name, date_of_birth, address…).")
        var subject: String?

        @Option(help: "The legal entity whose staff may see the case.")
        var entity: String?

        @Option(help: "The branch whose staff may see the case.")
        var branch: String?

        @Option(help: "The pipeline to run (default: the kind's, kyc-individual or kyc-business).")
        var pipeline: String?

        func run(settings: Settings, logger: Logger) async throws {
            let caseKind: KYCCase.Kind = try parseChoice(kind, as: "a case kind")
            var declared: [String: JSONValue] = [:]
            if let subject {
                guard let object = JSONValue.object(from: Data(subject.utf8)) else {
                    throw CairnError(.invalidInput, "--subject must be a JSON object, such as '{\"name\":\"Anna Eriksson\"}'.")
                }
                declared = object
            }
            let new = Cases.NewCase(
                reference: reference,
                kind: caseKind,
                subject: declared,
                scope: CaseScope(entity: entity, branch: branch),
                pipeline: pipeline
            )
            let opened = try await tenant.asAdministrator(settings, logger: logger) { store, administrator in
                try await store.cases.open(new, by: administrator)
            }
            print("Opened case \(opened.reference) (\(opened.pipeline)):")
            print(opened.id)
        }
    }

    struct Add: CairnCommand {
        static let configuration = CommandConfiguration(abstract: "Add documents (PDF, photos, DOCX…) to a case.")

        @OptionGroup var logging: LoggingOptions

        @Argument(help: "The case id.")
        var id: String

        @Argument(help: "The files to add.")
        var files: [String]

        func run(settings: Settings, logger: Logger) async throws {
            // All or none: a missing file is named before any is added.
            for file in files where !FileManager.default.fileExists(atPath: file) {
                throw CairnError(.invalidInput, "There is no file at \(file); nothing was added.")
            }
            let blobs = try LocalBlobStore(root: settings.blobDirectory)
            let limit = try settings.uploadLimit
            let added = try await CasesCommand.asAdministrator(ofCase: id, settings: settings, logger: logger) { store, caseID, administrator in
                let intake = CaseIntake(store: store, blobs: blobs, maximumUploadBytes: limit)
                var added: [CaseDocument] = []
                for file in files { added.append(try await intake.add(file: URL(fileURLWithPath: file), to: caseID, by: administrator)) }
                return added
            }
            for document in added { print("Added \(document.fileName) as document \(document.id).") }
        }
    }

    /// Runs `body` on the case named by `text`, as its tenant's local administrator.
    static func asAdministrator<Result: Sendable>(
        ofCase text: String,
        settings: Settings,
        logger: Logger,
        _ body: @Sendable (CairnStore, CaseID, Principal) async throws -> Result
    ) async throws -> Result {
        try await asOwningTenantAdministrator(
            of: text,
            noun: "a case id",
            settings,
            logger: logger,
            owner: { try await $0.cases.tenant(ofCase: $1) },
            body
        )
    }

    /// One line for a field: name, value, status, page and box, confidence, extractor.
    static func describe(_ entry: CaseField) -> String {
        let field = entry.field
        var place = field.page.map { "page \($0)" } ?? "no page"
        if let box = field.box { place += String(format: " box %.0f,%.0f–%.0f,%.0f", box.x0, box.y0, box.x1, box.y1) }
        let status = entry.status.rawValue.replacingOccurrences(of: "_", with: " ")
        return
            "\(field.name): \(ExtractCommand.render(field.value))  [\(status)]  \(place)  confidence \(String(format: "%.2f", field.confidence)) by \(field.extractor.rawValue)"
    }

    /// One line: id, state, reference, kind, documents, creation time.
    static func summary(_ item: KYCCase) -> String {
        let documents = item.documents.isEmpty ? "" : "  \(item.documents.count) document\(item.documents.count == 1 ? "" : "s")"
        return
            "\(item.id)  \(item.state.rawValue)  \(item.reference)  \(item.kind.rawValue)\(documents)  created \(item.createdAt.formatted(.iso8601))"
    }
}
