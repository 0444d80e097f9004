import CairnCore
import CairnPipelines
import Testing

@Suite("Pipeline definitions")
struct PipelineDefinitionTests {
    static let kyc = """
        description: Individual KYC
        accept_threshold: 0.85
        bounds: { cost_usd_per_document: 0.02, p95_ms: 30000 }
        document_types:
          - name: passport
            keywords: [passport, "P<"]
            critical: [document_number, date_of_birth]
            schema:
              type: object
              properties:
                document_number: { type: string, description: Passport number. }
                date_of_birth: { type: string, description: Date of birth, YYYY-MM-DD. }
                expiry_date: { type: string, description: Date of expiry, YYYY-MM-DD. }
                surname: { type: string }
          - name: utility_bill
            keywords: [electricity, water, gas]
            schema:
              type: object
              properties:
                address: { type: string, description: Service address, lines joined by spaces. }
                issue_date: { type: string, description: Bill date, YYYY-MM-DD. }
        rules:
          - { kind: expires_after_today, field: passport.expiry_date }
          - { kind: age_at_least, field: passport.date_of_birth, years: 18 }
          - { kind: younger_than_days, field: utility_bill.issue_date, days: 90 }
        cross_checks:
          - { name: address, fields: [subject.address, utility_bill.address], threshold: 0.85 }
        """

    @Test("A YAML definition reads whole: types, schemas in order, rules, cross-checks")
    func reads() throws {
        let definition = try PipelineDefinition(text: Self.kyc)
        #expect(definition.acceptThreshold == 0.85 && definition.bounds?.p95Milliseconds == 30_000)
        #expect(definition.documentTypes.map(\.name) == ["passport", "utility_bill"])
        #expect(try definition.documentTypes[0].fields.properties.map(\.name) == ["document_number", "date_of_birth", "expiry_date", "surname"])
        #expect(definition.rules.map(\.kind) == [.expiresAfterToday, .ageAtLeast, .youngerThanDays])
        #expect(definition.crossChecks.first?.fields == ["subject.address", "utility_bill.address"])
    }

    @Test("JSON is YAML: the same definition as JSON reads the same")
    func json() throws {
        let json = """
            {"document_types": [{"name": "passport", "schema": {"type": "object", "properties": {"surname": {"type": "string"}}}}]}
            """
        let definition = try PipelineDefinition(text: json)
        #expect(definition.documentTypes.map(\.name) == ["passport"] && definition.acceptThreshold == 0.8)
    }

    @Test(
        "A bad definition is refused with one sentence naming what is wrong",
        arguments: [
            ("document_types: [", "The pipeline definition is not valid YAML or JSON."),
            ("description: x", "The pipeline definition lacks 'document_types'."),
            ("document_types: []", "The pipeline definition names no document type."),
            ("document_types: [{name: passport}]", "The pipeline definition lacks 'document_types[0].schema'."),
            (
                "document_types: [{name: Passport, schema: {type: object, properties: {a: {type: string}}}}]",
                "'Passport' cannot name a document type: use lower-case letters, digits, _ and -, and neither 'other' nor 'subject'."
            ),
            (
                "document_types: [{name: p, critical: [b], schema: {type: object, properties: {a: {type: string}}}}]",
                "The critical field 'b' is not in the schema of 'p'."
            ),
            (
                "document_types: [{name: p, schema: {type: object, properties: {a: {type: string}}}}]\nrules: [{kind: age_at_least, field: p.b, years: 18}]",
                "The rule age_at_least refers to 'p.b', which no document type defines."
            ),
            (
                "document_types: [{name: p, schema: {type: object, properties: {a: {type: string}}}}]\nrules: [{kind: age_at_least, field: p.a}]",
                "The rule age_at_least needs years, a positive number."
            ),
            (
                "document_types: [{name: p, schema: {type: object, properties: {a: {type: string}}}}]\naccept_threshold: 2",
                "accept_threshold must lie between 0 and 1."
            ),
            (
                "document_types: [{name: p, schema: {type: object, properties: {a: {type: string}}}}]\nrules: [{kind: teleport}]",
                "'rules[0].kind' in the pipeline definition is not valid."
            ),
        ]
    )
    func refuses(_ text: String, _ sentence: String) {
        #expect {
            try PipelineDefinition(text: text)
        } throws: { ($0 as? CairnError)?.message == sentence }
    }
}
