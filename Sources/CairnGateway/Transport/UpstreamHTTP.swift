import AsyncHTTPClient
import CairnCore
import Foundation
import NIOCore
import NIOHTTP1

/// Sends one request to a deployment and classifies what goes wrong as an ``UpstreamFailure``.
enum UpstreamHTTP {
    /// The most of an error body kept for the log line.
    static let errorBodyLimit = 16 << 10
    /// The most of a successful, non-streamed answer read.
    static let responseLimit = 32 << 20

    /// Sends `request`; returns the response when its status is 2xx.
    static func send(_ request: HTTPClientRequest, on target: DeploymentTarget) async throws(UpstreamFailure) -> HTTPClientResponse {
        let name = target.deployment.name
        let response: HTTPClientResponse
        do {
            response = try await target.client.execute(request, timeout: .init(target.deployment.timeouts.total))
        } catch {
            throw classify(error, deployment: name)
        }
        guard (200..<300).contains(response.status.code) else {
            let detail = (try? await response.body.collect(upTo: errorBodyLimit)).map { String(buffer: $0) } ?? ""
            if response.status == .tooManyRequests {
                throw UpstreamFailure(.rateLimited(retryAfter: retryAfter(response.headers)), deployment: name, detail: detail)
            }
            throw UpstreamFailure(.status(Int(response.status.code)), deployment: name, detail: detail)
        }
        return response
    }

    /// Sends `request` and decodes the whole JSON answer as `Answer`.
    static func sendJSON<Answer: Decodable>(
        _ request: HTTPClientRequest,
        on target: DeploymentTarget,
        as answer: Answer.Type
    ) async throws(UpstreamFailure) -> Answer {
        let response = try await send(request, on: target)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: responseLimit)
        } catch {
            throw classify(error, deployment: target.deployment.name)
        }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
        } catch {
            throw UpstreamFailure(.malformedResponse, deployment: target.deployment.name, detail: String(describing: error))
        }
    }

    /// A JSON POST with the given headers.
    static func post(_ url: String, json body: some Encodable, headers: [(String, String)]) throws(UpstreamFailure) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        } catch {
            throw UpstreamFailure(.malformedResponse, deployment: "", detail: "the request could not be encoded: \(error)")
        }
        return request
    }

    static func classify(_ error: any Error, deployment: String) -> UpstreamFailure {
        if let failure = error as? UpstreamFailure { return failure }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .writeTimeout:
                return UpstreamFailure(.timedOut, deployment: deployment, detail: String(describing: client))
            case .bodyLengthMismatch:
                return UpstreamFailure(.malformedResponse, deployment: deployment, detail: String(describing: client))
            default:
                return UpstreamFailure(.connectionFailed, deployment: deployment, detail: String(describing: client))
            }
        }
        return UpstreamFailure(.connectionFailed, deployment: deployment, detail: String(describing: error))
    }

    /// `Retry-After` as seconds or an HTTP date; absurd values are capped at an hour.
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let value = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds.isFinite, seconds >= 0 { return .milliseconds(Int64(min(seconds, 3600) * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int64(min(max(0, date.timeIntervalSinceNow), 3600) * 1000))
    }
}
