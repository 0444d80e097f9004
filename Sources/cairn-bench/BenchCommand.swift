import ArgumentParser
import CairnBench
import CairnCore
import CairnJobs
import CairnRuntime
import CairnStore
import Foundation
import Logging

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Cairn against its anchors; see docs/benchmarks.md.",
        subcommands: [BenchQueue.self, BenchIngest.self, BenchSearch.self, BenchGateway.self, BenchAnswer.self]
    )
}

/// `cairn bench queue`: no-op jobs per second on the configured engine, with 1 and 4 workers,
/// unbatched and batched, each the median of `--runs`; on PostgreSQL also `pgbench` TPS (its
/// default TPC-B-like script, same client count) on the same cluster, and the ratio.
///
/// Every run gets a store of its own (a temporary SQLite file, or a scratch PostgreSQL schema
/// dropped afterwards), so the bench never touches Cairn's own data.
struct BenchQueue: CairnCommand {
    static let configuration = CommandConfiguration(commandName: "queue", abstract: "Queue throughput: enqueue + claim + complete of no-op jobs.")

    @OptionGroup var logging: LoggingOptions

    @Option(help: "Jobs per run.")
    var jobs = 5000

    @Option(help: "Worker counts to measure, comma-separated (also the producer and pgbench client counts).")
    var workers = "1,4"

    @Option(help: "Slots per worker, as `cairn worker --concurrency`.")
    var concurrency = 4

    @Option(help: "Runs per configuration; the median is reported.")
    var runs = 3

    @Option(help: "Seconds each pgbench measurement lasts.")
    var pgbenchSeconds = 10

    func run(settings: Settings, logger base: Logger) async throws {
        // Per-job warnings would drown the figures; errors still show.
        var quiet = base
        quiet.logLevel = .error
        let logger = quiet
        let counts = try workers.split(separator: ",").map { text in
            guard let count = Int(text.trimmingCharacters(in: .whitespaces)), (1...256).contains(count) else {
                throw CairnError(.invalidInput, "--workers takes whole numbers from 1 to 256 separated by commas; '\(text)' is not one.")
            }
            return count
        }
        guard (1...10_000_000).contains(jobs), (1...99).contains(runs), (1...600).contains(pgbenchSeconds), (1...1_000).contains(concurrency) else {
            throw CairnError(.invalidInput, "--jobs takes 1–10,000,000, --runs 1–99, --pgbench-seconds 1–600 and --concurrency 1–1,000.")
        }
        let location = try settings.databaseLocation
        let engine = if case .postgres = location { "postgres" } else { "sqlite" }
        print("bench queue: engine=\(engine) jobs=\(jobs) concurrency=\(concurrency) runs=\(runs) (median)")
        for workerCount in counts {
            let anchor: Double? =
                if case .postgres(let postgres) = location {
                    try await PGBench(location: postgres, logger: logger).transactionsPerSecond(clients: workerCount, seconds: pgbenchSeconds)
                } else { nil }
            for mode in QueueBenchmark.Mode.allCases {
                var rates: [Double] = []
                for _ in 0..<runs {
                    let postgres: PostgresLocation? = if case .postgres(let postgres) = location { postgres } else { nil }
                    rates.append(
                        try await CairnStore.withScratch(postgres: postgres, maximumConnections: workerCount * 2 + 4, schema: .cairn, logger: logger)
                        { store in
                            try await QueueBenchmark(store: store, logger: logger).run(
                                jobs: jobs,
                                workers: workerCount,
                                concurrency: concurrency,
                                mode: mode
                            )
                        }
                    )
                }
                let median = rates.sorted()[rates.count / 2]
                var line = "queue engine=\(engine) workers=\(workerCount) mode=\(mode.rawValue) jobs=\(jobs) jobs_per_s=\(Int(median.rounded()))"
                if let anchor {
                    line += " pgbench_tps=\(Int(anchor.rounded())) ratio=\(String(format: "%.2f", median / anchor))"
                }
                print(line)
            }
        }
    }
}
