import CairnEmbed
import CairnSearch

/// Answers from the retrieved passages' own sentences, with no model: the sentences that best
/// answer the question, each citing the page it is quoted from, or a refusal when none does.
struct ExtractiveAnswerer: Sendable {
    let embedder: (any SentenceEmbedder)?
    let scorer = SupportScorer()

    /// Passages whose sentences are considered, best first.
    static let passages = 5
    static let maximumSentences = 3
    /// A sentence answers the question only when its relevance reaches this…
    static let relevanceThreshold = 0.45
    /// …and it holds at least this share of the question's content terms. Both sit between
    /// what the demo corpus's questions measured (demo/policies/QUESTIONS.md, MiniLM): the
    /// best sentence for a covered question scored relevance 0.54–0.89 and coverage 0.44–1;
    /// for an uncovered one, 0.25–0.39 and 0.17–0.29.
    static let coverageThreshold = 0.34
    /// Further sentences join the best one when they come this close to it.
    static let companionShare = 0.85
    /// At most this many sentences, the best covered, are embedded and weighed by meaning:
    /// embedding is nearly all of the pipeline's time (docs/benchmarks.md), and a sentence
    /// sharing fewer of the question's terms than eight others rarely answers it better.
    static let embeddedCandidates = 8

    func answer(_ question: String, from hits: [SearchService.Hit]) async throws -> Answer {
        let questionTerms = scorer.contentTerms(of: question)
        guard !questionTerms.isEmpty else { return .refusal }
        var candidates: [(rank: Int, sentence: EvidenceSentence, terms: Set<String>)] = []
        var seen: Set<String> = []
        for (rank, hit) in hits.prefix(Self.passages).enumerated() {
            for sentence in try EvidenceSentence.sentences(of: hit) where sentence.isComplete {
                let terms = scorer.contentTerms(of: sentence.quote)
                // Fragments ("3.", a lone defined term) answer nothing; repeats of a sentence
                // across overlapping passages are scored once.
                guard terms.count >= 3, seen.insert(sentence.text).inserted else { continue }
                candidates.append((rank, sentence, terms))
            }
        }
        // A sentence below the coverage threshold can never be chosen, whatever its meaning: only
        // the best covered of the others are embedded, ties in retrieval's order.
        let eligible = candidates.compactMap {
            candidate -> (candidate: (rank: Int, sentence: EvidenceSentence, terms: Set<String>), coverage: Double)? in
            let coverage = scorer.coverage(of: questionTerms, in: candidate.terms)
            return coverage >= Self.coverageThreshold ? (candidate, coverage) : nil
        }.sorted {
            ($1.coverage, $0.candidate.rank, $0.candidate.sentence.position) < ($0.coverage, $1.candidate.rank, $1.candidate.sentence.position)
        }
        .prefix(Self.embeddedCandidates)
        guard !eligible.isEmpty else { return .refusal }
        let vectors = try await embedder?.embed([question] + eligible.map(\.candidate.sentence.text))
        let scored = eligible.enumerated().map { offset, item in
            let relevance = scorer.score(coverage: item.coverage, claimVector: vectors?[0], evidenceVector: vectors?[offset + 1])
            return (candidate: item.candidate, coverage: item.coverage, relevance: relevance)
        }.sorted { $0.relevance > $1.relevance }
        guard let best = scored.first, best.relevance >= Self.relevanceThreshold, best.coverage >= Self.coverageThreshold else {
            return .refusal
        }
        let floor = max(Self.relevanceThreshold, best.relevance * Self.companionShare)
        let chosen = scored.filter { $0.relevance >= floor && $0.coverage >= Self.coverageThreshold }
            .prefix(Self.maximumSentences)
            // Read in document order: passage rank, then position within the passage.
            .sorted { ($0.candidate.rank, $0.candidate.sentence.position) < ($1.candidate.rank, $1.candidate.sentence.position) }
        var citations: [Citation] = []
        let sentences = chosen.map { item in
            let sentence = item.candidate.sentence
            citations.append(
                Citation(
                    chunkID: sentence.hit.chunkID,
                    documentID: sentence.hit.documentID,
                    versionID: sentence.hit.versionID,
                    versionNumber: sentence.hit.versionNumber,
                    title: sentence.hit.title,
                    page: sentence.page,
                    quote: sentence.quote,
                    // An extractive sentence is its quote, word for word.
                    span: sentence.span,
                    support: 1
                )
            )
            return AnswerSentence(text: sentence.text, citations: [citations.count - 1])
        }
        return Answer(kind: .extractive, sentences: sentences, citations: citations)
    }
}
