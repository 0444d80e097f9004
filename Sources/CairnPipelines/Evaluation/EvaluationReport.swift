public import CairnCore
import Foundation

/// How an extraction did on a golden set: the dev sets' score, and the figures KYC operations
/// live by (straight-through processing): how many fields were accepted without a person, how
/// many of those were wrong, and how many wrong fields a person was shown.
public struct EvaluationReport: Sendable {
    /// One document's outcome.
    public struct Document: Sendable {
        public let id: String
        public let score: ExtractionScore
        /// Field name → whether it was accepted without review, and whether it was right.
        public let fields: [String: FieldOutcome]
        public let milliseconds: Double
        public let costUSD: Double
        /// Why the document produced nothing, when it failed.
        public let failure: String?
    }

    public struct FieldOutcome: Sendable, Equatable {
        public let autoAccepted: Bool
        public let correct: Bool
    }

    /// One row of the per-field table.
    public struct FieldRow: Sendable, Equatable {
        public let name: String
        public let count: Int
        public let correct: Int
        public let autoAccepted: Int
        public let autoAcceptedWrong: Int
        public let wrongSentToReview: Int

        public var accuracy: Double { count == 0 ? 1 : Double(correct) / Double(count) }
    }

    public let documents: [Document]

    public init(documents: [Document]) {
        self.documents = documents
    }

    /// The mean of the documents' scores.
    public var score: Double { documents.isEmpty ? 0 : documents.map(\.score.value).reduce(0, +) / Double(documents.count) }

    var outcomes: [(name: String, outcome: FieldOutcome)] { documents.flatMap { $0.fields.map { ($0.key, $0.value) } } }

    /// Field instances judged: every field expected or extracted, per document.
    public var fieldCount: Int { outcomes.count }

    /// The share of fields accepted without review.
    public var autoAcceptedShare: Double { share(outcomes.filter(\.outcome.autoAccepted).count, of: fieldCount) }

    /// The share of wrong fields among those accepted without review.
    public var autoAcceptedErrorRate: Double {
        let accepted = outcomes.filter(\.outcome.autoAccepted)
        return share(accepted.filter { !$0.outcome.correct }.count, of: accepted.count)
    }

    /// The share of wrong fields that a person was shown.
    public var wrongSentToReviewShare: Double {
        let wrong = outcomes.filter { !$0.outcome.correct }
        return share(wrong.filter { !$0.outcome.autoAccepted }.count, of: wrong.count)
    }

    public var costUSD: Double { documents.map(\.costUSD).reduce(0, +) }

    /// The 95th percentile of a document's extraction time (nearest rank).
    public var p95Milliseconds: Double {
        let sorted = documents.map(\.milliseconds).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((0.95 * Double(sorted.count)).rounded(.up)) - 1)]
    }

    public var rows: [FieldRow] {
        Dictionary(grouping: outcomes, by: \.name).map { name, outcomes in
            FieldRow(
                name: name,
                count: outcomes.count,
                correct: outcomes.filter(\.outcome.correct).count,
                autoAccepted: outcomes.filter(\.outcome.autoAccepted).count,
                autoAcceptedWrong: outcomes.filter { $0.outcome.autoAccepted && !$0.outcome.correct }.count,
                wrongSentToReview: outcomes.filter { !$0.outcome.autoAccepted && !$0.outcome.correct }.count
            )
        }.sorted { $0.name < $1.name }
    }

    /// The line scripts read, always last:
    /// `score=0.xxx documents=N fields=M auto_accepted=0.xx auto_accepted_error=0.xxx cost_usd=… p95_ms=…`.
    public var summaryLine: String {
        String(
            format: "score=%.3f documents=%d fields=%d auto_accepted=%.2f auto_accepted_error=%.3f cost_usd=%.4f p95_ms=%.0f",
            score,
            documents.count,
            fieldCount,
            autoAcceptedShare,
            autoAcceptedErrorRate,
            costUSD,
            p95Milliseconds
        )
    }

    /// The per-field table, for a person.
    public var table: String {
        var lines = ["field                      n  accuracy  auto-accepted  wrong+accepted  wrong→review"]
        for row in rows {
            lines.append(
                String(
                    format: "%@ %3d     %5.2f          %5.2f             %3d           %3d",
                    row.name.padding(toLength: 24, withPad: " ", startingAt: 0),
                    row.count,
                    row.accuracy,
                    share(row.autoAccepted, of: row.count),
                    row.autoAcceptedWrong,
                    row.wrongSentToReview
                )
            )
        }
        return lines.joined(separator: "\n")
    }

    /// Judges one document's fields against its labels: a field is correct when all its leaves
    /// match, and accepted without review when its confidence reaches `threshold` with no
    /// problem raised.
    public static func judge(
        id: String,
        expected: JSONValue,
        fields: [ExtractedField],
        threshold: Double,
        milliseconds: Double,
        costUSD: Double,
        failure: String? = nil
    ) -> Document {
        var extracted: [String: JSONValue] = [:]
        for field in fields { extracted[field.name] = field.value }
        let score = ExtractionScore(expected: expected, extracted: .object(extracted))
        var outcomes: [String: FieldOutcome] = [:]
        for (name, fieldScore) in score.fields where fieldScore.leaves > 0 {
            let field = fields.first { $0.name == name }
            let accepted = field.map { $0.confidence >= threshold && $0.problems.isEmpty } ?? false
            outcomes[name] = FieldOutcome(autoAccepted: accepted, correct: fieldScore.matched == Double(fieldScore.leaves))
        }
        return Document(id: id, score: score, fields: outcomes, milliseconds: milliseconds, costUSD: costUSD, failure: failure)
    }
}

private func share(_ part: Int, of whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }
