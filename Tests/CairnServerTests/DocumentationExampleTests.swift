import CairnAPI
import CairnCore
import CairnGateway
import CairnRuntime
import Foundation
import Testing

/// The JSON examples in README.md and docs/ are what an operator copies first, so each is read
/// by the decoder that reads such a file in production. A new kind of example fails here until
/// a decoder is named for it.
@Suite("Examples in the documentation")
struct DocumentationExampleTests {
    /// One example: where it stands and its text.
    struct Example: CustomStringConvertible {
        let file: String
        let line: Int
        let text: String

        var description: String { "\(file):\(line)" }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// README.md, CONTRIBUTING.md and every Markdown file under docs/.
    static func documents() throws -> [URL] {
        let docs = repository.appendingPathComponent("docs")
        let markdown =
            FileManager.default.enumerator(at: docs, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "md" } ?? []
        return [repository.appendingPathComponent("README.md"), repository.appendingPathComponent("CONTRIBUTING.md")]
            + markdown.sorted { $0.path < $1.path }
    }

    /// Fenced ```json blocks, and here-documents a shell example writes to a `.json` file.
    static func examples() throws -> [Example] {
        var found: [Example] = []
        for url in try documents() {
            let lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
            let name = String(url.path.dropFirst(repository.path.count + 1))
            var index = 0
            while index < lines.count {
                let line = lines[index]
                let heredoc = line.range(of: #"\.json <<'?([A-Z]+)'?\s*$"#, options: .regularExpression)
                if line.trimmingCharacters(in: .whitespaces) == "```json" || heredoc != nil {
                    let terminator =
                        heredoc.map { String(line[$0]).components(separatedBy: "<<").last!.trimmingCharacters(in: CharacterSet(charactersIn: "' ")) }
                        ?? "```"
                    let start = index + 1
                    var end = start
                    while end < lines.count, lines[end].trimmingCharacters(in: .whitespaces) != terminator { end += 1 }
                    found.append(Example(file: name, line: start + 1, text: lines[start..<end].joined(separator: "\n")))
                    index = end
                }
                index += 1
            }
        }
        return found
    }

    @Test("The documentation has JSON examples to check")
    func found() throws {
        let examples = try Self.examples()
        #expect(examples.contains { $0.file == "README.md" }, "the README's catalog example was not found")
        #expect(examples.count >= 3)
    }

    @Test("Every JSON example loads through the decoder that reads it: catalog, configuration file or problem")
    func load() async throws {
        for example in try Self.examples() {
            let data = Data(example.text.utf8)
            guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
                Issue.record("\(example) is not a JSON object")
                continue
            }
            let keys = Set(object.keys)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-doc-example-\(UUID().uuidString).json")
            try data.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            do {
                if keys.isSubset(of: ["providers", "deployments", "aliases"]) {
                    // What `CAIRN_GATEWAY_CATALOG` names, read as `cairn serve` reads it.
                    let catalog = try GatewayCatalogDocument.load(file.path)
                    #expect(!catalog.aliases.isEmpty || !catalog.deployments.isEmpty, "\(example) serves no model")
                } else if keys == ["cairn"] || keys == ["cairn", "otel"] {
                    // What `CAIRN_CONFIG_FILE` names: every value must parse, as `cairn config` checks.
                    let settings = try await Settings.load(environment: ["CAIRN_CONFIG_FILE": file.path])
                    try settings.validate()
                } else if keys.contains("type"), keys.contains("status") {
                    let problem = try JSONDecoder().decode(Components.Schemas.Problem.self, from: data)
                    #expect(problem._type.hasPrefix("urn:cairn:problem:"), "\(example)")
                } else {
                    Issue.record("\(example): no decoder is named for an example with keys \(keys.sorted())")
                }
            } catch {
                Issue.record("\(example) does not load: \(error)")
            }
        }
    }
}
