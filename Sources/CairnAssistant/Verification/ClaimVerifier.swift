import CairnCore
import CairnEmbed
import CairnSearch
import Foundation

/// Checks each sentence a model wrote against the sources it cites.
///
/// A claim is supported when some sentence of a source it cites backs it: the claim's content
/// terms found there, blended with the two sentences' embedding cosine (``SupportScorer``),
/// reach ``supportThreshold``, and every figure in the claim (`4`, `10,000`, `2026`) appears in
/// that sentence too — a policy answer with the wrong number of days is wrong, however close
/// its words. The backing sentence becomes the citation's quote, at its exact page span.
struct ClaimVerifier: Sendable {
    let embedder: (any SentenceEmbedder)?
    /// Asked about every claim the check finds supported, when configured.
    var judge: ClaimJudge? = nil
    let scorer = SupportScorer()

    /// A claim this well backed is kept. In GenerativeAnswerTests, faithful restatements of a
    /// clause scored 0.82–1 and a claim its cited passage does not hold 0.38–0.40, with MiniLM
    /// and with term overlap alone (a claim whose figure the source lacks has no candidate).
    static let supportThreshold = 0.55
    /// At most this many sentences per claim, the best covered, are embedded and weighed by
    /// meaning; embedding is nearly all of the verifier's time.
    static let embeddedCandidates = 6

    func verify(reply: String, sources: [SearchService.Hit], for principal: Principal) async throws -> Answer {
        let claims = WrittenClaim.parse(reply)
        // Only a claim that cites sources, all of them given, can be supported; only the
        // sources such claims cite are cut into sentences.
        func citesGivenSources(_ claim: WrittenClaim) -> Bool {
            !claim.sources.isEmpty && claim.sources.allSatisfy { sources.indices.contains($0 - 1) }
        }
        var evidence: [Int: [(sentence: EvidenceSentence, terms: Set<String>)]] = [:]
        for number in Set(claims.filter(citesGivenSources).flatMap(\.sources)) {
            evidence[number] = try EvidenceSentence.sentences(of: sources[number - 1])
                .map { (sentence: $0, terms: scorer.contentTerms(of: $0.quote)) }.filter { $0.terms.count >= 2 }
        }
        // Each claim's candidates: the sentences of the sources it cites that hold its figures and
        // share enough of its terms that their meaning could still lift them over the threshold
        // (support is half coverage, half cosine). Only these are embedded, which is most of the
        // verifier's time.
        let reachable = embedder == nil ? 0 : 2 * Self.supportThreshold - 1
        let candidates = claims.map { claim -> [(sentence: EvidenceSentence, coverage: Double)] in
            guard citesGivenSources(claim) else { return [] }
            let terms = scorer.contentTerms(of: claim.text)
            let figures = terms.filter { $0.contains(where: \.isNumber) }
            let cited = claim.sources.flatMap { evidence[$0] ?? [] }
            let reaching = cited.compactMap { item -> (sentence: EvidenceSentence, coverage: Double)? in
                guard figures.isSubset(of: item.terms) else { return nil }
                let coverage = scorer.coverage(of: terms, in: item.terms)
                return coverage >= reachable ? (item.sentence, coverage) : nil
            }
            return Array(reaching.sorted { $0.coverage > $1.coverage }.prefix(Self.embeddedCandidates))
        }
        var vectors: [String: [Float]] = [:]
        if let embedder {
            let texts = Array(
                Set(zip(claims, candidates).flatMap { claim, candidate in candidate.isEmpty ? [] : [claim.text] + candidate.map(\.sentence.text) })
            )
            if !texts.isEmpty {
                for (text, vector) in zip(texts, try await embedder.embed(texts)) { vectors[text] = vector }
            }
        }
        // The best-backed sentence of each claim, then the judge's word on those that pass.
        let backing = zip(claims, candidates).map { claim, candidate -> (sentence: EvidenceSentence, support: Double)? in
            var best: (sentence: EvidenceSentence, support: Double)?
            for item in candidate {
                let support = scorer.score(coverage: item.coverage, claimVector: vectors[claim.text], evidenceVector: vectors[item.sentence.text])
                if support > best?.support ?? -1 { best = (item.sentence, support) }
            }
            return best
        }
        let judgements = await judgements(of: claims, backedBy: backing, for: principal)
        var sentences: [AnswerSentence] = []
        var citations: [Citation] = []
        var verdicts: [ClaimVerdict] = []
        for (index, claim) in claims.enumerated() {
            guard !claim.sources.isEmpty else {
                verdicts.append(ClaimVerdict(claim: claim.text, sources: [], support: 0, outcome: .uncited))
                continue
            }
            guard citesGivenSources(claim) else {
                verdicts.append(ClaimVerdict(claim: claim.text, sources: claim.sources, support: 0, outcome: .invalidCitation))
                continue
            }
            guard let best = backing[index], best.support >= Self.supportThreshold else {
                verdicts.append(ClaimVerdict(claim: claim.text, sources: claim.sources, support: backing[index]?.support ?? 0, outcome: .unsupported))
                continue
            }
            let judgement = judgements[index]
            guard judgement != .unsupported else {
                verdicts.append(
                    ClaimVerdict(claim: claim.text, sources: claim.sources, support: best.support, outcome: .unsupported, judgement: judgement)
                )
                continue
            }
            verdicts.append(ClaimVerdict(claim: claim.text, sources: claim.sources, support: best.support, outcome: .supported, judgement: judgement))
            let quote = best.sentence
            let position =
                citations.firstIndex { $0.chunkID == quote.hit.chunkID && $0.span == quote.span }
                ?? {
                    citations.append(
                        Citation(
                            chunkID: quote.hit.chunkID,
                            documentID: quote.hit.documentID,
                            versionID: quote.hit.versionID,
                            versionNumber: quote.hit.versionNumber,
                            title: quote.hit.title,
                            page: quote.page,
                            quote: quote.quote,
                            span: quote.span,
                            support: best.support
                        )
                    )
                    return citations.count - 1
                }()
            sentences.append(AnswerSentence(text: claim.text, citations: [position]))
        }
        guard !sentences.isEmpty else { return Answer(kind: .refusal, sentences: [], citations: [], verdicts: verdicts) }
        return Answer(kind: .generative, sentences: sentences, citations: citations, verdicts: verdicts)
    }

    /// Judge calls in flight at once for one answer.
    static let concurrentJudgements = 4

    /// The judge's word on each claim whose backing reaches the threshold, a few at a time;
    /// `nil` for the others, and for all of them without a judge.
    private func judgements(
        of claims: [WrittenClaim],
        backedBy backing: [(sentence: EvidenceSentence, support: Double)?],
        for principal: Principal
    ) async -> [ClaimVerdict.Judgement?] {
        var judgements = [ClaimVerdict.Judgement?](repeating: nil, count: claims.count)
        guard let judge else { return judgements }
        var waiting = claims.indices.compactMap { index -> (Int, String, EvidenceSentence)? in
            guard let best = backing[index], best.support >= Self.supportThreshold else { return nil }
            return (index, claims[index].text, best.sentence)
        }[...]
        await withTaskGroup(of: (Int, ClaimVerdict.Judgement).self) { group in
            func askNext() {
                guard let (index, claim, sentence) = waiting.popFirst() else { return }
                group.addTask { (index, await judge.judge(claim, sentence: sentence.quote, passage: sentence.hit.text, for: principal)) }
            }
            for _ in 0..<Self.concurrentJudgements { askNext() }
            for await (index, judgement) in group {
                judgements[index] = judgement
                askNext()
            }
        }
        return judgements
    }
}

/// A sentence as the model wrote it: its text without citation markers, and the source
/// numbers its markers name (`[2]`, `[1, 3]`, `[1][3]`).
struct WrittenClaim: Equatable {
    let text: String
    let sources: [Int]

    static func parse(_ reply: String) -> [WrittenClaim] {
        // Markers written after the full stop ("…a year. [2]") belong to the sentence before it.
        let range = NSRange(reply.startIndex..., in: reply)
        let normalised = markerAfterStop.stringByReplacingMatches(in: reply, range: range, withTemplate: "$2$1")
        let scalars = Array(normalised.unicodeScalars)
        return SentenceBoundaries.ranges(in: scalars[...]).compactMap { range in
            var sentence = String.UnicodeScalarView()
            sentence.append(contentsOf: scalars[range])
            return claim(String(sentence))
        }
    }

    private static let markerAfterStop = try! NSRegularExpression(pattern: #"([.!?])((?:[ \t]*\[[0-9][0-9, ]*\])+)"#)

    private static func claim(_ sentence: String) -> WrittenClaim? {
        var sources: [Int] = []
        var text = ""
        var rest = Substring(sentence)
        while let open = rest.firstIndex(of: "[") {
            text += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "]") else {
                rest = rest[open...]
                break
            }
            let inside = rest[rest.index(after: open)..<close]
            let numbers = inside.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if !numbers.isEmpty, numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }) {
                sources += numbers.compactMap { Int($0) }
            } else {
                text += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        text += rest
        // "…a year [2]." leaves " ." behind; fold spaces and re-attach the full stop.
        var folded = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for mark in [" .", " ,", " ;", " !", " ?"] { folded = folded.replacingOccurrences(of: mark, with: String(mark.dropFirst())) }
        guard !folded.isEmpty else { return nil }
        var unique: [Int] = []
        for source in sources where !unique.contains(source) { unique.append(source) }
        return WrittenClaim(text: folded, sources: unique)
    }
}
