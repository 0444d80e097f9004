import CairnCore
import CairnPipelines
import Foundation
import Testing

/// The scoring rule of `../shared/data/extraction-dev/README.md`, on crafted cases.
@Suite("Extraction scores")
struct ExtractionScoreTests {
    static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func score(_ expected: String, _ extracted: String) throws -> ExtractionScore {
        ExtractionScore(expected: try json(expected), extracted: try json(extracted))
    }

    @Test("Strings match after lower-casing and dropping whitespace and punctuation; numbers to 6 places")
    func normalisation() throws {
        let score = try Self.score(
            #"{"company": "BOOK TA .K (TAMAN DAYA) SDN BHD", "total": 9.0000001, "date": "25/12/2018"}"#,
            #"{"company": "book ta k taman daya sdn bhd", "total": 9.0, "date": "25-12-2018"}"#
        )
        #expect(score.value == 1)
        #expect(score.leaves == 3)
    }

    @Test("A wrong leaf scores 0 of its 1, and the score is the leaf-weighted mean")
    func wrongLeaf() throws {
        let score = try Self.score(#"{"a": "x", "b": "y", "c": {"d": 1, "e": 2}}"#, #"{"a": "x", "b": "z", "c": {"d": 1, "e": 3}}"#)
        #expect(score.matched == 2 && score.leaves == 4)
        #expect(score.fields["c"] == .init(matched: 1, leaves: 2))
    }

    @Test("Arrays match regardless of order")
    func arraysOutOfOrder() throws {
        let score = try Self.score(
            #"{"lines": [{"name": "Glacier", "price": "2.22"}, {"name": "S3", "price": "0.01"}]}"#,
            #"{"lines": [{"name": "S3", "price": "0.01"}, {"name": "Glacier", "price": "2.22"}]}"#
        )
        #expect(score.value == 1)
    }

    @Test("A missing item counts its leaves against; an extra item counts its leaves against too")
    func missingAndExtraItems() throws {
        let missing = try Self.score(#"{"tags": ["a", "b", "c"]}"#, #"{"tags": ["c", "a"]}"#)
        #expect(missing.matched == 2 && missing.leaves == 3)
        let extra = try Self.score(#"{"tags": ["a"]}"#, #"{"tags": ["a", "z"]}"#)
        #expect(extra.matched == 1 && extra.leaves == 2)
        let partial = try Self.score(
            #"{"lines": [{"name": "x", "price": 1}, {"name": "y", "price": 2}]}"#,
            #"{"lines": [{"name": "y", "price": 5}]}"#
        )
        #expect(partial.matched == 1 && partial.leaves == 4, "the best pair is (y, y): 1 of 2 leaves, and x's 2 are unmatched")
    }

    @Test("Nulls and empty values are dropped on both sides; a value where none was expected costs a leaf")
    func nulls() throws {
        #expect(try Self.score(#"{"a": "x", "b": null, "c": "", "d": []}"#, #"{"a": "x"}"#).value == 1)
        #expect(try Self.score(#"{"a": "x"}"#, #"{"a": "x", "b": null, "c": " ", "d": {}}"#).value == 1)
        let invented = try Self.score(#"{"a": "x", "b": null}"#, #"{"a": "x", "b": "guess"}"#)
        #expect(invented.matched == 1 && invented.leaves == 2)
        let missed = try Self.score(#"{"a": "x", "b": "y"}"#, #"{"a": "x", "b": null}"#)
        #expect(missed.matched == 1 && missed.leaves == 2)
        #expect(try Self.score("{}", "{}").value == 1)
    }

    @Test("A number and a string of the same digits differ: the schema says which a field is")
    func types() throws {
        #expect(try Self.score(#"{"total": 9}"#, #"{"total": "9"}"#).value == 0)
    }
}
