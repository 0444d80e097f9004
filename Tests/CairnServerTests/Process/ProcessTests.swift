import AsyncHTTPClient
import CairnCore
import CairnJobs
import CairnRuntime
import CairnStore
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import SQLKit
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tests of the shipped binary: what an operator runs is what is tested here.
@Suite("The cairn process", .serialized)
struct ProcessTests {
    let home = CairnProcess.temporaryHome()

    func get(
        _ port: Int,
        _ path: String,
        token: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> (status: UInt, body: String, headers: [(String, String)]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 22))
        return (response.status.code, body, response.headers.map { ($0.name, $0.value) })
    }

    @Test("On the embedded default, serve migrates a fresh home and /readyz answers 200")
    func readiness() async throws {
        let server = try await CairnProcess(serveWith: ["CAIRN_HOME": home])
        defer { server.stop() }
        let ready = try await get(server.port, "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.contains("\"ready\""))
    }

    @Test(
        "On PostgreSQL, /readyz answers 503 until `cairn migrate` has run, then 200; the non-superuser role keeps RLS in force",
        .enabled(if: TestEngine.postgresURL != nil, "needs CAIRN_TEST_DATABASE_URL")
    )
    func postgresReadiness() async throws {
        try await withCLIDatabase(.postgres, migrated: false) { environment, _ in
            let server = try await CairnProcess(serveWith: environment)
            defer { server.stop() }
            let before = try await get(server.port, "/readyz")
            #expect(before.status == 503)
            #expect(before.body.contains("pending"))
            let migrate = try await CairnProcess.run(["migrate"], environment: environment)
            #expect(migrate.status == 0, "\(migrate.stderr)")
            #expect(migrate.stdout.contains("Applied 1 platform_spine"))
            #expect(try await get(server.port, "/readyz").status == 200)
            #expect(!server.stderr.contains("Row-level security is bypassed"))
        }
    }

    @Test("A request still in flight when SIGTERM arrives completes, then the process exits 0 (with every service running, OIDC included)")
    func gracefulShutdown() async throws {
        let key = try await bootstrapTenant(home: home)
        let provider = try TestIdentityProvider()
        let jwks = home + "/jwks.json"
        try provider.jwks().write(to: URL(fileURLWithPath: jwks))
        let server = try await CairnProcess(serveWith: [
            "CAIRN_HOME": home, "CAIRN_OIDC_JWKS": jwks, "CAIRN_OIDC_ISSUER": provider.issuer, "CAIRN_OIDC_AUDIENCE": provider.audience,
        ])
        defer { server.stop() }
        let body = #"{"name":"during-shutdown","roles":["viewer"]}"#
        let connection = try #require(RawConnection(port: server.port))
        connection.send(
            "POST /v1/api-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + String(body.prefix(10))
        )
        // The request is in flight once the server counts it as active.
        try await eventually("the half-sent request to be in flight", timeout: .seconds(60)) {
            try await get(server.port, "/metrics").body.contains(#"http_server_active_requests{http_request_method="POST"} 1"#)
        }
        server.signal(SIGTERM)
        // Shutdown has begun once the listener stops accepting new connections.
        try await eventually("the listener to close", timeout: .seconds(60)) {
            RawConnection(port: server.port) == nil
        }
        connection.send(String(body.dropFirst(10)))
        let response = await connection.readResponse()
        #expect(response.hasPrefix("HTTP/1.1 201"), "got: \(response.prefix(200))")
        #expect(response.contains("during-shutdown"))
        #expect(try await server.waitForExit() == 0)
        #expect(server.stderr.contains("Cairn stopped"))
    }

    @Test("/metrics passes promtool and counts requests and latency by route and status; logs are JSON lines with the request id")
    func metricsAndLogs() async throws {
        let key = try await bootstrapTenant(home: home)
        let server = try await CairnProcess(serveWith: ["CAIRN_HOME": home])
        defer { server.stop() }
        _ = try await get(server.port, "/v1/me", token: key, headers: [("X-Request-Id", "metrics-test-1")])
        _ = try await get(server.port, "/v1/me")
        let exposition = try await eventually("both requests to be counted", timeout: .seconds(60)) {
            let text = try await get(server.port, "/metrics").body
            return text.contains(#"http_server_requests_total{http_route="/v1/me",http_request_method="GET",http_response_status_code="401"}"#)
                ? text : nil
        }
        #expect(exposition.contains(#"http_server_requests_total{http_route="/v1/me",http_request_method="GET",http_response_status_code="200"} 1"#))
        #expect(
            exposition.contains(
                #"http_server_request_duration_seconds_bucket{http_route="/v1/me",http_request_method="GET",http_response_status_code="200",le="+Inf"} 1"#
            )
        )

        let promtool = try runTool("/usr/bin/promtool", ["check", "metrics"], input: exposition)
        #expect(promtool.status == 0, "promtool: \(promtool.output)")

        let lines = server.stderr.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
        let requestLine = try #require(lines.first { $0.contains(#""http.route":"/v1/me""#) && $0.contains("metrics-test-1") })
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(requestLine.utf8)) as? [String: Any])
        #expect(fields["hb.request.id"] as? String == "metrics-test-1")
        #expect(fields["http.status"] as? String == "200")
        #expect((fields["trace_id"] as? String)?.count == 32, "log line should carry a trace id: \(requestLine)")
        #expect(!server.stderr.contains(key), "the API key must never be logged")
    }

    @Test("Request spans arrive at an OTLP/HTTP receiver on loopback")
    func otlpSpans() async throws {
        let key = try await bootstrapTenant(home: home)
        let received = Mutex<[Data]>([])
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 24)
            received.withLock { $0.append(Data(body.readableBytesView)) }
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { client in
            let port = try #require(client.port)
            let server = try await CairnProcess(serveWith: [
                "CAIRN_HOME": home, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)", "OTEL_BSP_SCHEDULE_DELAY": "100",
            ])
            defer { server.stop() }
            #expect(try await get(server.port, "/v1/me", token: key).status == 200)
            try await eventually("a span for /v1/me at the receiver", timeout: .seconds(60)) {
                received.withLock { batches in batches.contains { $0.range(of: Data("/v1/me".utf8)) != nil } }
            }
        }
    }

    @Test("audit verify exits 0 on an intact store and 1 naming the first broken event", arguments: TestEngine.all)
    func auditVerify(engine: TestEngine) async throws {
        try await withCLIDatabase(engine) { environment, store in
            let created = try await bootstrapTenant(home: home, environment: environment)
            #expect(created.hasPrefix("cairn_"))
            let intact = try await CairnProcess.run(["audit", "verify"], environment: environment)
            #expect(intact.status == 0, "\(intact.stdout)\(intact.stderr)")
            #expect(intact.stdout.contains("OK northbank: 2 events"))

            try await store.database.transaction(.platform) { transaction in
                try await transaction.sql.raw("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2").run()
            }
            let broken = try await CairnProcess.run(["audit", "verify", "--tenant", "northbank"], environment: environment)
            #expect(broken.status == 1)
            #expect(broken.stdout.contains("BROKEN northbank: event #2 was altered"), "\(broken.stdout)")
        }
    }

    @Test("schemathesis, run against the served spec with an admin key, finds no 5xx and no response that breaks the spec", arguments: TestEngine.all)
    func schemathesis(engine: TestEngine) async throws {
        try await withCLIDatabase(engine) { environment, _ in
            try await runSchemathesis(environment: environment)
        }
    }

    func runSchemathesis(environment: [String: String]) async throws {
        let key = try await bootstrapTenant(home: home, environment: environment)
        let server = try await CairnProcess(serveWith: environment)
        defer { server.stop() }
        // positive_data_acceptance is left out: it assumes every schema-valid request succeeds,
        // while Cairn also applies rules JSON Schema cannot state (an expiry in the future, a
        // clearance no higher than the creator's, unique tenant names) and answers them 4xx.
        let result = try runTool(
            toolPath("schemathesis"),
            [
                "run", "http://127.0.0.1:\(server.port)/openapi.yaml", "-H", "Authorization: Bearer \(key)",
                "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--max-examples", "60", "--seed", "20261125", "--no-color",
            ]
        )
        #expect(result.status == 0, "schemathesis:\n\(result.output.suffix(4000))")
        #expect(result.output.contains("generated"), "schemathesis printed no summary")
        #expect(!server.stderr.contains("\"level\":\"error\""), "server logged errors: \(server.stderr.suffix(2000))")
    }

    @Test("The served spec passes openapi-spec-validator")
    func specValidator() async throws {
        let server = try await CairnProcess(serveWith: ["CAIRN_HOME": home])
        defer { server.stop() }
        let spec = try await get(server.port, "/openapi.yaml").body
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-openapi-\(UUID().uuidString).yaml")
        try spec.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try runTool(toolPath("openapi-spec-validator"), [file.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(spec.hasPrefix("openapi: 3.1."))
    }

    @Test("CLI failures are one plain sentence on standard error and a non-zero exit")
    func cliErrors() async throws {
        let environment = ["CAIRN_HOME": home]
        let unknownTenant = try await CairnProcess.run(["key", "create", "--tenant", "ghostbank", "--role", "admin"], environment: environment)
        #expect(unknownTenant.status == 1)
        #expect(unknownTenant.stderr.hasSuffix("error: There is no tenant named 'ghostbank'; create it with 'cairn tenant create ghostbank'.\n"))
        let badRole = try await CairnProcess.run(["key", "create", "--tenant", "x", "--role", "root"], environment: environment)
        #expect(badRole.stderr.contains("error: 'root' is not a role"))
        let badPort = try await CairnProcess.run(["config"], environment: environment.merging(["CAIRN_HTTP_PORT": "eighty"]) { _, new in new })
        #expect(badPort.status == 1)
        #expect(badPort.stderr.contains("CAIRN_HTTP_PORT must be a whole number"))
        let badSwitch = try await CairnProcess.run(["config"], environment: environment.merging(["CAIRN_AGENT_FOUR_EYES": "yes"]) { _, new in new })
        #expect(
            badSwitch.status == 1 && badSwitch.stderr.contains("CAIRN_AGENT_FOUR_EYES must be true or false; 'yes' is not."),
            "\(badSwitch.stderr)"
        )
        let badDatabase = try await CairnProcess.run(
            ["migrate"],
            environment: ["CAIRN_DATABASE_URL": "postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable"]
        )
        #expect(badDatabase.status == 1)
        #expect(badDatabase.stderr.contains("error: Cannot use the database at postgres://nobody@127.0.0.1:1/none"))
        #expect(!badDatabase.stderr.contains("secret"))
        let noPDFs = try await CairnProcess.run(["bench", "ingest", home], environment: environment)
        #expect(noPDFs.status == 1)
        #expect(noPDFs.stderr.hasSuffix("error: There are no .pdf files under \(home).\n"))
    }

    @Test("cairn jobs list, show, cancel and retry steer a tenant's jobs from the command line", arguments: TestEngine.all)
    func jobsCommands(engine: TestEngine) async throws {
        try await withCLIDatabase(engine) { environment, store in
            _ = try await bootstrapTenant(home: home, environment: environment)
            let tenant = try #require(try await store.tenants.find(name: TenantName("northbank")))
            let job = try await store.jobs.enqueue(
                .init(kind: "document.ingest", runAt: Date().addingTimeInterval(3600)),
                by: .localAdministrator(of: tenant)
            ).job

            let list = try await CairnProcess.run(["jobs", "list", "--tenant", "northbank"], environment: environment)
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("\(job.id)  queued  document.ingest  attempt 0/5"))
            let cancel = try await CairnProcess.run(["jobs", "cancel", job.id.description], environment: environment)
            #expect(cancel.stdout.contains("Cancelled job \(job.id)."))
            let show = try await CairnProcess.run(["jobs", "show", job.id.description], environment: environment)
            #expect(show.stdout.contains("cancelled  document.ingest"))
            let retry = try await CairnProcess.run(["jobs", "retry", job.id.description], environment: environment)
            #expect(retry.stdout.contains("is queued again"))
            let again = try await CairnProcess.run(["jobs", "retry", job.id.description], environment: environment)
            #expect(again.status == 1)
            #expect(again.stderr.contains("error: Job \(job.id) is queued; only dead, cancelled or failed jobs can be replayed."))
            let badState = try await CairnProcess.run(["jobs", "list", "--tenant", "northbank", "--state", "lost"], environment: environment)
            #expect(badState.stderr.contains("error: 'lost' is not a job state"))
            let unknown = try await CairnProcess.run(["jobs", "show", UUID().uuidString], environment: environment)
            #expect(unknown.status == 1 && unknown.stderr.contains("error: There is no job with id"))
        }
    }

    @Test("cairn config prints the effective configuration with secrets redacted and their sources")
    func config() async throws {
        let output = try await CairnProcess.run(
            ["config"],
            environment: [
                "CAIRN_HOME": home, "CAIRN_OPERATOR_TOKEN": "super-secret-operator", "CAIRN_HTTP_PORT": "9090",
            ]
        )
        #expect(output.status == 0)
        #expect(!output.stdout.contains("super-secret-operator"))
        #expect(output.stdout.contains("CAIRN_OPERATOR_TOKEN=<redacted>"))
        #expect(output.stdout.contains("CAIRN_HTTP_PORT=9090  # environment"))
        #expect(output.stdout.contains("CAIRN_HTTP_HOST=127.0.0.1  # default"))
        #expect(output.stdout.contains("CAIRN_SCHEDULE_RETENTION=15 3 * * *  # default"))

        let badSchedule = try await CairnProcess.run(["config"], environment: ["CAIRN_HOME": home, "CAIRN_SCHEDULE_RETENTION": "61 * * * *"])
        #expect(badSchedule.status == 1)
        #expect(badSchedule.stderr.contains("error: CAIRN_SCHEDULE_RETENTION: The cron minute field '61' is not valid"))
    }

    @Test("On a terminal a one-shot command logs only warnings and errors, in plain words; --verbose shows routine events; piped, it logs JSON")
    func terminalLogging() async throws {
        // `script` runs the command on a pseudo-terminal, as a person's shell does, and copies
        // what it writes there (standard output and error alike) to its own output.
        func onTerminal(_ arguments: [String]) async throws -> CairnProcess.Output {
            let command = ([CairnProcess.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
            return try await CairnProcess.run(
                ["-qec", command, "/dev/null"],
                environment: ["CAIRN_HOME": CairnProcess.temporaryHome()],
                executable: "/usr/bin/script"
            )
        }
        // A fresh home is migrated on the spot, which logs "Applied migration" at info.
        let quiet = try await onTerminal(["tenant", "create", "northbank"])
        #expect(quiet.status == 0 && quiet.stdout.contains("Created tenant northbank"), "\(quiet)")
        #expect(!quiet.stdout.contains("Applied migration") && !quiet.stdout.contains(#"{"ts""#), "\(quiet.stdout)")

        let verbose = try await onTerminal(["tenant", "create", "northbank", "--verbose"])
        #expect(verbose.stdout.contains("info: Applied migration (name: platform_spine, version: 1)"), "\(verbose.stdout)")
        #expect(!verbose.stdout.contains(#"{"ts""#))

        let piped = try await CairnProcess.run(["tenant", "create", "northbank"], environment: ["CAIRN_HOME": CairnProcess.temporaryHome()])
        #expect(piped.status == 0 && piped.stderr.contains(#""msg":"Applied migration""#), "\(piped.stderr)")
    }

    // MARK: Helpers

    func withCLIDatabase(
        _ engine: TestEngine,
        migrated: Bool = true,
        _ body: @Sendable ([String: String], CairnStore) async throws -> Void
    ) async throws {
        try await CairnServerTests.withCLIDatabase(engine, home: home, migrated: migrated, body)
    }
}

/// Environment pointing the CLI at a fresh database on `engine` (SQLite under `home`, or a
/// PostgreSQL database of its own), and a store on it for setting up and inspecting state.
func withCLIDatabase(
    _ engine: TestEngine,
    home: String,
    migrated: Bool = true,
    _ body: @Sendable ([String: String], CairnStore) async throws -> Void
) async throws {
    switch engine {
    case .sqlite:
        let environment = ["CAIRN_HOME": home]
        let migrate = try await CairnProcess.run(["migrate"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        // WAL and a busy timeout let the CLI processes write while this connection idles.
        let database = try await SQLiteDatabase.open(path: home + "/cairn.sqlite", logger: Logger(label: "test"))
        do {
            try await body(environment, CairnStore(database: database, schema: .cairn))
            try await database.close()
        } catch {
            try? await database.close()
            throw error
        }
    case .postgres:
        let url = try #require(TestEngine.postgresURL)
        let location = try PostgresLocation(url: url)
        try await withDedicatedPostgresDatabase(on: location, prefix: "cli") { dedicated in
            let environment = [
                "CAIRN_HOME": home,
                "CAIRN_DATABASE_URL":
                    "postgres://\(location.username):\(location.password ?? "")@\(location.host):\(location.port)/\(dedicated.database)?sslmode=disable",
            ]
            if migrated {
                let migrate = try await CairnProcess.run(["migrate"], environment: environment)
                #expect(migrate.status == 0, "\(migrate.stderr)")
            }
            let database = PostgresDatabase(location: dedicated, maximumConnections: 2, logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await database.run() }
                defer { group.cancelAll() }
                try await body(environment, CairnStore(database: database, schema: .cairn))
            }
        }
    }
}

/// Path of a Python tool installed by scripts/setup.sh.
func toolPath(_ name: String) -> String {
    let directory =
        ProcessInfo.processInfo.environment["CAIRN_TEST_TOOLS"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../.venv/bin").standardized.path
    return directory + "/" + name
}

/// Runs an external tool to completion; `input` goes to its standard input, `environment` is
/// added to the test's own.
func runTool(
    _ path: String,
    _ arguments: [String],
    input: String? = nil,
    environment: [String: String] = [:]
) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
