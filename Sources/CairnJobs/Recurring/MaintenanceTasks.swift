import CairnCore
public import CairnStore
import Foundation
import Logging
import Metrics

extension RecurringTask {
    /// Deletes jobs finished (succeeded, cancelled or dead) more than `keepFinishedJobs` ago,
    /// and `Idempotency-Key` records past their expiry, in batches of 1,000 rows.
    public static func retention(store: CairnStore, schedule: CronSchedule, keepFinishedJobs: Duration) -> RecurringTask {
        RecurringTask(name: "retention", schedule: schedule) { logger in
            let cutoff = Date().addingTimeInterval(-keepFinishedJobs.inSeconds)
            var jobs = 0
            while case let pruned = try await store.jobs.prune(finishedBefore: cutoff), pruned > 0 {
                jobs += pruned
                try Task.checkCancellation()
            }
            var keys = 0
            while case let purged = try await store.idempotency.purgeExpired(), purged > 0 {
                keys += purged
                try Task.checkCancellation()
            }
            logger.info("Retention pruned finished jobs and expired idempotency keys", metadata: ["jobs": "\(jobs)", "idempotency_keys": "\(keys)"])
        }
    }

    /// Recomputes every tenant's audit hash chain. A break is an error (the run fails, the
    /// schedule records it) and sets `cairn_audit_chain_intact{tenant}` to 0, for alerting.
    public static func auditVerification(store: CairnStore, schedule: CronSchedule) -> RecurringTask {
        RecurringTask(name: "audit-verification", schedule: schedule) { logger in
            var broken: [String] = []
            for verification in try await store.audit.verify() {
                let tenant = verification.tenant.id.description
                Gauge(label: "cairn_audit_chain_intact", dimensions: [("tenant", tenant)]).record(verification.firstBreak == nil ? 1 : 0)
                if let firstBreak = verification.firstBreak {
                    logger.error("An audit chain is broken", metadata: ["tenant": "\(tenant)", "break": "\(firstBreak)"])
                    broken.append(verification.tenant.name.description)
                }
            }
            guard broken.isEmpty else {
                throw CairnError(
                    .integrityViolation,
                    "The audit chain of \(broken.joined(separator: ", ")) is broken; run 'cairn audit verify' for the first bad event."
                )
            }
        }
    }
}
