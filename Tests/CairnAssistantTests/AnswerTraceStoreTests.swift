import CairnAssistant
import CairnCore
import CairnDocuments
import CairnStore
import CairnTestSupport
import Foundation
import Testing

@Suite("Answer traces")
struct AnswerTraceStoreTests {
    @Test("A trace reads back whole in its tenant, with its audit event, and is not found from another", arguments: TestEngine.all)
    func recordAndRead(engine: TestEngine) async throws {
        try await withTestStore(engine) { store in
            let northbank = try await makeTenant(store, "northbank")
            let southbank = try await makeTenant(store, "southbank")
            let trace = AnswerTrace(
                tenantID: northbank.tenantID,
                createdAt: Date(timeIntervalSince1970: 1_790_000_000.123),
                question: "How long is [REDACTED:email]'s file kept?",
                mode: "auto",
                kind: "generative",
                access: AnswerTrace.Access(northbank),
                passages: [
                    AnswerTrace.Passage(chunkID: ChunkID(), documentID: DocumentID(), versionID: DocumentVersionID(), score: 0.031, used: true)
                ],
                model: AnswerTrace.ModelCall(
                    model: "answers",
                    deployment: "gpt-4o-mini",
                    promptSHA256: String(repeating: "a", count: 64),
                    inputTokens: 812,
                    outputTokens: 40
                ),
                verdicts: [AnswerTrace.Verdict(claim: "Files are kept 7 years.", sources: [1], support: 0.91, outcome: "supported")],
                guardrails: [AnswerTrace.GuardrailDecision(check: "pii", subject: "question", decision: "redacted", detail: "email")]
            )
            try await store.answerTraces.record(trace)
            #expect(try await store.answerTraces.get(trace.id, for: northbank) == trace)
            await #expect(throws: CairnError.self) { try await store.answerTraces.get(trace.id, for: southbank) }
            await #expect(throws: CairnError.self) { try await store.answerTraces.get(AnswerID(), for: northbank) }
            let events = try await store.audit.page(for: northbank, filter: .init(action: "answer.create"), before: nil, limit: 10).events
            #expect(events.map(\.record.targetID) == [trace.id.description])
            #expect(events.first?.record.details == ["kind": "generative", "passages": "1", "model": "answers"])
            #expect(try await store.audit.verify().allSatisfy { $0.firstBreak == nil })
        }
    }
}
