import CairnCore
import Foundation

/// What leaves for a provider when the tenant's policy redacts personal data: every text of the
/// request with e-mail addresses, phone numbers, IBANs, card numbers and national ids replaced
/// by `[REDACTED:<kind>]` (``PIIDetector``, with its checksums, so policy references and amounts
/// pass unchanged).
///
/// Only what is sent is redacted: the caller's request and the ledger keep what was asked. A
/// model then cannot repeat a redacted value, which is the point.
enum PersonalDataRedaction {
    private static let detector = PIIDetector()

    static func redacted(_ request: ChatRequest) -> ChatRequest {
        var outbound = request
        // `user` is often an e-mail address; it is the caller's label, so it goes redacted too.
        outbound.user = request.user.map(redacted)
        outbound.messages = request.messages.map { message in
            var message = message
            message.content = message.content.map(redacted)
            message.name = message.name.map(redacted)
            message.toolCalls = message.toolCalls?.map { call in
                var call = call
                call.function.arguments = redactedArguments(call.function.arguments)
                return call
            }
            return message
        }
        return outbound
    }

    static func redacted(_ text: String) -> String {
        detector.redacted(text)
    }

    /// Tool-call arguments stay JSON: the strings inside are redacted and the object re-encoded.
    /// Arguments that are not JSON (a model's slip) are redacted as text.
    private static func redactedArguments(_ text: String) -> String {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { return redacted(text) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(redacted(value))).map { String(decoding: $0, as: UTF8.self) } ?? redacted(text)
    }

    private static func redacted(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(redacted(text))
        case .array(let values): .array(values.map(redacted))
        case .object(let members): .object(members.mapValues(redacted))
        case .number, .bool, .null: value
        }
    }
}
