public import CairnCore
public import CairnDocuments

/// How an answer is written.
public enum AnswerMode: String, Sendable, CaseIterable {
    /// Generative when a model route for answers is configured, extractive otherwise.
    case auto
    /// Sentences quoted from the best-supported passages; no model writes anything.
    case extractive
    /// A model writes the answer from the retrieved passages; each claim is then verified.
    case generative
}

/// What the assistant tells a principal: an answer whose every sentence is backed by a cited
/// page, or a refusal.
public struct Answer: Sendable, Equatable {
    /// The answer's trace, once recorded (``Assistant`` records every answer it gives).
    public var id: AnswerID?

    public enum Kind: String, Sendable {
        case extractive
        /// Written by a model; only the sentences verification found supported are kept.
        case generative
        /// No visible approved document supports an answer.
        case refusal
    }

    public let kind: Kind
    /// The sentences in order, each with the citations that back it.
    public let sentences: [AnswerSentence]
    /// Every citation once, in the order first cited; sentences refer to them by position.
    public let citations: [Citation]
    /// What verification concluded about each sentence a model wrote, kept or not; empty for
    /// extractive answers, whose sentences are their quotes.
    public let verdicts: [ClaimVerdict]

    public init(kind: Kind, sentences: [AnswerSentence], citations: [Citation], verdicts: [ClaimVerdict] = []) {
        self.kind = kind
        self.sentences = sentences
        self.citations = citations
        self.verdicts = verdicts
    }

    /// What a refusal says. It names no document, so it leaks nothing the principal may not see.
    public static let refusalText = "The approved documents you can access don't cover this."

    public static let refusal = Answer(kind: .refusal, sentences: [], citations: [])

    /// The answer as prose, each sentence followed by its citation markers (`[1]`); a refusal's
    /// fixed sentence.
    public var text: String {
        tokens.joined()
    }

    /// The answer's text in pieces, a sentence with its markers each, so that a streamed
    /// answer's tokens join into exactly ``text``.
    var tokens: [String] {
        guard kind != .refusal else { return [Self.refusalText] }
        return sentences.enumerated().map { index, sentence in
            (index == 0 ? "" : " ") + sentence.text + sentence.citations.map { " [\($0 + 1)]" }.joined()
        }
    }
}

/// One sentence of an answer and the citations (positions in ``Answer/citations``) behind it.
public struct AnswerSentence: Sendable, Equatable {
    public let text: String
    public let citations: [Int]
}

/// A cited page: the quote that backs a sentence, exactly where it sits.
public struct Citation: Sendable, Equatable {
    public let chunkID: ChunkID
    public let documentID: DocumentID
    public let versionID: DocumentVersionID
    public let versionNumber: Int
    public let title: String
    /// 1-based page the quote is on.
    public let page: Int
    /// The quote, exactly as it stands on the page.
    public let quote: String
    /// Where the quote sits in the page's text, in Unicode scalars: the page's text cut at
    /// this range is the quote.
    public let span: Range<Int>
    /// How strongly the quote supports the sentence citing it, from 0 to 1.
    public let support: Double
}

/// What verification concluded about one sentence a model wrote.
public struct ClaimVerdict: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// A sentence of a cited source backs it: kept.
        case supported
        /// No sentence of the sources it cites backs it: removed.
        case unsupported
        /// It cites no source: removed.
        case uncited
        /// It cites a source number that was never given: removed.
        case invalidCitation = "invalid-citation"
    }

    /// The sentence without its citation markers.
    public let claim: String
    /// The source numbers it cited, as written (1-based).
    public let sources: [Int]
    /// The best support found among the sources it cited, from 0 to 1.
    public let support: Double
    public let outcome: Outcome
    /// The judge model's word on a claim the check found supported, when a judge is configured.
    public var judgement: Judgement? = nil

    /// What the judge model said of a claim.
    public enum Judgement: String, Sendable {
        /// The source states it: kept.
        case supported
        /// The source does not state it: removed, whatever the check found.
        case unsupported
        /// The judge could not be asked: the check's verdict stands.
        case unavailable
    }
}
