public import AsyncHTTPClient
public import NIOCore

/// What one upstream event means to the gateway.
public enum UpstreamStreamStep: Sendable {
    /// Pass this chunk on.
    case chunk(ChatCompletionChunk)
    /// The provider's end-of-stream marker; anything after it is ignored.
    case done
}

/// Turns a provider's streamed bytes into OpenAI chunks: its framing (server-sent events, AWS
/// event stream) and its events. One instance per stream, so it may keep state across events
/// (a message id, which content block is which tool call).
public protocol UpstreamStreamTranslator: Sendable {
    /// Consumes the next bytes; returns the steps they complete, in order.
    mutating func consume(_ bytes: ByteBuffer) throws -> [UpstreamStreamStep]
}

/// A streamed completion, translated to OpenAI chunks as the upstream's bytes arrive.
///
/// Pull-driven: bytes are read from the connection only when the consumer asks for the next
/// chunk, so a slow client slows the upstream read instead of filling a buffer. A stream that
/// ends without the dialect's end marker was cut, and fails with `.connectionFailed` rather
/// than ending as if it were complete.
public struct ChatChunkStream: AsyncSequence, Sendable {
    public typealias Element = ChatCompletionChunk

    private let body: HTTPClientResponse.Body
    private let deployment: String
    private let translator: any UpstreamStreamTranslator

    public init(body: HTTPClientResponse.Body, deployment: String, translator: any UpstreamStreamTranslator) {
        self.body = body
        self.deployment = deployment
        self.translator = translator
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var bytes: HTTPClientResponse.Body.AsyncIterator
        let deployment: String
        var translator: any UpstreamStreamTranslator
        var pending: [UpstreamStreamStep] = []
        var finished = false

        public mutating func next() async throws(UpstreamFailure) -> ChatCompletionChunk? {
            while !finished {
                if !pending.isEmpty {
                    switch pending.removeFirst() {
                    case .chunk(let chunk): return chunk
                    case .done: finished = true
                    }
                    continue
                }
                let buffer: ByteBuffer?
                do {
                    buffer = try await bytes.next()
                } catch {
                    throw UpstreamFailure(.connectionFailed, deployment: deployment, detail: "the stream broke off: \(error)")
                }
                guard let buffer else {
                    throw UpstreamFailure(.connectionFailed, deployment: deployment, detail: "the stream ended without its end marker")
                }
                do {
                    pending = try translator.consume(buffer)
                } catch let failure as UpstreamFailure {
                    throw failure
                } catch {
                    throw UpstreamFailure(.malformedResponse, deployment: deployment, detail: String(describing: error))
                }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(bytes: body.makeAsyncIterator(), deployment: deployment, translator: translator)
    }
}
