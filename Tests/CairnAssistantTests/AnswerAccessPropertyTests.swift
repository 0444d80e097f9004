import CairnAssistant
import CairnCore
import CairnDocuments
import CairnGateway
import CairnMockLLM
import CairnStore
import CairnTestSupport
import Foundation
import Logging
import Testing

@testable import CairnSearch

/// Random corpora under random access policies, asked by random principals, answers streamed:
/// nothing a principal receives — tokens, citations, the final answer, the answer's trace, an
/// error — carries the text, title or id of a document it may not see.
///
/// Each document carries a marker word of its own in its title and in every passage, so that
/// any leak of it is a string anyone can search for. The model is the `mock` provider over
/// loopback, which by default echoes the prompt it was sent: whatever reached the model comes
/// back as tokens, so a passage that slipped into the prompt would show.
@Suite("Answers never leak a document the asker may not see")
struct AnswerAccessPropertyTests {
    static let topics = ["retention", "approval", "escalation", "reporting", "review"]
    static let labels = ["north", "south", "west"]

    struct Corpus {
        struct Entry {
            let id: DocumentID
            let title: String
            let marker: String
            let policy: DocumentAccessPolicy
        }
        let entries: [Entry]
    }

    @Test("Tokens, citations, answers, traces and errors of streamed answers name only visible documents", arguments: TestEngine.all)
    func neverLeaks(engine: TestEngine) async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        try await withTestStore(engine) { store in
            let admin = try await makeTenant(store, "northbank")
            _ = try await store.documents.createCollection(by: admin, name: "library", description: "", defaultPolicy: DocumentAccessPolicy())
            let search = SearchService(
                store: store,
                index: SearchIndex(feed: store.indexFeed, dimension: nil, logger: Logger(label: "cairn.test.search")),
                embedder: nil
            )
            try await withMockAnswerRoute(store: store) { route, script in
                var generator = SeededGenerator(seed: seed)
                let corpus = try await Self.record(documents: 14, in: store, owner: admin, using: &generator)
                let assistant = Assistant(search: search, route: route, traces: store.answerTraces, sessions: store.answerSessions)
                var cases = 0
                var leaksChecked = 0
                for round in 0..<60 {
                    let principal = Self.randomPrincipal(of: admin, using: &generator)
                    let hidden = corpus.entries.filter { !$0.policy.admits(principal) }
                    // Questions name a topic, and often the marker of a document the asker may not see.
                    var question = "What does the policy say about \(Self.topics.randomElement(using: &generator)!)?"
                    if let target = hidden.randomElement(using: &generator), Bool.random(using: &generator) { question += " \(target.marker)" }
                    let mode: AnswerMode = round.isMultiple(of: 3) ? .extractive : .generative
                    // Every fifth generative question meets a failing model, to see its error too.
                    if mode == .generative, round.isMultiple(of: 5) { script.enqueue(.fail(status: 400), model: "writer-model") }
                    var received: [String] = []
                    var answerID: AnswerID?
                    do {
                        for await event in try await assistant.stream(Assistant.Question(question, mode: mode), for: principal) {
                            switch event {
                            case .token(let text): received.append(text)
                            case .citation(let citation):
                                received += [citation.quote, citation.title, citation.documentID.description, citation.versionID.description]
                                #expect(!hidden.contains { $0.id == citation.documentID }, "cited a hidden document")
                            case .answer(let answer):
                                received.append(answer.text)
                                answerID = answer.id
                            case .failure(let error): received.append(error.message)
                            }
                        }
                    } catch let error as CairnError {
                        received.append(error.message)
                    }
                    if let answerID {
                        let trace = try await store.answerTraces.get(answerID, for: admin)
                        received.append(trace.question)
                        received += trace.passages.flatMap { [$0.documentID, $0.chunkID] }
                        received += trace.verdicts.map(\.claim)
                        #expect(
                            !trace.passages.contains { passage in hidden.contains { $0.id.description == passage.documentID } },
                            "a hidden passage is in the trace"
                        )
                    }
                    let everything = received.joined(separator: "\n")
                    for entry in hidden {
                        // The question may repeat a hidden marker the asker typed itself; nothing else may.
                        let typed = question.contains(entry.marker)
                        #expect(typed || !everything.contains(entry.marker), "seed \(seed): '\(entry.marker)' reached a principal who may not see it")
                        #expect(!everything.contains(entry.title), "seed \(seed): the title '\(entry.title)' leaked")
                        #expect(!everything.contains(entry.id.description), "seed \(seed): the id of '\(entry.title)' leaked")
                        leaksChecked += 1
                    }
                    cases += 1
                }
                #expect(cases == 60 && leaksChecked > 100, "checked \(leaksChecked) hidden documents in \(cases) answers")
            }
        }
    }

    /// `count` documents with random policies, each a few passages on the shared topics plus its own marker.
    static func record(documents count: Int, in store: CairnStore, owner: Principal, using generator: inout SeededGenerator) async throws -> Corpus {
        var entries: [Corpus.Entry] = []
        for index in 0..<count {
            let marker = "zq\(index)x\(UInt32.random(in: 1000...9999, using: &generator))"
            let title = "Policy \(marker) Title"
            let policy = DocumentAccessPolicy(
                classification: Classification.allCases.randomElement(using: &generator)!,
                entities: labels.filter { _ in Bool.random(using: &generator) },
                branches: [],
                groups: labels.filter { _ in Int.random(in: 0..<3, using: &generator) == 0 }
            )
            let texts = topics.shuffled(using: &generator).prefix(3).map { topic in
                "\(index).1 The \(topic) of \(marker) records is owned by the \(marker) team. Every \(topic) is reported to the committee within 5 days."
            }
            let document = try await recordApprovedDocument(
                title: title,
                pages: Array(texts),
                policy: policy,
                collection: "library",
                digestSeed: index + 1,
                in: store,
                owner: owner
            )
            entries.append(Corpus.Entry(id: document, title: title, marker: marker, policy: policy))
        }
        return Corpus(entries: entries)
    }

    static func randomPrincipal(of admin: Principal, using generator: inout SeededGenerator) -> Principal {
        Principal(
            tenantID: admin.tenantID,
            tenantName: admin.tenantName,
            subject: "analyst-\(UInt16.random(in: 0...999, using: &generator))",
            roles: [.analyst],
            groups: labels.filter { _ in Bool.random(using: &generator) },
            attributes: AccessAttributes(
                entities: labels.filter { _ in Bool.random(using: &generator) },
                clearance: Classification.allCases.randomElement(using: &generator)!
            ),
            credential: .apiKey(APIKeyID())
        )
    }
}
