import ArgumentParser

/// `cairn-bench`: the benchmarks and quality evaluations, apart from `cairn` so that what
/// `serve` runs links neither the mock model server nor the load generators. `cairn bench …`
/// and `cairn eval …` run this binary (ADR 0028).
@main
struct CairnBenchMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-bench",
        abstract: "Cairn's benchmarks and quality evaluations; see docs/benchmarks.md.",
        subcommands: [BenchCommand.self, EvalCommand.self]
    )
}
