import CairnCore

/// What leaves for a provider when the tenant's policy redacts personal data: every text of the
/// request with e-mail addresses, phone numbers, IBANs, card numbers and national ids replaced
/// by `[REDACTED:<kind>]` (``PIIDetector``, with its checksums, so policy references and amounts
/// pass unchanged).
///
/// Only what is sent is redacted: the caller's request, the response cache and the ledger keep
/// what was asked. A model then cannot repeat a redacted value, which is the point.
enum PersonalDataRedaction {
    private static let detector = PIIDetector()

    static func redacted(_ request: ChatRequest) -> ChatRequest {
        var outbound = request
        outbound.messages = request.messages.map { message in
            var message = message
            message.content = message.content.map(redacted)
            message.toolCalls = message.toolCalls?.map { call in
                var call = call
                call.function.arguments = redacted(call.function.arguments)
                return call
            }
            return message
        }
        return outbound
    }

    static func redacted(_ text: String) -> String {
        detector.redacted(text)
    }
}
