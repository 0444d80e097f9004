public import CairnAssistant

/// How well the injection screen separates labelled texts: the confusion counts, overall and
/// per source, from which `cairn eval injection` reports recall and false-positive rate.
public struct InjectionScreenScores: Sendable, Equatable {
    public struct Counts: Sendable, Equatable {
        public var truePositives = 0
        public var falseNegatives = 0
        public var falsePositives = 0
        public var trueNegatives = 0

        /// Injected texts flagged, of all injected texts; `nil` without any.
        public var recall: Double? { ratio(truePositives, truePositives + falseNegatives) }
        /// Clean texts flagged, of all clean texts; `nil` without any.
        public var falsePositiveRate: Double? { ratio(falsePositives, falsePositives + trueNegatives) }
        /// Flagged texts that were injected; `nil` when nothing was flagged.
        public var precision: Double? { ratio(truePositives, truePositives + falsePositives) }

        mutating func add(injected: Bool, flagged: Bool) {
            switch (injected, flagged) {
            case (true, true): truePositives += 1
            case (true, false): falseNegatives += 1
            case (false, true): falsePositives += 1
            case (false, false): trueNegatives += 1
            }
        }

        private func ratio(_ part: Int, _ whole: Int) -> Double? {
            whole == 0 ? nil : Double(part) / Double(whole)
        }
    }

    public private(set) var overall = Counts()
    public private(set) var bySource: [String: Counts] = [:]

    public init() {}

    /// Screens `text` and counts the verdict against its label.
    public mutating func score(_ text: String, injected: Bool, source: String, with screen: InjectionScreen) {
        let flagged = screen.screen(text).flagged
        overall.add(injected: injected, flagged: flagged)
        bySource[source, default: Counts()].add(injected: injected, flagged: flagged)
    }
}
