import CairnSearch
import Testing

@Suite struct TextAnalyzerTests {
    let analyzer = TextAnalyzer()

    @Test func runsLucenesEnglishPipeline() {
        // Possessive, case, stop word ("in"), Porter stem; "were" is not one of Lucene's 33.
        #expect(analyzer.terms(in: "The bank's Fees were RAISED in 2024") == ["bank", "fee", "were", "rais", "2024"])
    }

    @Test func keepsOrderAndRepeats() {
        #expect(analyzer.terms(in: "loans, loans and more loans") == ["loan", "loan", "more", "loan"])
    }

    @Test func removesEveryEnglishStopWordInAnyCase() {
        #expect(TextAnalyzer.englishStopWords.count == 33)
        #expect(analyzer.terms(in: TextAnalyzer.englishStopWords.joined(separator: " ")).isEmpty)
        #expect(analyzer.terms(in: "THE And Their WITH").isEmpty)
        // Only whole words: "another" and "them" are not stop words.
        #expect(analyzer.terms(in: "another them") == ["anoth", "them"])
    }

    @Test func stripsPossessives() {
        #expect(analyzer.terms(in: "John's JOHN'S O’Neil’s") == ["john", "john", "o'neil"])
        // "it's" loses its possessive-looking 's and is then a stop word, as in Lucene.
        #expect(analyzer.terms(in: "it's") == [])
        #expect(analyzer.terms(in: "don't") == ["don't"])
    }

    @Test func separatesOnPunctuationAndHyphens() {
        #expect(
            analyzer.terms(in: "state-of-the-art (draft) [v1]; end. \"quoted\"/slash") == ["state", "art", "draft", "v1", "end", "quot", "slash"]
        )
        // A colon separates; an apostrophe or full stop outside a word is dropped.
        #expect(analyzer.terms(in: "note:fees 'quoted' end.") == ["note", "fee", "quot", "end"])
    }

    @Test func keepsFullStopsBetweenLettersAndDigits() {
        #expect(analyzer.terms(in: "U.S.A. e.g. hello.world") == ["u.s.a", "e.g", "hello.world"])
        #expect(analyzer.terms(in: "3.14 1,000,000 costs, 7") == ["3.14", "1,000,000", "cost", "7"])
        // A comma between letters separates; a full stop between a letter and a digit too.
        #expect(analyzer.terms(in: "apples,pears b.1") == ["appl", "pear", "b", "1"])
    }

    @Test func keepsNumbersAndMixedWords() {
        #expect(analyzer.terms(in: "1990s covid19 v2.0 ISO-20022") == ["1990", "covid19", "v2.0", "iso", "20022"])
    }

    @Test func joinsUnderscoresAndDropsThemAtTheEdges() {
        #expect(analyzer.terms(in: "account_id __init__ total_") == ["account_id", "init", "total"])
    }

    @Test func foldsLatinDiacriticsInEitherNormalForm() {
        let precomposed = "Caf\u{E9} na\u{EF}ve \u{141}\u{F3}d\u{17A} Stra\u{DF}e"
        let decomposed = "Cafe\u{301} nai\u{308}ve L\u{301}o\u{301}dz\u{301}"
        #expect(analyzer.terms(in: precomposed) == ["cafe", "naiv", "lodz", "strass"])
        #expect(analyzer.terms(in: decomposed) == ["cafe", "naiv", "lodz"])
        #expect(analyzer.terms(in: "\u{C6}r\u{F8}") == ["aero"])
    }

    @Test func lowercasesOtherScripts() {
        #expect(analyzer.terms(in: "МОСКВА Москва") == ["москва", "москва"])
    }

    @Test func splitsIdeographsAndKeepsKatakanaRuns() {
        #expect(analyzer.terms(in: "東京タワーへ") == ["東", "京", "タワー", "へ"])
    }

    @Test func dropsFormatCharactersInsideWords() {
        #expect(analyzer.terms(in: "co\u{AD}operate") == ["cooper"])
    }

    @Test func cutsWordsEvery255Scalars() {
        let terms = analyzer.terms(in: String(repeating: "x", count: 600))
        #expect(terms.map(\.count) == [255, 255, 90])
    }

    @Test func findsNothingInEmptyOrPunctuationOnlyText() {
        #expect(analyzer.terms(in: "").isEmpty)
        #expect(analyzer.terms(in: "  \n\t ... !! -- ’ ").isEmpty)
    }
}
