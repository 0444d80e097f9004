import CairnTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The real `cairn` binary, run as a child process against its own `CAIRN_HOME`.
///
/// `@unchecked Sendable`: the `Process` is only started in `init` and afterwards touched through
/// `terminate`-style calls Foundation makes safe from any thread; its standard error is collected
/// by a `PipeDrain`.
final class CairnProcess: @unchecked Sendable {
    static var binary: String {
        ProcessInfo.processInfo.environment["CAIRN_BINARY"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../.build/debug/cairn").standardized.path
    }

    /// Links `directory` (the tests' embedding model, `CAIRN_TEST_MODEL_DIR`) into `home`, where
    /// `cairn` looks for the model.
    static func linkModel(_ directory: String, into home: String) throws {
        let models = home + "/models"
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/all-MiniLM-L6-v2", withDestinationPath: directory)
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

    /// Runs a one-shot command to completion (`cairn` unless `executable` names another).
    static func run(_ arguments: [String], environment: [String: String], executable: String = binary) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes are drained to the end before waiting, so a chatty child cannot block on a full pipe.
        let (stdout, stderr) = (PipeDrain(out), PipeDrain(err))
        let (stdoutText, stderrText) = await (stdout.finished(), stderr.finished())
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: stdoutText, stderr: stderrText)
    }

    private let process: Process

    /// The process id, as workers name themselves in leases (`host:pid:…`).
    var processIdentifier: Int32 { process.processIdentifier }
    private let stderrText: PipeDrain
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderrText = PipeDrain(err)
        (self.process, self.stderrText) = (process, stderrText)
        // A start takes a fraction of a second here, yet one under a full CI load outlasted 30 s;
        // the wait is long because it only bounds a failure. A process that never gets ready is
        // stopped, and the issue quotes the end of its log, which says where it stalled.
        do {
            try await eventually("cairn \(arguments.first ?? "") to log '\(marker)'", timeout: .seconds(90)) {
                stderrText.text.contains(marker)
            }
        } catch {
            process.terminate()
            Issue.record(
                "cairn \(arguments.first ?? "") logged, before it was stopped:\n\(stderrText.text.split(separator: "\n").suffix(20).joined(separator: "\n"))"
            )
            throw error
        }
    }

    var stderr: String { stderrText.text }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let process = process
        try await eventually("cairn to exit", timeout: timeout) { !process.isRunning }
        // The exit can be seen before the drain thread has read the last lines; they are all in
        // once the pipe closes. Bounded, in case something the child started holds it open.
        let drained = ContinuousClock.now + .seconds(5)
        while !stderrText.isEnded, ContinuousClock.now < drained { try await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// Reads a child's pipe to its end on a thread of its own.
///
/// Neither `FileHandle.readabilityHandler` nor a blocking read on the cooperative pool: the first
/// arms a libdispatch read source whose teardown races the descriptor's close and intermittently
/// crashes the test process with SIGSEGV in `_dispatch_event_loop_drain` on Linux
/// (swift-corelibs-libdispatch#949); the second would park one of the pool's two threads on this
/// machine for the life of the child. A plain thread doing blocking reads never registers the
/// descriptor with libdispatch at all.
final class PipeDrain: Sendable {
    private struct State {
        var text = ""
        var ended = false
        var waiters: [CheckedContinuation<String, Never>] = []
    }

    private let state = Mutex(State())

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                state.withLock { $0.text += String(decoding: chunk, as: UTF8.self) }
            }
            let (text, waiters) = state.withLock { state in
                state.ended = true
                defer { state.waiters = [] }
                return (state.text, state.waiters)
            }
            for waiter in waiters { waiter.resume(returning: text) }
        }
        thread.start()
    }

    /// What has arrived so far.
    var text: String { state.withLock { $0.text } }

    /// Whether the writer has closed the pipe, so `text` is all there will be.
    var isEnded: Bool { state.withLock { $0.ended } }

    /// Everything the pipe carried, once the writer has closed it.
    func finished() async -> String {
        await withCheckedContinuation { continuation in
            let text: String? = state.withLock { state in
                if state.ended { return state.text }
                state.waiters.append(continuation)
                return nil
            }
            if let text { continuation.resume(returning: text) }
        }
    }
}

/// Creates tenant `northbank` and an admin key in `home` with the CLI; returns the key.
func bootstrapTenant(home: String, environment: [String: String] = [:]) async throws -> String {
    let env = ["CAIRN_HOME": home].merging(environment) { _, new in new }
    let tenant = try await CairnProcess.run(["tenant", "create", "northbank"], environment: env)
    #expect(tenant.status == 0, "\(tenant.stderr)")
    let key = try await CairnProcess.run(
        ["key", "create", "--tenant", "northbank", "--role", "admin", "--attr", "clearance=restricted"],
        environment: env
    )
    #expect(key.status == 0, "\(key.stderr)")
    return key.stdout.split(separator: "\n").last.map(String.init) ?? ""
}

/// A raw HTTP/1.1 connection, for requests that must stay half-sent.
///
/// Its reads block, so they run on a thread of their own: a blocked thread of Swift's
/// cooperative pool (two on these machines) starves every other test's tasks, the in-process
/// mock model server's among them, and the suite deadlocks. A read gives up after 60 s.
///
/// `@unchecked Sendable`: one test uses a connection, from one task at a time.
final class RawConnection: @unchecked Sendable {
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
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Runs a blocking read on a Dispatch thread, off the cooperative pool.
    private func offPool(_ read: @escaping @Sendable () -> String) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: read()) }
        }
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `marker` has arrived or the peer closes; returns what arrived.
    func read(until marker: String) async -> String {
        await offPool { self.blockingRead(until: marker) }
    }

    private func blockingRead(until marker: String) -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: received, as: UTF8.self).contains(marker) {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Reads until the peer closes or `Content-Length` bytes of body have arrived.
    func readResponse() async -> String {
        await offPool { self.blockingReadResponse() }
    }

    private func blockingReadResponse() -> String {
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
