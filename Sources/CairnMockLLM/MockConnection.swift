import CairnCore
import Logging
import NIOCore
import NIOHTTP1

/// Serves one connection: reads its requests one after another (keep-alive) and answers each as its
/// route and the script say.
struct MockConnection: Sendable {
    typealias Channel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    private typealias Parts = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    private typealias Writer = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    /// The largest request body kept; larger ones get 413, and the rest of them is dropped unread.
    static let maxBodyBytes = 8 << 20

    let script: MockScript
    let dialects: [any MockDialect]
    let logger: Logger

    func serve(_ connection: Channel) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                while let request = try await Self.read(&parts) {
                    guard try await answer(request, parts: &parts, outbound: outbound, channel: connection.channel) else { return }
                }
            }
        } catch {
            // Clients that time out, go away or send garbage are part of a mock's day, not errors.
            logger.debug("Mock connection closed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    // MARK: Reading

    /// One request off the wire.
    private enum Incoming {
        case request(HTTPRequestHead, ByteBuffer)
        /// The body is over ``MockConnection/maxBodyBytes``; it has not been read to the end.
        case tooLarge(HTTPRequestHead)
    }

    /// The next request; `nil` when the client closed the connection.
    private static func read(_ parts: inout Parts) async throws -> Incoming? {
        // NIO's decoder delivers a head first and parts in order; anything else ends the connection.
        guard case .head(let head)? = try await parts.next() else { return nil }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > maxBodyBytes {
            return .tooLarge(head)
        }
        var body = ByteBuffer()
        while let part = try await parts.next() {
            switch part {
            case .body(var chunk):
                guard body.readableBytes + chunk.readableBytes <= maxBodyBytes else { return .tooLarge(head) }
                // Most bodies arrive in one chunk, which is kept as it is instead of copied.
                if body.readableBytes == 0 { body = chunk } else { body.writeBuffer(&chunk) }
            case .end:
                return .request(head, body)
            case .head:
                return nil
            }
        }
        return nil
    }

    // MARK: Answering

    /// What to do with one request, decided before a byte is written.
    private struct Plan {
        var action: Action
        var latency = MockLatency.zero
        /// The model a chat or embeddings request named, for the script's counters.
        var model: String?

        enum Action {
            /// Write the response; when `cutAfter` is set, stop after that many content chunks (half
            /// the body of a complete response) and close.
            case respond(MockResponse, cutAfter: Int? = nil)
            case hang
            case reset
        }
    }

    /// Answers one request; returns whether the connection stays open for another.
    private func answer(_ incoming: Incoming, parts: inout Parts, outbound: Writer, channel: any NIOCore.Channel) async throws -> Bool {
        switch incoming {
        case .tooLarge(let head):
            let rejection = RequestRejection(.payloadTooLarge, "The request body is over \(Self.maxBodyBytes) bytes.")
            let response = MockResponse.error(rejection, in: dialect(for: head) ?? Self.fallbackDialect)
            let keepAlive = try await write(response, to: head, keepAlive: head.isKeepAlive, cutAfter: nil, latency: .zero, outbound: outbound)
            // The rest of the body is read and dropped: closing with unread bytes would make the kernel
            // send RST, and the client would see a reset instead of the 413.
            while let part = try await parts.next() {
                if case .end = part { return keepAlive }
            }
            return false
        case .request(let head, let body):
            let plan = plan(head, body)
            switch plan.action {
            case .respond(let response, let cutAfter):
                return try await write(
                    response,
                    to: head,
                    keepAlive: head.isKeepAlive,
                    cutAfter: cutAfter,
                    latency: plan.latency,
                    outbound: outbound
                ) { [script] in
                    if let model = plan.model { script.recordAbandonedStream(model: model) }
                }
            case .hang:
                // Nothing is written. The request ends when the client closes the connection (the inbound
                // stream ends) or the server stops (this task is cancelled and `next()` throws).
                while try await parts.next() != nil {}
                return false
            case .reset:
                if plan.latency.firstByte > .zero { try await Task.sleep(for: plan.latency.firstByte) }
                if let socket = channel as? any SocketOptionProvider { try await Self.resetOnClose(socket) }
                return false
            }
        }
    }

    /// Routes, parses, consults the script and builds the response, without suspending.
    private func plan(_ head: HTTPRequestHead, _ body: ByteBuffer) -> Plan {
        let (path, query) = Self.split(head.uri)
        if path.hasPrefix("/mock/") {
            return Plan(action: .respond(control(head.method, path: path, body: body)))
        }
        for dialect in dialects {
            do throws(RequestRejection) {
                if let route = try dialect.route(head.method, path: path, query: query) {
                    try dialect.authenticate(head, path: path, query: query, body: body, script: script)
                    return plan(route, in: dialect, head: head, body: body)
                }
            } catch {
                return Plan(action: .respond(.error(error, in: dialect)))
            }
        }
        return Plan(action: .respond(.error(RequestRejection(.notFound, "No route for \(head.method.rawValue) \(path)."), in: Self.fallbackDialect)))
    }

    private func plan(_ route: DialectRoute, in dialect: any MockDialect, head: HTTPRequestHead, body: ByteBuffer) -> Plan {
        do {
            switch route.operation {
            case .listModels:
                if let required = script.requiredAPIKey, dialect.credential(in: head.headers) != required {
                    return Plan(action: .respond(.error(Self.unauthorized, in: dialect)))
                }
                return Plan(action: .respond(.json(try dialect.encodeModelList(script.knownModels.sorted()))))
            case .chat:
                let chat = try dialect.parseChat(body, route: route, headers: head.headers)
                let admission = script.admit(
                    MockRecordedRequest(head: head, body: body),
                    model: chat.model,
                    credential: dialect.credential(in: head.headers)
                )
                var planned = try plan(admission, in: dialect) { step in
                    let reply = try ReplyPlanner.reply(to: chat, scripted: step, sequence: admission.sequence)
                    if chat.stream {
                        return MockResponse.stream(try dialect.encodeChatStream(reply, for: chat))
                    }
                    return MockResponse.json(try dialect.encodeChat(reply, for: chat))
                }
                planned.model = chat.model
                return planned
            case .embeddings:
                let embeddings = try dialect.parseEmbeddings(body, route: route)
                let admission = script.admit(
                    MockRecordedRequest(head: head, body: body),
                    model: embeddings.model,
                    credential: dialect.credential(in: head.headers)
                )
                return try plan(admission, in: dialect) { _ in
                    let vectors = embeddings.inputs.map { MockEmbeddings.vector(for: $0, dimensions: embeddings.dimensions) }
                    return MockResponse.json(try dialect.encodeEmbeddings(vectors, for: embeddings))
                }
            }
        } catch let rejection as RequestRejection {
            return Plan(action: .respond(.error(rejection, in: dialect)))
        } catch {
            logger.error("Mock could not write a reply", metadata: ["error": "\(String(reflecting: error))"])
            return Plan(action: .respond(.error(RequestRejection(.internalServerError, "The mock could not write its reply."), in: dialect)))
        }
    }

    /// Applies the credential check and the script's step; `reply` builds the successful response.
    private func plan(
        _ admission: MockScript.Admission,
        in dialect: any MockDialect,
        reply: (MockStep?) throws -> MockResponse
    ) rethrows -> Plan {
        guard admission.isAuthorized else {
            return Plan(action: .respond(.error(Self.unauthorized, in: dialect)), latency: admission.latency)
        }
        let action: Plan.Action
        switch admission.step {
        case .fail(let status, let retryAfter)?:
            let rejection = RequestRejection(HTTPResponseStatus(statusCode: status), "Scripted failure: HTTP \(status).", retryAfter: retryAfter)
            action = .respond(.error(rejection, in: dialect))
        case .hang?:
            action = .hang
        case .reset?:
            action = .reset
        case .cutStream(let chunks)?:
            action = .respond(try reply(nil), cutAfter: chunks)
        case let step:
            action = .respond(try reply(step))
        }
        return Plan(action: action, latency: admission.latency)
    }

    /// `POST`/`DELETE /mock/script` and `GET /mock/requests`.
    private func control(_ method: HTTPMethod, path: Substring, body: ByteBuffer) -> MockResponse {
        let dialect = Self.fallbackDialect
        switch (method, path) {
        case (.POST, "/mock/script"):
            do {
                script.apply(try JSONText.decode(MockScriptUpdate.self, from: body))
                return MockResponse(status: .noContent, body: .complete(ByteBuffer()))
            } catch {
                return .error(error, in: dialect)
            }
        case (.DELETE, "/mock/script"):
            script.reset()
            return MockResponse(status: .noContent, body: .complete(ByteBuffer()))
        case (.GET, "/mock/requests"):
            do {
                return .json(try JSONText.buffer(script.requestLog))
            } catch {
                return .error(RequestRejection(.internalServerError, "The request log could not be written."), in: dialect)
            }
        case (_, "/mock/script"), (_, "/mock/requests"):
            return .error(RequestRejection(.methodNotAllowed, "\(path) does not take \(method.rawValue)."), in: dialect)
        default:
            return .error(RequestRejection(.notFound, "No route for \(method.rawValue) \(path)."), in: dialect)
        }
    }

    // MARK: Writing

    /// Writes `response` after the latency; returns whether the connection stays open.
    ///
    /// - Parameter abandoned: called when the client closes the connection while a stream is
    ///   still being written chunk by chunk.
    private func write(
        _ response: MockResponse,
        to request: HTTPRequestHead,
        keepAlive: Bool,
        cutAfter: Int?,
        latency: MockLatency,
        outbound: Writer,
        abandoned: () -> Void = {}
    ) async throws -> Bool {
        if latency.firstByte > .zero { try await Task.sleep(for: latency.firstByte) }
        var head = HTTPResponseHead(version: request.version, status: response.status, headers: response.headers)
        if !keepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
        switch response.body {
        case .complete where response.status == .noContent:
            // A 204 carries neither a body nor a Content-Length.
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
        case .complete(var body):
            head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
            if cutAfter != nil {
                // Half the body, then a close: the client sees fewer bytes than Content-Length promised.
                body.moveWriterIndex(to: body.readerIndex + body.readableBytes / 2)
                try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(body))])
                return false
            }
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(body)), .end(nil)])
        case .stream(let stream):
            head.headers.replaceOrAdd(name: "content-type", value: stream.contentType)
            head.headers.replaceOrAdd(name: "cache-control", value: "no-cache")
            let content = cutAfter.map { stream.content.prefix($0) } ?? stream.content[...]
            let closing: [HTTPServerResponsePart] = cutAfter == nil ? stream.closing.map { .body(.byteBuffer($0)) } + [.end(nil)] : []
            if latency.perChunk == .zero {
                // One write and one flush for the whole stream: the fast path benchmarks measure.
                try await outbound.write(contentsOf: [.head(head)] + (stream.opening + content).map { .body(.byteBuffer($0)) } + closing)
            } else {
                try await outbound.write(contentsOf: [.head(head)] + stream.opening.map { .body(.byteBuffer($0)) })
                do {
                    for chunk in content {
                        try await Task.sleep(for: latency.perChunk)
                        try await outbound.write(.body(.byteBuffer(chunk)))
                    }
                    try await outbound.write(contentsOf: closing)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    // A write into a connection the client has closed fails: it stopped reading.
                    abandoned()
                    throw error
                }
            }
            if cutAfter != nil { return false }
        }
        return keepAlive
    }

    // MARK: Helpers

    /// Sets SO_LINGER to "on, 0 seconds", so that closing the socket sends RST rather than FIN: a reset,
    /// as a crashed upstream or a middlebox gives.
    private static func resetOnClose(_ socket: any SocketOptionProvider) async throws {
        var linger = try await socket.getSoLinger().get()
        // `struct linger` is `{int l_onoff; int l_linger;}` on every POSIX system, but its fields belong to
        // NIO's internal C module, which MemberImportVisibility keeps out of reach; so they are set as bytes.
        withUnsafeMutableBytes(of: &linger) { bytes in
            bytes.storeBytes(of: 1, toByteOffset: 0, as: CInt.self)
            bytes.storeBytes(of: 0, toByteOffset: MemoryLayout<CInt>.stride, as: CInt.self)
        }
        try await socket.setSoLinger(linger).get()
    }

    /// Errors outside every dialect's routes take OpenAI's shape, the one most clients read.
    private static let fallbackDialect: any MockDialect = OpenAIDialect(isAzure: false)

    private static let unauthorized = RequestRejection(.unauthorized, "Incorrect API key provided.")

    private func dialect(for head: HTTPRequestHead) -> (any MockDialect)? {
        let (path, query) = Self.split(head.uri)
        return dialects.first { (try? $0.route(head.method, path: path, query: query)) != nil }
    }

    private static func split(_ uri: String) -> (path: Substring, query: Substring?) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], nil) }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }
}

/// A response, complete or streamed, before it is written.
struct MockResponse: Sendable {
    var status: HTTPResponseStatus
    var headers = HTTPHeaders()
    var body: Body

    enum Body: Sendable {
        case complete(ByteBuffer)
        case stream(MockStream)
    }

    static func json(_ body: ByteBuffer) -> MockResponse {
        MockResponse(status: .ok, headers: ["content-type": "application/json"], body: .complete(body))
    }

    static func stream(_ stream: MockStream) -> MockResponse {
        MockResponse(status: .ok, body: .stream(stream))
    }

    static func error(_ rejection: RequestRejection, in dialect: any MockDialect) -> MockResponse {
        var headers: HTTPHeaders = ["content-type": "application/json"]
        if let retryAfter = rejection.retryAfter { headers.add(name: "retry-after", value: String(retryAfter)) }
        headers.add(contentsOf: dialect.errorHeaders(rejection))
        return MockResponse(status: rejection.status, headers: headers, body: .complete(dialect.encodeError(rejection)))
    }
}
