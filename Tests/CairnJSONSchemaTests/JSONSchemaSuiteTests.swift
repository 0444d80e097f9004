import CairnCore
import CairnJSONSchema
import CairnTestSupport
import Foundation
import Testing

/// Runs the official JSON Schema Test Suite (draft 2020-12, without the `optional/` folder) through
/// `JSONSchema`, checking both `isValid` and `validate` against every case.
@Suite("JSON Schema Test Suite")
struct JSONSchemaSuiteTests {
    private struct Group: Decodable {
        let description: String
        let schema: JSONValue
        let tests: [Case]
    }

    private struct Case: Decodable {
        let description: String
        let data: JSONValue
        let valid: Bool
    }

    @Test("At least 95% of the draft 2020-12 cases pass")
    func draft202012() throws {
        let suite = SharedData.folder("json-schema-test-suite")
        let folder = suite.appendingPathComponent("tests/draft2020-12")
        try #require(
            FileManager.default.fileExists(atPath: folder.path),
            "The JSON Schema Test Suite is missing at \(folder.path); set CAIRN_SHARED_DATA to the shared data folder."
        )
        let remotes = try Self.remotes(in: suite.appendingPathComponent("remotes"))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()

        var passed = 0
        var failures: [String] = []
        for file in files {
            let groups = try JSONDecoder().decode([Group].self, from: Data(contentsOf: folder.appendingPathComponent(file)))
            for group in groups {
                let schema = Result { try JSONSchema(group.schema, resources: remotes) }
                for test in group.tests {
                    let name = "\(file) › \(group.description) › \(test.description)"
                    switch schema {
                    case .success(let schema):
                        let isValid = schema.isValid(test.data)
                        let violations = schema.validate(test.data)
                        if isValid == test.valid && violations.isEmpty == test.valid {
                            passed += 1
                        } else {
                            failures.append("\(name): isValid \(isValid), \(violations.count) violations, expected valid \(test.valid)")
                        }
                    case .failure(let error):
                        failures.append("\(name): the schema did not compile: \(error)")
                    }
                }
            }
        }

        let total = passed + failures.count
        let rate = Double(passed) / Double(max(total, 1))
        print("JSON Schema Test Suite draft2020-12: \(passed)/\(total) cases pass (\(String(format: "%.1f", rate * 100))%)")
        for failure in failures { print("  failing: \(failure)") }
        #expect(total > 1000, "only \(total) cases were found in \(folder.path)")
        #expect(rate >= 0.95, "\(failures.count) of \(total) cases fail")
    }

    /// The suite's remote documents, under the URIs its cases fetch them from.
    private static func remotes(in folder: URL) throws -> [String: JSONValue] {
        let root = folder.standardized.path + "/"
        var documents: [String: JSONValue] = [:]
        for case let url as URL in FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects ?? []
        where url.pathExtension == "json" {
            let path = String(url.standardized.path.dropFirst(root.count))
            documents["http://localhost:1234/\(path)"] = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        }
        return documents
    }
}
