import CairnCore
import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses request bodies over the configured size with 413, before any of it is decoded.
///
/// The OpenAPI runtime collects JSON bodies without a limit, so the cap is enforced here: by
/// `Content-Length` when given, and while collecting otherwise (chunked uploads).
///
/// Multipart uploads are the exception: they are streamed, never collected, so a file goes to
/// the blob store as it arrives. Their declared length is checked against the upload limit
/// (plus room for the metadata part) here; the blob store enforces the limit on the bytes
/// themselves.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = CairnRequestContext

    let maximumBytes: Int
    let maximumUploadBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if Self.isStreamedUpload(request) {
            if let declared, declared > maximumUploadBytes + maximumBytes {
                throw Problem(
                    status: .contentTooLarge,
                    slug: "payload-too-large",
                    detail: "The upload exceeds the \(maximumUploadBytes)-byte file limit."
                )
            }
            return try await next(request, context)
        }
        if let declared, declared > maximumBytes {
            throw tooLarge
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
        return try await next(request, context)
    }

    /// A multipart POST: only the upload routes accept one, and the OpenAPI runtime refuses
    /// the content type everywhere else.
    static func isStreamedUpload(_ request: Request) -> Bool {
        request.method == .post && request.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true
    }

    private var tooLarge: Problem {
        Problem(status: .contentTooLarge, slug: "payload-too-large", detail: "The request body exceeds the \(maximumBytes)-byte limit.")
    }
}
