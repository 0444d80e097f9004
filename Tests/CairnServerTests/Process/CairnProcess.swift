import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `cairn` binary, run as a child process against its own `CAIRN_HOME`.
///
/// `@unchecked Sendable`: the `Process` is only started in `init` and afterwards touched through
/// `terminate`-style calls Foundation makes safe from any thread; output is collected under a
/// `Mutex`.
final class CairnProcess: @unchecked Sendable {
    static var binary: String {
        ProcessInfo.processInfo.environment["CAIRN_BINARY"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../.build/debug/cairn").standardized.path
    }

    /// A fresh, empty home directory for one test.
    static func temporaryHome() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-proc-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    struct Output: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs a one-shot command to completion.
    static func run(_ arguments: [String], environment: [String: String]) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a chatty child cannot block on a full pipe.
        async let stdout = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let stderr = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let (stdoutData, stderrData) = await (stdout, stderr)
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self), stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Output collected from a pipe's handler thread.
    private final class OutputBuffer: Sendable {
        let text = Mutex("")
    }

    private let process = Process()
    private let stderrText = OutputBuffer()
    /// The HTTP port, for `serve`; 0 for processes that do not listen.
    private(set) var port = 0

    /// Starts `cairn serve --port 0` and waits until it reports its port.
    convenience init(serveWith environment: [String: String]) async throws {
        try await self.init(["serve", "--port", "0"], environment: environment, readyWhen: "listening on")
        let line = stderr.split(separator: "\n").first { $0.contains("listening on") }.map(String.init) ?? ""
        if let range = line.range(of: #":(\d+)""#, options: .regularExpression) {
            port = Int(line[range].dropFirst().dropLast()) ?? 0
        }
        #expect(port > 0, "could not read the port from: \(line)")
    }

    /// Starts `cairn <arguments>` and waits until its log contains `marker`.
    init(_ arguments: [String], environment: [String: String], readyWhen marker: String) async throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let buffer = stderrText
        err.fileHandleForReading.readabilityHandler = { handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            buffer.text.withLock { $0 += chunk }
        }
        try process.run()
        _ = try await Self.eventually("cairn \(arguments.first ?? "") to log '\(marker)'", timeout: .seconds(30)) {
            buffer.text.withLock { $0.contains(marker) } ? true : nil
        }
    }

    var stderr: String { stderrText.text.withLock { $0 } }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let process = process
        _ = try await Self.eventually("cairn to exit", timeout: timeout) { process.isRunning ? nil : true }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// Polls `condition` until it yields a value or `timeout` passes (then the test fails).
    static func eventually<Value>(
        _ what: String,
        timeout: Duration,
        _ condition: () async throws -> Value?
    ) async throws -> Value {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let value = try await condition() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("Timed out after \(timeout) waiting for \(what)")
        throw CancellationError()
    }
}

/// Creates tenant `northbank` and an admin key in `home` with the CLI; returns the key.
func bootstrapTenant(home: String, environment: [String: String] = [:]) async throws -> String {
    let env = ["CAIRN_HOME": home].merging(environment) { _, new in new }
    let tenant = try await CairnProcess.run(["tenant", "create", "northbank"], environment: env)
    #expect(tenant.status == 0, "\(tenant.stderr)")
    let key = try await CairnProcess.run(
        ["key", "create", "--tenant", "northbank", "--role", "admin", "--attr", "clearance=restricted"], environment: env)
    #expect(key.status == 0, "\(key.stderr)")
    return key.stdout.split(separator: "\n").last.map(String.init) ?? ""
}

/// A raw HTTP/1.1 connection, for requests that must stay half-sent.
final class RawConnection {
    private let descriptor: Int32

    init?(port: Int) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes or `Content-Length` bytes of body have arrived.
    func readResponse() -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
            let text = String(decoding: received, as: UTF8.self)
            if let split = text.range(of: "\r\n\r\n"),
                let lengthLine = text[..<split.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
                let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
                text.utf8.count - text[..<split.upperBound].utf8.count >= length
            {
                return text
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    deinit { close(descriptor) }
}
