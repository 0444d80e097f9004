import CairnCore
import Foundation
import Testing

@testable import CairnGateway

@Suite("What leaves for a provider under the tenant's privacy policy")
struct PersonalDataRedactionTests {
    @Test("Message texts, names, the user label and the strings inside tool-call arguments are redacted; arguments stay JSON")
    func redactsEveryText() throws {
        var request = ChatRequest(
            model: "chat",
            messages: [
                ChatMessage(role: .user, content: "Write to jane.doe@example.com about GB82 WEST 1234 5698 7654 32."),
                ChatMessage(
                    role: .assistant,
                    content: nil,
                    toolCalls: [
                        ToolCall(
                            id: "c1",
                            function: .init(name: "lookup", arguments: #"{"iban":"GB82 WEST 1234 5698 7654 32","amount":4111111111111111}"#)
                        )
                    ]
                ),
            ]
        )
        request.messages[0].name = "jane.doe@example.com"
        request.user = "jane.doe@example.com"
        let sent = PersonalDataRedaction.redacted(request)
        #expect(sent.messages[0].content == "Write to [REDACTED:email] about [REDACTED:iban].")
        #expect(sent.messages[0].name == "[REDACTED:email]" && sent.user == "[REDACTED:email]")
        let arguments = try #require(sent.messages[1].toolCalls?.first?.function.arguments)
        #expect(arguments == #"{"amount":4111111111111111,"iban":"[REDACTED:iban]"}"#, "a number stays a number, so the arguments stay JSON")
        #expect((try? JSONDecoder().decode(JSONValue.self, from: Data(arguments.utf8))) != nil)
        #expect(PersonalDataRedaction.redacted(#"not json: jane.doe@example.com"#) == "not json: [REDACTED:email]")
    }
}
