import CairnCore
import CairnDocuments
import Testing

@testable import CairnAssistant
@testable import CairnSearch

/// Sentences cut from passages, and answers built from them, without a model (term overlap
/// alone) so each case says exactly why it passes.
@Suite("Extractive answers")
struct ExtractiveAnswerTests {
    /// Two pages' texts; the passage covers the end of page 3 and the start of page 4.
    static let page3 =
        "3. Governance\n3.1 The Chief Information Officer is accountable for technology risk.\n3.2 The Board approves the technology risk appetite statement at least once a year. The statement sets limits"
    static let page4 = "for availability, e.g. for payments.\n\n4. Testing\n4.1 Recovery plans of critical systems are tested every six months."

    static func hit(text: String, spans: [(page: Int, start: Int, end: Int)], title: String = "Technology Risk Policy") -> SearchService.Hit {
        let json = "[" + spans.map { #"{"page":\#($0.page),"start":\#($0.start),"end":\#($0.end)}"# }.joined(separator: ",") + "]"
        return SearchService.Hit(
            chunkID: ChunkID(),
            documentID: DocumentID(),
            versionID: DocumentVersionID(),
            versionNumber: 2,
            title: title,
            firstPage: spans.first!.page,
            lastPage: spans.last!.page,
            headingPath: [],
            text: text,
            spansJSON: json,
            score: 1,
            retrievers: [.lexical]
        )
    }

    /// The passage: page 3 from "3.1" to its end, then page 4 whole, joined by "\n".
    static var crossingPage: SearchService.Hit {
        let offset = Array(page3.unicodeScalars).firstIndex(of: "\n")! + 1
        let piece = String(String.UnicodeScalarView(Array(page3.unicodeScalars)[offset...]))
        return hit(
            text: piece + "\n" + page4,
            spans: [(3, offset, page3.unicodeScalars.count), (4, 0, page4.unicodeScalars.count)]
        )
    }

    @Test("Every sentence is cut back out of its page at its span, and a page break ends a sentence")
    func sentencesKeepTheirPages() throws {
        let sentences = try EvidenceSentence.sentences(of: Self.crossingPage)
        let pages = [3: Array(Self.page3.unicodeScalars), 4: Array(Self.page4.unicodeScalars)]
        for sentence in sentences {
            let cut = String(String.UnicodeScalarView(pages[sentence.page]![sentence.span]))
            #expect(cut == sentence.quote)
        }
        #expect(
            sentences.map(\.text) == [
                "3.1 The Chief Information Officer is accountable for technology risk.",
                "3.2 The Board approves the technology risk appetite statement at least once a year.",
                "The statement sets limits",
                "for availability, e.g. for payments.",
                "4. Testing",
                "4.1 Recovery plans of critical systems are tested every six months.",
            ]
        )
        #expect(sentences.map(\.page) == [3, 3, 3, 4, 4, 4])
        #expect(sentences.map(\.isComplete) == [true, true, false, true, false, true])
    }

    @Test("Sentences run together without a space are split; abbreviations and versions are not")
    func runTogetherSentences() throws {
        let text =
            "Alterations can affect cortical development.A line scan was applied, e.g.The U.S.A team used v1.2 here.To assess effects, infants were studied."
        let hit = Self.hit(text: text, spans: [(1, 0, text.unicodeScalars.count)])
        #expect(
            try EvidenceSentence.sentences(of: hit).map(\.text) == [
                "Alterations can affect cortical development.",
                "A line scan was applied, e.g.The U.S.A team used v1.2 here.",
                "To assess effects, infants were studied.",
            ]
        )
    }

    @Test("A passage whose spans do not cover its text is an error, not a wrong citation")
    func spansMustCoverText() {
        let broken = Self.hit(text: "Short.", spans: [(1, 0, 400)])
        #expect(throws: EvidenceError.self) { try EvidenceSentence.sentences(of: broken) }
    }

    @Test("The best-covered sentence answers, cited to its page and span")
    func answersWithCitation() async throws {
        let answerer = ExtractiveAnswerer(embedder: nil)
        let answer = try await answerer.answer("What must the Board approve about technology risk appetite?", from: [Self.crossingPage])
        #expect(answer.kind == .extractive)
        #expect(answer.sentences.map(\.text) == ["3.2 The Board approves the technology risk appetite statement at least once a year."])
        let citation = try #require(answer.citations.first)
        #expect(citation.page == 3 && citation.versionNumber == 2 && citation.title == "Technology Risk Policy")
        #expect(answer.text == "3.2 The Board approves the technology risk appetite statement at least once a year. [1]")
    }

    @Test("A question the passages do not cover is refused, naming nothing")
    func refusesWhatIsNotCovered() async throws {
        let answerer = ExtractiveAnswerer(embedder: nil)
        for question in ["What is the interest rate on fixed mortgages?", "Who won the football cup?", "what?", "   "] {
            let answer = try await answerer.answer(question, from: [Self.crossingPage])
            #expect(answer == .refusal, "\(question)")
            #expect(answer.text == Answer.refusalText)
        }
        #expect(try await answerer.answer("What must the Board approve?", from: []) == .refusal)
    }
}
