/// Makes a follow-up question stand on its own for retrieval, from the question before it in
/// its session.
///
/// "And for important systems?" means nothing to a search engine; after "What is the recovery
/// time objective for critical systems?" it means "recovery time objective … important
/// systems". A question is read as a follow-up when it is short (three content terms or fewer),
/// refers back (`it`, `they`, `this`, `those`, …), or opens as a continuation (`and`, `what
/// about`, `also`); the standalone question is then the previous one followed by it. Any other
/// question is taken as asked, so a change of subject does not drag the old one along.
struct FollowUpRewriter: Sendable {
    private let scorer = SupportScorer()

    /// The previous question is kept to this many characters, its end (where its own
    /// follow-up, if it was one, sits), so a long session cannot grow the query without bound.
    static let previousLength = 500

    static let referring: Set<String> = [
        "it", "its", "they", "them", "their", "this", "that", "these", "those", "there", "same", "such", "ones", "one",
    ]
    static let continuations = ["and ", "what about ", "how about ", "also ", "and what ", "but "]

    func standalone(_ question: String, after previous: String?) -> String {
        guard let previous, !previous.isEmpty else { return question }
        let lowered = question.lowercased()
        let words = lowered.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        let isFollowUp =
            scorer.contentTerms(of: question).count <= 3 || words.contains(where: Self.referring.contains)
            || Self.continuations.contains(where: lowered.hasPrefix)
        guard isFollowUp else { return question }
        return String(previous.suffix(Self.previousLength)) + " " + question
    }
}
