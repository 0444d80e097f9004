import Testing

@testable import CairnAssistant

@Suite("Follow-up questions")
struct FollowUpRewriterTests {
    @Test("A short, referring or continuing question is read with the one before it; a new question is taken as asked")
    func rewrites() {
        let rewriter = FollowUpRewriter()
        let previous = "What is the recovery time objective for critical systems?"
        for followUp in [
            "And for important systems?", "What about standard ones?", "Who tests it?", "Is that reviewed yearly by the risk committee?",
        ] {
            #expect(rewriter.standalone(followUp, after: previous) == previous + " " + followUp)
        }
        let fresh = "How long must suspicious activity report records be kept by the bank?"
        #expect(rewriter.standalone(fresh, after: previous) == fresh)
        #expect(rewriter.standalone("And for important systems?", after: nil) == "And for important systems?")
        let long = String(repeating: "word ", count: 400)
        #expect(rewriter.standalone("And then?", after: long).count == FollowUpRewriter.previousLength + " And then?".count)
    }
}
