import ArgumentParser
import CairnCore
import CairnIngest
import CairnPipelines
import CairnRuntime
import Foundation
import Logging

struct ExtractCommand: CairnCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Extract a JSON Schema's fields from a file, each with its page, box, evidence, confidence and extractor.",
        discussion: """
            Reads the file (PDF, a PNG, JPEG or TIFF photo, DOCX, HTML, Markdown or text) and fills the schema's \
            top-level properties by rules: a machine-readable zone with its check digits, IBANs and BICs, dates and \
            amounts near a label naming the field, "Label: value" pairs. Nothing leaves this machine.

            With --golden DIR --schema-from-golden it runs over a golden set instead (documents/, labels/, schemas/) \
            and prints a per-field table, then the line:
              score=… documents=N fields=M auto_accepted=… auto_accepted_error=… cost_usd=… p95_ms=…
            """
    )

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "The file to read.")
    var file: String?

    @Option(help: "A JSON Schema (2020-12) of the object to extract.")
    var schema: String?

    @Flag(help: "Print the fields as JSON.")
    var json = false

    @Option(help: "Score against a golden set: a folder of documents/, labels/ and schemas/.")
    var golden: String?

    @Flag(help: "With --golden: extract each document by its own schemas/ID.json.")
    var schemaFromGolden = false

    func validate() throws {
        switch (file, golden) {
        case (nil, nil): throw ValidationError("Give a file to extract from, or --golden DIR.")
        case (.some, .some): throw ValidationError("Give a file or --golden, not both.")
        case (.some, nil) where schema == nil: throw ValidationError("Give the fields to extract with --schema FILE.")
        case (nil, .some) where schema == nil && !schemaFromGolden:
            throw ValidationError("With --golden, give --schema FILE or --schema-from-golden.")
        default: break
        }
    }

    func run(settings: Settings, logger: Logger) async throws {
        if let file, !FileManager.default.fileExists(atPath: file) { throw CairnError(.invalidInput, "There is no file at \(file).") }
        let extraction = AdHocExtraction(parser: DocumentParser(limits: ParsingLimits(), ocrLanguage: try settings.ocrLanguage))
        let fieldSchema = try schema.map { try ExtractionSchema(json: try Self.read($0, as: "schema")) }
        if let golden {
            let report = try await extraction.evaluate(try GoldenSet(folder: URL(fileURLWithPath: golden)), schema: fieldSchema)
            for document in report.documents where document.failure != nil {
                print("\(document.id): failed: \(document.failure!)")
            }
            print(report.table)
            print(report.summaryLine)
            return
        }
        guard let file, let fieldSchema else { return }
        let fields = try await extraction.extract(file: URL(fileURLWithPath: file), schema: fieldSchema)
        if json {
            print(try Self.json(fields))
        } else {
            Self.printForPeople(fields, schema: fieldSchema)
        }
    }

    /// One block per field: name and value, then where it was read and how sure the reading is.
    static func printForPeople(_ fields: [ExtractedField], schema: ExtractionSchema) {
        for property in schema.properties {
            guard let field = fields.first(where: { $0.name == property.name }) else {
                print("\(property.name): not found")
                continue
            }
            print("\(field.name): \(render(field.value))")
            var place = field.page.map { "page \($0)" } ?? "no page"
            if let box = field.box { place += String(format: ", box %.0f,%.0f–%.0f,%.0f", box.x0, box.y0, box.x1, box.y1) }
            let accepted = field.confidence >= AdHocExtraction.acceptanceThreshold && field.problems.isEmpty
            print("  \(place); confidence \(String(format: "%.2f", field.confidence)) by \(field.extractor.rawValue)\(accepted ? "" : "; to review")")
            print("  evidence: \"\(field.evidence)\"")
            for problem in field.problems { print("  problem: \(problem)") }
        }
    }

    static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): "\"\(text)\""
        case .number(let number): number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
        default: (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? ""
        }
    }

    /// `{"fields": {name: {value, page, box, evidence, confidence, extractor, problems}}}`.
    static func json(_ fields: [ExtractedField]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var object: [String: ExtractedField] = [:]
        for field in fields { object[field.name] = field }
        return String(decoding: try encoder.encode(["fields": object]), as: UTF8.self)
    }

    static func read(_ path: String, as what: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CairnError(.invalidInput, "The \(what) file \(path) cannot be read.")
        }
    }
}
