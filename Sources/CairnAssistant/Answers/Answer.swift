public import CairnCore

/// How an answer is written.
public enum AnswerMode: String, Sendable, CaseIterable {
    /// The best this node can do: extractive until generative answers are built.
    case auto
    /// Sentences quoted from the best-supported passages; no model writes anything.
    case extractive
}

/// What the assistant tells a principal: an answer whose every sentence is backed by a cited
/// page, or a refusal.
public struct Answer: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case extractive
        /// No visible approved document supports an answer.
        case refusal
    }

    public let kind: Kind
    /// The sentences in order, each with the citations that back it.
    public let sentences: [AnswerSentence]
    /// Every citation once, in the order first cited; sentences refer to them by position.
    public let citations: [Citation]

    /// What a refusal says. It names no document, so it leaks nothing the principal may not see.
    public static let refusalText = "The approved documents you can access don't cover this."

    public static let refusal = Answer(kind: .refusal, sentences: [], citations: [])

    /// The answer as prose, each sentence followed by its citation markers (`[1]`); a refusal's
    /// fixed sentence.
    public var text: String {
        guard kind != .refusal else { return Self.refusalText }
        return sentences.map { sentence in
            sentence.text + sentence.citations.map { " [\($0 + 1)]" }.joined()
        }.joined(separator: " ")
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
