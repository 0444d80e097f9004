import CairnCore
import CairnStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Honours `Idempotency-Key` on every POST that creates something.
///
/// - The first request with a key reserves it, runs, and (if it succeeded) stores its status
///   and body; a repeat of the same request gets exactly that response back, marked
///   `Idempotent-Replayed: true`.
/// - The same key with a different request (method, path, body or caller) answers 422.
/// - Concurrent requests with one key: one runs; the others wait for its response (up to
///   `waitLimit`) and replay it, or get 409 with `Retry-After` if it is still running.
/// - Only successful (2xx) responses are kept. A request that failed took no effect, so the
///   key is given back and the client may retry with it.
///
/// Keys belong to the caller's tenant (the platform scope for the operator) and expire after
/// `retention`. The fingerprint includes the caller, so another principal of the same tenant
/// replaying a key gets 422, never someone else's response (an API key's secret).
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    let records: IdempotencyRecords
    let retention: Duration
    /// How long a reservation is held before a crashed holder's key may be taken over.
    var lock: Duration = .seconds(60)
    var waitLimit: Duration = .seconds(10)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Uploads are streamed, so there is no body to fingerprint; they are idempotent by
        // content instead (identical bytes create nothing).
        guard request.method == .post, !BodyLimitMiddleware.isStreamedUpload(request), let key = request.headers[Self.header],
            let caller = RequestCaller.current
        else {
            return try await next(request, context)
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Problem(status: .badRequest, slug: "invalid-input", detail: "The Idempotency-Key header must be 1–255 visible ASCII characters.")
        }
        var request = request
        // BodyLimitMiddleware has already collected the body within its limit; this returns it.
        let body = try await request.collectBody(upTo: .max)
        let (scope, actor): (IdempotencyRecords.Scope, String) =
            switch caller {
            case .principal(let principal): (.tenant(principal.tenantID), principal.auditActor)
            case .platformOperator: (.platform, "operator")
            }
        let fingerprint = Self.fingerprint(method: request.method.rawValue, path: request.uri.description, actor: actor, body: body)

        let deadline = ContinuousClock.now + waitLimit
        while true {
            switch try await records.reserve(key, scope: scope, fingerprint: fingerprint, lockFor: lock, keepFor: retention) {
            case .reserved:
                return try await run(request, context: context, key: key, scope: scope, next: next)
            case .completed(let stored):
                return Self.replay(stored)
            case .mismatch:
                throw Problem(
                    status: .unprocessableContent,
                    slug: "idempotency-key-reused",
                    detail: "This Idempotency-Key was already used for a different request; use a new key for a new request."
                )
            case .inProgress:
                guard ContinuousClock.now < deadline else {
                    var problem = Problem(
                        status: .conflict,
                        slug: "idempotency-key-in-use",
                        detail: "A request with this Idempotency-Key is still running; retry shortly."
                    )
                    problem.headers[.retryAfter] = "1"
                    throw problem
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    private func run(
        _ request: Request,
        context: Context,
        key: String,
        scope: IdempotencyRecords.Scope,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            try await records.release(key, scope: scope)
            throw error
        }
        guard (200..<300).contains(response.status.code) else {
            try await records.release(key, scope: scope)
            return response
        }
        let collector = BodyCollector()
        try await response.body.write(collector)
        let bytes = collector.sink.buffer.withLock { $0 }
        try await records.store(
            .init(status: response.status.code, contentType: response.headers[.contentType], body: Data(bytes.readableBytesView)),
            for: key,
            scope: scope
        )
        var buffered = response
        buffered.body = .init(byteBuffer: bytes)
        return buffered
    }

    private static func replay(_ stored: IdempotencyRecords.StoredResponse) -> Response {
        var headers: HTTPFields = [replayedHeader: "true"]
        if let contentType = stored.contentType { headers[.contentType] = contentType }
        return Response(status: .init(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
    }

    static func fingerprint(method: String, path: String, actor: String, body: ByteBuffer) -> String {
        var hash = SHA256()
        for part in [method, path, actor] {
            hash.update(data: Data(part.utf8))
            hash.update(data: [0])
        }
        hash.update(data: Data(body.readableBytesView))
        return hash.finalize().hexString
    }
}

/// Collects a response body in memory (responses that create something are small JSON).
private struct BodyCollector: ResponseBodyWriter {
    final class Sink: Sendable {
        let buffer = Mutex(ByteBuffer())
    }

    let sink = Sink()

    func write(_ chunk: ByteBuffer) async throws {
        sink.buffer.withLock { _ = $0.writeImmutableBuffer(chunk) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
