public import CairnCore
public import CairnStore
public import Foundation

/// Makes a pipeline version the one that serves, only if it scores on the pipeline's golden
/// cases no worse than the active version (overall, and on every field either version marks
/// critical) and within its own cost and p95 bounds. A refusal names each regression with both
/// figures; an override needs a reason and is audited with it. Rolling back is promoting an
/// older version, through the same gate. The active version serves until the switch, which is
/// one statement.
public struct PipelinePromotion: Sendable {
    public let store: CairnStore
    public let blobs: any BlobStore
    public let evaluation: PipelineEvaluation

    public init(store: CairnStore, blobs: any BlobStore, evaluation: PipelineEvaluation) {
        self.store = store
        self.blobs = blobs
        self.evaluation = evaluation
    }

    public struct Outcome: Sendable {
        public let pipeline: Pipeline
        public let candidate: EvaluationReport
        public let active: EvaluationReport?
        /// What the candidate does worse, each in a phrase with both figures; empty when none.
        public let regressions: [String]
    }

    public func promote(_ name: String, version: Int, overrideReason: String? = nil, by principal: Principal) async throws -> Outcome {
        let pipeline = try await store.pipelines.get(name, for: principal)
        guard let candidateVersion = pipeline.versions.first(where: { $0.number == version }) else {
            throw CairnError(.notFound, "The pipeline '\(name)' has no version \(version).")
        }
        guard pipeline.activeVersion != version else {
            throw CairnError(.conflict, "Version \(version) of '\(name)' is already the active one.")
        }
        let golden = try await store.goldenCases.list(of: name, for: principal)
        let candidateDefinition = try candidateVersion.definition
        let activeDefinition = try pipeline.versions.first { $0.number == pipeline.activeVersion }?.definition
        var regressions: [String] = []
        var candidate = EvaluationReport(documents: [])
        var active: EvaluationReport?
        if golden.isEmpty {
            regressions.append("the pipeline has no golden cases to score it on ('cairn pipelines golden import \(name) DIR')")
        } else {
            let set = try await materialize(golden)
            defer { try? FileManager.default.removeItem(at: set.folder) }
            candidate = try await evaluation.evaluate(candidateDefinition, on: set)
            if let activeDefinition {
                let baseline = try await evaluation.evaluate(activeDefinition, on: set)
                active = baseline
                regressions += Self.regressions(of: candidate, against: baseline, critical: Self.critical(candidateDefinition, activeDefinition))
            }
            regressions += Self.outOfBounds(candidate, bounds: candidateDefinition.bounds)
        }
        let reason = overrideReason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if !regressions.isEmpty, reason?.isEmpty ?? true {
            throw CairnError(.conflict, "Version \(version) of '\(name)' is not promoted: \(regressions.joined(separator: "; ")).")
        }
        let details: [String: String] = [
            "name": name, "from": pipeline.activeVersion.map(String.init) ?? "none", "to": String(version),
            "score": String(format: "%.3f", candidate.score), "override": regressions.isEmpty ? "false" : "true",
            "reason": regressions.isEmpty ? "" : String((reason ?? "").prefix(500)),
            "regressions": String(regressions.joined(separator: "; ").prefix(500)),
        ]
        let promoted = try await store.pipelines.activate(name, version: version, details: details, by: principal)
        return Outcome(pipeline: promoted, candidate: candidate, active: active, regressions: regressions)
    }

    /// Fields either version calls critical.
    static func critical(_ candidate: PipelineDefinition, _ active: PipelineDefinition?) -> Set<String> {
        Set(candidate.documentTypes.flatMap(\.critical) + (active?.documentTypes.flatMap(\.critical) ?? []))
    }

    static func regressions(of candidate: EvaluationReport, against active: EvaluationReport, critical: Set<String>) -> [String] {
        var found: [String] = []
        if candidate.score < active.score - 1e-9 {
            found.append(String(format: "overall score %.3f against the active version's %.3f", candidate.score, active.score))
        }
        let candidateRows = Dictionary(uniqueKeysWithValues: candidate.rows.map { ($0.name, $0) })
        for row in active.rows where critical.contains(row.name) {
            let now = candidateRows[row.name]?.accuracy ?? 0
            if now < row.accuracy - 1e-9 {
                found.append(String(format: "critical field %@ %.3f against %.3f", row.name, now, row.accuracy))
            }
        }
        return found
    }

    static func outOfBounds(_ report: EvaluationReport, bounds: PipelineDefinition.Bounds?) -> [String] {
        var found: [String] = []
        if let limit = bounds?.p95Milliseconds, report.p95Milliseconds > limit {
            found.append(String(format: "p95 %.0f ms over its bound of %.0f ms", report.p95Milliseconds, limit))
        }
        if let limit = bounds?.costUSDPerDocument, !report.documents.isEmpty, report.costUSD / Double(report.documents.count) > limit {
            found.append(String(format: "cost %.4f USD a document over its bound of %.4f", report.costUSD / Double(report.documents.count), limit))
        }
        return found
    }

    /// The golden cases as a folder the evaluation reads, in a temporary directory.
    func materialize(_ golden: [GoldenCases.Entry]) async throws -> GoldenSet {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-golden-\(UUID().uuidString)")
        for sub in ["documents", "labels", "schemas"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for entry in golden {
            guard let digest = BlobDigest(entry.blobDigest) else { continue }
            let ext = URL(fileURLWithPath: entry.fileName).pathExtension
            let target = folder.appendingPathComponent("documents/\(entry.name)\(ext.isEmpty ? "" : "." + ext)")
            try await blobs.withLocalFile(digest) { url in try FileManager.default.copyItem(at: url, to: target) }
            try JSONEncoder().encode(entry.labels).write(to: folder.appendingPathComponent("labels/\(entry.name).json"))
            if let schema = entry.fieldSchema {
                try JSONEncoder().encode(schema).write(to: folder.appendingPathComponent("schemas/\(entry.name).json"))
            }
        }
        return try GoldenSet(folder: folder)
    }
}
