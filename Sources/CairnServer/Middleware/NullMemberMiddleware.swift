import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses JSON request bodies of Cairn's own API (`/v1`) that contain `null`, with a pointer to
/// the first one. The OpenAI-compatible front door is exempt: OpenAI's contract allows nulls
/// (an assistant turn's `content` is `null` when it only calls tools).
///
/// The API's request schemas never allow null: an optional member is omitted, not nulled. The
/// generated decoders read an explicit null as "absent", which would silently accept input the
/// spec calls invalid, so the rule is enforced here once for every operation. Bodies that are
/// not JSON at all pass through for the decoder to reject with its own message.
struct NullMemberMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/"), request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            return try await next(request, context)
        }
        var request = request
        // BodyLimitMiddleware, outside this one, has already bounded and buffered the body.
        let body = try await request.collectBody(upTo: .max)
        if body.readableBytes > 0,
            let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed]),
            let pointer = Self.firstNull(in: json, at: "")
        {
            throw Problem(
                status: .unprocessableContent,
                slug: "invalid-input",
                detail:
                    "The request does not match the API's schema: \(pointer.isEmpty ? "the body" : pointer) is null; omit optional members instead.",
                errors: [.init(pointer: pointer, detail: "must not be null")]
            )
        }
        return try await next(request, context)
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
