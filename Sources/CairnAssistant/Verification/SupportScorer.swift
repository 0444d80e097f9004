import CairnSearch

/// Scores how well one text backs another: the share of the claim's content terms the
/// evidence contains, blended with the cosine of their sentence embeddings when a model is
/// loaded.
///
/// Lexical overlap alone passes a sentence that repeats the question's words without
/// answering it; embeddings alone pass a sentence on a neighbouring topic (the anchors'
/// similarity-only citations, RAGFlow's down to 0.3). Each catches the other's mistakes.
struct SupportScorer: Sendable {
    private let analyzer = TextAnalyzer()
    /// Question words and modal verbs, stemmed: they say what kind of answer is wanted, not
    /// what it is about.
    private let askingTerms: Set<String>

    init() {
        let asking =
            "what which who whom whose when where why how do does did done must should shall can could would may might "
            + "our we us i me my you your about tell please any anything there here"
        askingTerms = Set(TextAnalyzer().terms(in: asking))
    }

    /// The stemmed content terms of `text`.
    func contentTerms(of text: String) -> Set<String> {
        Set(analyzer.terms(in: text)).subtracting(askingTerms)
    }

    /// The share of `claim`'s terms found in `evidence`, from 0 to 1.
    func coverage(of claim: Set<String>, in evidence: Set<String>) -> Double {
        guard !claim.isEmpty else { return 0 }
        return Double(claim.intersection(evidence).count) / Double(claim.count)
    }

    /// Coverage blended evenly with the embeddings' cosine (negative cosines count as 0).
    func score(coverage: Double, claimVector: [Float]?, evidenceVector: [Float]?) -> Double {
        guard let claimVector, let evidenceVector, claimVector.count == evidenceVector.count else { return coverage }
        var dot: Float = 0
        for index in claimVector.indices { dot += claimVector[index] * evidenceVector[index] }
        return 0.5 * coverage + 0.5 * Double(max(0, dot))
    }
}
