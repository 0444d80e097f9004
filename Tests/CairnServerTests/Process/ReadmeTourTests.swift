import CairnTestSupport
import Foundation
import Testing

/// The README's 60-second tour is the first thing a new user runs, so it is run here as written:
/// the same shell block, against a `cairn serve` with the demo policies seeded, with only the
/// port, the binary and the shared data's folder swapped for the test's own.
@Suite("The README's tour")
struct ReadmeTourTests {
    /// The first ```sh block under "## A 60-second tour".
    static func tour() throws -> String {
        let readme = try String(contentsOf: DocumentationExampleTests.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## A 60-second tour").dropFirst().first, "the README has no tour")
        let block = try #require(section.components(separatedBy: "```sh\n").dropFirst().first, "the tour has no shell block")
        return try #require(block.components(separatedBy: "\n```").first)
    }

    @Test("Every command of the tour does what its comment says", .timeLimit(.minutes(10)))
    func tourRuns() async throws {
        let home = CairnProcess.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        if let directory = ProcessInfo.processInfo.environment["CAIRN_TEST_MODEL_DIR"] { try CairnProcess.linkModel(directory, into: home) }
        let environment = ["CAIRN_HOME": home]
        let seeded = try await CairnProcess.run(["demo", "seed"], environment: environment)
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let server = try await CairnProcess(serveWith: environment)
        defer { server.stop() }

        // A failing command's line is named on stderr, and the tour goes on, as it would for a
        // reader. Three lines come before the tour's first.
        let tour = try Self.tour()
        let script = """
            set -uo pipefail
            trap 'echo "tour: exit $? on line $(( LINENO - 3 ))" >&2' ERR
            cd '\(DocumentationExampleTests.repository.path)'
            \(tour
                .replacingOccurrences(of: "localhost:8080", with: "localhost:\(server.port)")
                .replacingOccurrences(of: ".build/debug/cairn", with: CairnProcess.binary)
                .replacingOccurrences(of: "../shared/data", with: SharedData.folder.path))
            """
        let run = try await CairnProcess.run(["-c", script], environment: environment, executable: "/bin/bash")
        let transcript = "stdout:\n\(run.stdout.suffix(3000))\nstderr:\n\(run.stderr.suffix(3000))"

        // `cairn ingest` exits 1 when a file fails, and three of pdfplumber's do, as the README says.
        let ingest = try #require(tour.components(separatedBy: "\n").firstIndex { $0.hasPrefix("cairn ingest") }) + 1
        let failures = run.stderr.split(separator: "\n").filter { $0.hasPrefix("tour: ") }
        #expect(failures == ["tour: exit 1 on line \(ingest)"], "\(transcript)")
        for (claim, shown) in [
            ("a cited answer", "[1] Technology Risk Policy, page 1"),
            ("a plain refusal", "The approved documents you can access don't cover this."),
            ("the tenant", "Created tenant northbank"),
            ("readiness", #""status":"ready""#),
            ("the caller", #""permissions":["#),
            ("the new key's secret", #""secret":""#),
            ("the audit trail", #"{"events":[{"action":"#),
            ("a 401 problem", #""status":401"#),
            ("the job's progress to the end", #""state":"succeeded""#),
            ("the ingest summary", "50 of 53 files ingested."),
            ("search hits with pages", "federal-register-2020-17221.pdf (version 1, p. 1)"),
            ("the upload's job", #""job":{"#),
            ("search over HTTP", #"{"hits":["#),
            ("a streamed citation", "event: citation"),
            ("the streamed answer", "event: answer"),
            ("the audit verdict", "OK northbank: "),
            ("the configuration", "CAIRN_HOME=\(home)"),
        ] {
            #expect(run.stdout.contains(shown), "the tour did not show \(claim) (\(shown))\n\(transcript)")
        }
    }
}
