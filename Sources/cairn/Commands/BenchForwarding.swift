import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `cairn bench …`: runs `cairn-bench bench …`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Cairn against its anchors (runs cairn-bench); see docs/benchmarks.md."
    )

    @Argument(parsing: .captureForPassthrough, help: "queue, ingest, search, gateway or answer, and their options.")
    var arguments: [String] = []

    func run() throws {
        try BenchBinary.replaceProcess(with: ["bench"] + arguments)
    }
}

/// `cairn eval …`: runs `cairn-bench eval …`.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure quality against public test collections (runs cairn-bench)."
    )

    @Argument(parsing: .captureForPassthrough, help: "retrieval or injection, and their options.")
    var arguments: [String] = []

    func run() throws {
        try BenchBinary.replaceProcess(with: ["eval"] + arguments)
    }
}

/// The `cairn-bench` executable built beside `cairn`. Benchmarks live there so that the binary
/// `serve` runs links no mock model server (ADR 0028); the user still types `cairn bench`.
enum BenchBinary {
    /// Replaces this process with `cairn-bench arguments…`, so its output, exit status and
    /// signals are the user's own; returns only by throwing.
    static func replaceProcess(with arguments: [String]) throws -> Never {
        let own = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
        let path = own.deletingLastPathComponent().appendingPathComponent("cairn-bench").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            FileHandle.standardError.write(
                Data("error: The benchmarks run as cairn-bench, which is not at \(path); build it with 'swift build --product cairn-bench'.\n".utf8)
            )
            throw ExitCode.failure
        }
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
        argv.append(nil)
        execv(path, argv)
        FileHandle.standardError.write(Data("error: cairn-bench at \(path) could not be started (errno \(errno)).\n".utf8))
        throw ExitCode.failure
    }
}
