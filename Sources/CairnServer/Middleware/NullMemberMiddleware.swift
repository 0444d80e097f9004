import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses JSON request bodies of Cairn's own API (`/v1`) that contain `null`, with a pointer to
/// the first one, and the same in the `metadata` part of a multipart upload. The OpenAI-compatible
/// front door is exempt: OpenAI's contract allows nulls (an assistant turn's `content` is `null`
/// when it only calls tools).
///
/// The API's request schemas never allow null: an optional member is omitted, not nulled. The
/// generated decoders read an explicit null as "absent", which would silently accept input the
/// spec calls invalid, so the rule is enforced here once for every operation. Bodies that are
/// not JSON at all pass through for the decoder to reject with its own message.
struct NullMemberMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        if request.uri.path.hasPrefix("/v1/"), contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundary = Self.boundary(of: contentType)
        {
            return try await next(try await Self.checkingMetadataPart(of: request, boundary: boundary), context)
        }
        guard request.uri.path.hasPrefix("/v1/"), contentType.lowercased().hasPrefix("application/json") else {
            return try await next(request, context)
        }
        var request = request
        // BodyLimitMiddleware, outside this one, has already bounded and buffered the body.
        let body = try await request.collectBody(upTo: .max)
        try Self.refuseNulls(in: Data(body.readableBytesView), at: "")
        return try await next(request, context)
    }

    /// Throws the problem for the first null in `json`, if it is JSON and holds one.
    static func refuseNulls(in json: Data, at prefix: String) throws {
        guard !json.isEmpty, let value = try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]),
            let found = firstNull(in: value, at: "")
        else { return }
        let pointer = prefix + found
        throw Problem(
            status: .unprocessableContent,
            slug: "invalid-input",
            detail: "The request does not match the API's schema: \(pointer.isEmpty ? "the body" : pointer) is null; omit optional members instead.",
            errors: [.init(pointer: pointer, detail: "must not be null")]
        )
    }

    /// The most of a multipart body read ahead to find its first part: an upload's `metadata`
    /// comes first and is small; the file after it is never buffered.
    static let readAheadLimit = 64 * 1024

    /// Reads the body up to the end of its first part; when that part is `metadata`, refuses a
    /// null in it as in a JSON body. The request goes on with the bytes read ahead put back.
    static func checkingMetadataPart(of request: Request, boundary: String) async throws -> Request {
        var iterator = request.body.makeAsyncIterator()
        var head = ByteBuffer()
        let delimiter = Array("\r\n--\(boundary)".utf8)
        while head.readableBytes < readAheadLimit, head.readableBytesView.firstRange(of: delimiter) == nil, let chunk = try await iterator.next() {
            head.writeImmutableBuffer(chunk)
        }
        if let part = firstPart(of: Array(head.readableBytesView), boundary: boundary), part.name == "metadata" {
            try refuseNulls(in: Data(part.content), at: "/metadata")
        }
        var request = request
        request.body = RequestBody(asyncSequence: ReadAheadBody(head: head, rest: ReadAheadBody.Rest(iterator)))
        return request
    }

    /// The `boundary` parameter of a multipart content type.
    static func boundary(of contentType: String) -> String? {
        contentType.split(separator: ";").dropFirst().lazy.compactMap { parameter -> String? in
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { return nil }
            return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }.first
    }

    /// The name and content of the first part of `bytes`, when all of it was read ahead.
    static func firstPart(of bytes: [UInt8], boundary: String) -> (name: String, content: ArraySlice<UInt8>)? {
        guard let opening = bytes.firstRange(of: Array("--\(boundary)\r\n".utf8)),
            let headersEnd = bytes[opening.upperBound...].firstRange(of: Array("\r\n\r\n".utf8)),
            let closing = bytes[headersEnd.upperBound...].firstRange(of: Array("\r\n--\(boundary)".utf8))
        else { return nil }
        let headers = String(decoding: bytes[opening.upperBound..<headersEnd.lowerBound], as: UTF8.self)
        guard let name = headers.firstMatch(of: /name="([^"]*)"/)?.output.1 else { return nil }
        return (String(name), bytes[headersEnd.upperBound..<closing.lowerBound])
    }

    static func firstNull(in value: Any, at pointer: String) -> String? {
        switch value {
        case is NSNull:
            return pointer
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                let escaped = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                if let found = firstNull(in: object[key]!, at: pointer + "/" + escaped) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = firstNull(in: element, at: pointer + "/\(index)") { return found }
            }
            return nil
        default:
            return nil
        }
    }
}

/// A request body whose first bytes were read ahead: those, then the rest of the original.
///
/// `@unchecked Sendable` (through `Rest`): a request body is unicast, so the one iterator this
/// sequence hands out is the only user of the original's, from one task at a time.
struct ReadAheadBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    final class Rest: @unchecked Sendable {
        var iterator: RequestBody.AsyncIterator

        init(_ iterator: RequestBody.AsyncIterator) {
            self.iterator = iterator
        }
    }

    let head: ByteBuffer
    let rest: Rest

    struct AsyncIterator: AsyncIteratorProtocol {
        var head: ByteBuffer?
        let rest: Rest

        mutating func next() async throws -> ByteBuffer? {
            if let head, head.readableBytes > 0 {
                self.head = nil
                return head
            }
            head = nil
            return try await rest.iterator.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(head: head, rest: rest) }
}
