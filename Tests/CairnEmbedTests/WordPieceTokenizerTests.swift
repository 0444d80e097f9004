import CairnCore
import CairnEmbed
import Foundation
import Testing

@Suite("WordPiece tokenizer")
struct WordPieceTokenizerTests {
    /// A tokenizer over a small vocabulary written for the test: ids are line numbers.
    private static func tokenizer(_ tokens: [String]) throws -> WordPieceTokenizer {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("vocab.txt")
            try (tokens.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            return try WordPieceTokenizer(vocabularyFile: file)
        }
    }

    // 0 [PAD], 1 [UNK], 2 [CLS], 3 [SEP], 4 [MASK], then pieces.
    private static let smallVocabulary = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "unaff", "a", "##a", "!", "\u{110B}", "##\u{1161}", "##\u{11AB}", "é",
        "e",
    ]

    @Test("Words split greedily into the longest pieces; an unmatched position makes the whole word [UNK]")
    func greedyLongestMatch() throws {
        let tokenizer = try Self.tokenizer(Self.smallVocabulary)
        // "unaff" is longer than "un", so "unaffable" is unaff ##able, not un ##aff ##able.
        #expect(tokenizer.encode("Unaffable!") == [2, 8, 7, 11, 3])
        #expect(tokenizer.encode("unaffablex un") == [2, 1, 5, 3])
        // Hangul syllables decompose into jamo; accents are stripped (é matched as e).
        #expect(tokenizer.encode("\u{C548} \u{C9}") == [2, 12, 13, 14, 16, 3])
    }

    @Test("Special tokens are split out of the raw text case-sensitively; other text around them is tokenized")
    func specialTokens() throws {
        let tokenizer = try Self.tokenizer(Self.smallVocabulary)
        #expect(tokenizer.encode("a[MASK]a[SEP]") == [2, 9, 4, 9, 3, 3])
        #expect(tokenizer.encode("[mask]") == [2, 1, 1, 1, 3])
    }

    @Test("A word of more than 100 scalars is [UNK]; one of exactly 100 is spelled out")
    func longWords() throws {
        let tokenizer = try Self.tokenizer(Self.smallVocabulary)
        #expect(tokenizer.encode(String(repeating: "a", count: 101)) == [2, 1, 3])
        #expect(tokenizer.encode(String(repeating: "a", count: 100)) == [2, 9] + Array(repeating: 10, count: 99) + [3])
        #expect(tokenizer.wordPieceCount(String(repeating: "a", count: 100)) == 100)
    }

    @Test("Truncation keeps [CLS], the first maxLength − 2 pieces and [SEP]")
    func truncation() throws {
        let tokenizer = try Self.tokenizer(Self.smallVocabulary)
        let text = String(repeating: "a ", count: 10)
        #expect(tokenizer.encode(text, maxLength: 5) == [2, 9, 9, 9, 3])
        #expect(tokenizer.encode("", maxLength: 2) == [2, 3])
        #expect(tokenizer.wordPieceCount(text) == 10)
    }

    @Test("A vocabulary without the special tokens, or one that cannot be read, is refused with a sentence")
    func badVocabulary() throws {
        expectCairnError(.misconfigured) { _ = try Self.tokenizer(["a", "b"]) }
        expectCairnError(.misconfigured) {
            _ = try WordPieceTokenizer(vocabularyFile: URL(fileURLWithPath: "/nonexistent/cairn/vocab.txt"))
        }
    }

    @Test("Every fixture from the official tokenizer encodes to exactly its ids", .enabled(if: TestModel.isEnabled, TestModel.disabledReason))
    func officialFixtures() throws {
        let tokenizer = try TestModel.embedder().tokenizer
        let cases = try Fixtures.tokenizerCases()
        #expect(cases.count == 49)
        for fixture in cases {
            #expect(tokenizer.encode(fixture.text) == fixture.ids, "\(fixture.text.debugDescription) should be \(fixture.tokens)")
        }
        #expect(tokenizer.encode("") == [101, 102])
    }

    @Test("Long texts are truncated to 256 ids and counted in full", .enabled(if: TestModel.isEnabled, TestModel.disabledReason))
    func officialTruncation() throws {
        let embedder = try TestModel.embedder()
        for fixture in try Fixtures.embeddingCases() {
            let ids = embedder.tokenizer.encode(fixture.text)
            #expect(ids == fixture.ids, "\(fixture.text.prefix(40))")
            #expect(embedder.wordPieceCount(fixture.text) == fixture.wordPieces)
            #expect(ids.count == min(fixture.wordPieces + 2, 256))
            #expect(fixture.truncated == (fixture.wordPieces > 254))
        }
        let long = String(repeating: "hello ", count: 300)
        #expect(embedder.tokenizer.encode(long) == [101] + Array(repeating: 7592, count: 254) + [102])
    }
}
