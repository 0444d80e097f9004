public import CairnCore
import Foundation

/// A stream whose first token has arrived: the chunks read so far, and the rest to come.
struct OpenedStream {
    var head: [ChatCompletionChunk]
    var rest: ChatChunkStream.AsyncIterator
    /// The upstream ended within the head (a reply with no output).
    var ended: Bool
}

/// What a streamed call delivers to its consumer.
public enum GatewayStreamEvent: Sendable {
    case chunk(ChatCompletionChunk)
    /// The stream failed after output had been sent; it ends here. Never followed by output
    /// from another deployment.
    case failure(CairnError)
}

/// A streamed completion the gateway has committed to one deployment.
///
/// Handed from the gateway to whoever writes the response (the front door's SSE writer, the
/// assistant), which drains it once through ``deliver(to:)``.
// @unchecked: the upstream iterator is not Sendable, but the stream is consumed exactly once,
// by one task (the response writer), after the gateway has let go of it; `deliver` is the only
// member that touches it.
public final class GatewayChatStream: @unchecked Sendable {
    public let receipt: GatewayReceipt
    private var opened: OpenedStream
    private let alias: String
    private let includeUsage: Bool
    private let schema: StructuredOutput?
    private let finished: @Sendable (Outcome) -> Void

    /// - Parameter finished: called once when the stream ends, however it ends: the ledger
    ///   and the budget learn what was delivered.
    init(
        opened: OpenedStream,
        alias: String,
        receipt: GatewayReceipt,
        includeUsage: Bool,
        schema: StructuredOutput?,
        finished: @escaping @Sendable (Outcome) -> Void
    ) {
        self.opened = opened
        self.alias = alias
        self.receipt = receipt
        self.includeUsage = includeUsage
        self.schema = schema
        self.finished = finished
    }

    /// What the stream delivered, once it has ended.
    public struct Outcome: Sendable {
        /// Usage as the provider reported it; `nil` when the stream broke before its report.
        public var usage: TokenUsage?
        /// UTF-8 bytes of output delivered: an upper bound on the output tokens when the
        /// provider never reported usage.
        public var outputBytes: Int
        public var failure: CairnError?
        /// The consumer stopped reading (the client went away) before the end.
        public var cancelled = false
    }

    /// Sends every chunk to `sink`, in order, each stamped with the alias the caller asked for;
    /// the last chunk carries the receipt. A failure after the first token becomes one
    /// `.failure` event, then the stream ends. Usage chunks reach the sink only if the caller
    /// asked for them (`stream_options.include_usage`).
    @discardableResult
    public func deliver(to sink: (GatewayStreamEvent) async throws -> Void) async throws -> Outcome {
        var outcome = Outcome(usage: nil, outputBytes: 0, failure: nil)
        do {
            try await pump(into: sink, outcome: &outcome)
        } catch {
            // The sink failed (the client went away) or the task was cancelled: the upstream
            // read stops here, and what was delivered so far is what is charged.
            outcome.cancelled = true
            finished(outcome)
            throw error
        }
        finished(outcome)
        return outcome
    }

    private func pump(into sink: (GatewayStreamEvent) async throws -> Void, outcome: inout Outcome) async throws {
        var text = ""
        var pending: ChatCompletionChunk?
        func forward(_ chunk: ChatCompletionChunk) async throws {
            var chunk = chunk
            chunk.model = alias
            if let usage = chunk.usage {
                outcome.usage = usage
                if !includeUsage { chunk.usage = nil }
            }
            for choice in chunk.choices {
                // The reply's text is kept only when a schema will check it at the end.
                if schema != nil { text += choice.delta.content ?? "" }
                outcome.outputBytes += (choice.delta.content?.utf8.count ?? 0)
                outcome.outputBytes += (choice.delta.toolCalls ?? []).reduce(0) { $0 + ($1.function?.arguments?.utf8.count ?? 0) }
            }
            // A usage-only chunk the caller did not ask for is dropped, not sent empty.
            if chunk.choices.isEmpty && chunk.usage == nil { return }
            // One chunk is held back so that the receipt can ride on the last one.
            if let previous = pending { try await sink(.chunk(previous)) }
            pending = chunk
        }
        for chunk in opened.head { try await forward(chunk) }
        if !opened.ended {
            do {
                while let chunk = try await opened.rest.next() { try await forward(chunk) }
            } catch {
                let failure = UpstreamHTTP.classify(error, deployment: receipt.deployment)
                if let previous = pending { try await sink(.chunk(previous)) }
                let error = CairnError(
                    .upstreamFailed,
                    "The model's stream broke off after it had started; the reply is incomplete.",
                    underlying: failure
                )
                outcome.failure = error
                try await sink(.failure(error))
                return
            }
        }
        if var last = pending {
            last.cairn = receipt
            if let schema {
                let violations = schema.violations(in: text)
                if !violations.isEmpty {
                    try await sink(.chunk(last))
                    let error = CairnError(.upstreamFailed, StructuredOutput.rejection(after: 1, violations))
                    outcome.failure = error
                    try await sink(.failure(error))
                    return
                }
                last.cairn?.structuredOutputAttempt = 1
            }
            try await sink(.chunk(last))
        }
    }
}
