import CairnTestSupport
import Foundation
import Testing

/// `cairn extract`, as a person or a script runs it.
@Suite("cairn extract")
struct ExtractProcessTests {
    static let mrz = SharedData.folder("extraction-dev/mrz")

    static func extract(_ arguments: [String]) async throws -> CairnProcess.Output {
        let home = CairnProcess.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        return try await CairnProcess.run(["extract"] + arguments, environment: ["CAIRN_HOME": home])
    }

    struct Fields: Decodable {
        struct Field: Decodable {
            let value: String
            let page: Int
            let box: [String: Double]
            let evidence: String
            let confidence: Double
            let extractor: String
        }

        let fields: [String: Field]
    }

    @Test("A passport photo's zone: each field with its page, box, evidence, confidence and extractor, as JSON and for people")
    func passport() async throws {
        let arguments = [
            Self.mrz.appendingPathComponent("documents/passport-td3.png").path, "--schema",
            Self.mrz.appendingPathComponent("schemas/passport-td3.json").path,
        ]
        let json = try await Self.extract(arguments + ["--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let fields = try JSONDecoder().decode(Fields.self, from: Data(json.stdout.utf8)).fields
        let number = try #require(fields["document_number"])
        #expect(number.value == "L898902C3" && number.page == 1 && number.extractor == "mrz" && number.confidence >= 0.99)
        #expect(number.evidence.hasPrefix("L898902C3") && Set(number.box.keys) == ["x0", "y0", "x1", "y1"])
        #expect(fields["date_of_birth"]?.value == "1974-08-12" && fields["given_names"]?.value == "ANNA MARIA")

        let people = try await Self.extract(arguments)
        #expect(people.status == 0, "\(people.stderr)")
        #expect(people.stdout.contains("document_number: \"L898902C3\"\n  page 1, box "), "\(people.stdout)")
        #expect(people.stdout.contains("confidence 0.99 by mrz"))
    }

    @Test("Over a golden set: a per-field table, then the summary line scripts read")
    func golden() async throws {
        let run = try await Self.extract(["--golden", Self.mrz.path, "--schema-from-golden"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("document_number") && $0.contains("1.00") })
        let last = String(try #require(lines.last))
        #expect(
            last.wholeMatch(of: /score=1\.000 documents=2 fields=20 auto_accepted=1\.00 auto_accepted_error=0\.000 cost_usd=0\.0000 p95_ms=\d+/)
                != nil,
            "\(last)"
        )
    }

    @Test("Bad input gets one sentence and a failing status")
    func badInput() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("extract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let schema = Self.mrz.appendingPathComponent("schemas/passport-td3.json").path
        let notASchema = folder.appendingPathComponent("schema.json")
        try Data("[1, 2]".utf8).write(to: notASchema)
        let empty = folder.appendingPathComponent("empty.png")
        try Data().write(to: empty)
        let encrypted = SharedPDFs.folder.appendingPathComponent("pdfplumber/password-example.pdf").path
        for (arguments, sentence) in [
            (["/no/such/passport.png", "--schema", schema], "There is no file at /no/such/passport.png."),
            ([empty.path, "--schema", notASchema.path], "The schema is not a JSON Schema of an object with properties."),
            ([empty.path, "--schema", schema], "The file is empty."),
            ([encrypted, "--schema", schema], "The PDF is encrypted; give its password to open it."),
            (["--golden", folder.path, "--schema-from-golden"], "\(folder.path) is not a golden set: it needs documents/ and labels/ folders."),
        ] {
            let run = try await Self.extract(arguments)
            #expect(run.status != 0)
            #expect(run.stderr.hasSuffix("error: \(sentence)\n"), "\(arguments): \(run.stderr)")
        }
        let missing = try await Self.extract([Self.mrz.appendingPathComponent("documents/passport-td3.png").path])
        #expect(missing.status != 0 && missing.stderr.contains("Give the fields to extract with --schema FILE."), "\(missing.stderr)")
    }
}
