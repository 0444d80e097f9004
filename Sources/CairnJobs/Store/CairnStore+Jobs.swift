public import CairnStore

extension CairnStore {
    /// The durable job queue.
    public var jobs: JobRepository { JobRepository(database: database) }
    /// The keyed side effects of the queue probe jobs.
    public var queueProbes: QueueProbes { QueueProbes(database: database) }
    /// The leases of recurring tasks.
    public var recurringSchedules: RecurringSchedules { RecurringSchedules(database: database) }
}

/// The job queue's tables: jobs, workflow steps, recurring schedules.
public enum JobsSchema {
    public static let migrations: [Migration] = [.jobs, .workflows, .queueMaintenance, .keyedJobsIndex]
}
