import CairnCore
import CairnJSONSchema
import Foundation

/// A reply's contract when the request's `response_format` is a JSON Schema: the schema,
/// compiled once, and the wording of the repair request sent back to the model.
///
/// Whatever a provider promises about its JSON mode, the reply is validated here; a reply that
/// is not JSON, or breaks the schema, is never passed on as if it were valid.
struct StructuredOutput: Sendable {
    private let schema: JSONSchema

    /// `nil` when the format asks for no schema. An invalid schema is the caller's error.
    init?(_ format: ResponseFormat?) throws(CairnError) {
        guard case .jsonSchema(let requested)? = format else { return nil }
        do {
            schema = try JSONSchema(requested.schema)
        } catch {
            throw CairnError(.invalidInput, "response_format.json_schema.schema is not a valid JSON Schema: \(error)")
        }
    }

    /// What is wrong with `text` as an instance of the schema; empty when it conforms.
    func violations(in text: String) -> [JSONSchemaViolation] {
        guard let instance = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            return [JSONSchemaViolation(instanceLocation: "", keywordLocation: "", message: "The reply is not valid JSON.")]
        }
        return schema.validate(instance)
    }

    /// The message that asks the model to try again, naming each violation (at most ten).
    static func repairPrompt(_ violations: [JSONSchemaViolation]) -> String {
        let listed = violations.prefix(10).map { "- \($0.message)" }
        return """
            Your previous reply does not match the required JSON Schema:
            \(listed.joined(separator: "\n"))
            Reply again with only the corrected JSON, matching the schema exactly.
            """
    }

    /// The error for a reply still invalid after the last ask.
    static func rejection(after asks: Int, _ violations: [JSONSchemaViolation]) -> String {
        let listed = violations.prefix(5).map(\.message)
        return "The model's reply broke the response schema after \(asks) \(asks == 1 ? "ask" : "asks"): \(listed.joined(separator: "; "))"
    }
}
