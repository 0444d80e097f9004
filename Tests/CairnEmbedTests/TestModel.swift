import CairnCore
import CairnEmbed
import Foundation
import Testing

/// all-MiniLM-L6-v2's files for the tests that need them, from `CAIRN_TEST_MODEL_DIR`.
///
/// Without it those tests are disabled, unless `CI` is set or `CAIRN_REQUIRE_MODEL=1`: then they
/// run and fail, so CI cannot skip them silently.
enum TestModel {
    static var directory: URL? {
        ProcessInfo.processInfo.environment["CAIRN_TEST_MODEL_DIR"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
    }

    static var isRequired: Bool {
        ProcessInfo.processInfo.environment["CAIRN_REQUIRE_MODEL"] == "1" || ProcessInfo.processInfo.environment["CI"] != nil
    }

    static var isEnabled: Bool { directory != nil || isRequired }

    static let disabledReason: Comment = "needs CAIRN_TEST_MODEL_DIR, all-MiniLM-L6-v2's model directory"

    static func requireDirectory() throws -> URL {
        guard let directory else {
            throw CairnError(.misconfigured, "CAIRN_TEST_MODEL_DIR is not set, and CI or CAIRN_REQUIRE_MODEL=1 requires the model tests.")
        }
        return directory
    }

    /// Loaded once for every test: hashing and reading 90 MB each time would dominate the run.
    private static let sharedEmbedder = Result { try LocalSentenceEmbedder(modelDirectory: requireDirectory()) }

    static func embedder() throws -> LocalSentenceEmbedder { try sharedEmbedder.get() }
}

/// Test data: ids from the official `tokenizers` 0.23.3 BertTokenizerFast with the model's
/// tokenizer.json, embeddings from a float64 numpy reference of the model (see the `meta` of
/// embedding-fixtures.json).
enum Fixtures {
    struct TokenizerCase: Decodable {
        var text: String
        var ids: [Int32]
        var tokens: [String]
    }

    struct EmbeddingFile: Decodable {
        var cases: [EmbeddingCase]
    }

    struct EmbeddingCase: Decodable {
        var text: String
        var ids: [Int32]
        /// Word pieces before truncation, `[CLS]` and `[SEP]` not counted.
        var wordPieces: Int
        var truncated: Bool
        var first8: [Float]
        var embedding: [Float]?
    }

    static func tokenizerCases() throws -> [TokenizerCase] {
        try JSONDecoder().decode([TokenizerCase].self, from: data("tokenizer-fixtures"))
    }

    static func embeddingCases() throws -> [EmbeddingCase] {
        try JSONDecoder().decode(EmbeddingFile.self, from: data("embedding-fixtures")).cases
    }

    private static func data(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }
}

/// Expects `body` to throw a `CairnError` of `code` whose message is one plain sentence.
func expectCairnError(_ code: CairnError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a CairnError(\(code))", sourceLocation: sourceLocation)
    } catch let error as CairnError {
        #expect(error.code == code, sourceLocation: sourceLocation)
        #expect(error.message.hasSuffix(".") && !error.message.contains("\n"), "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a CairnError(\(code)), got \(String(reflecting: error))", sourceLocation: sourceLocation)
    }
}

/// A directory under the system's temporary directory, removed after `body`.
func withTemporaryDirectory<Value>(_ body: (URL) throws -> Value) throws -> Value {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-embed-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}
