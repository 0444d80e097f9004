public import CairnJobs
public import CairnStore
import Logging

extension RecurringTask {
    /// Fails agent runs left `running` with no job to move them (``AgentRuns/failOrphaned(quietFor:now:)``).
    public static func agentRunSweep(store: CairnStore, schedule: CronSchedule) -> RecurringTask {
        RecurringTask(name: "agent-run-sweep", schedule: schedule) { logger in
            let failed = try await store.agentRuns.failOrphaned()
            if failed > 0 { logger.warning("Agent runs without a job were failed", metadata: ["runs": "\(failed)"]) }
        }
    }
}
