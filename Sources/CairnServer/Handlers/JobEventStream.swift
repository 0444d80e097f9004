import CairnAPI
import CairnCore
import CairnJobs
import CairnStore
import Foundation
import OpenAPIRuntime

/// The server-sent events of `GET /v1/jobs/{id}/events`: the job as JSON whenever it changes.
///
/// Pull-driven: each event is produced when the client's connection asks for the next chunk,
/// so a slow or gone client holds no buffer and no task. The job is re-read every
/// `interval` (one indexed primary-key read); a comment line every `keepAlive` keeps idle
/// proxies from closing the stream. The stream ends after the event showing a finished job.
struct JobEventStream: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>

    let store: CairnStore
    let jobID: JobID
    let principal: Principal
    var interval: Duration = .milliseconds(250)
    var keepAlive: Duration = .seconds(15)

    struct AsyncIterator: AsyncIteratorProtocol {
        let stream: JobEventStream
        /// The same JSON as `GET /v1/jobs/{id}`: sorted keys, the API's date format.
        let encoder: JSONEncoder = {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(try FlexibleISO8601DateTranscoder().encode(date))
            }
            return encoder
        }()
        var lastSent: Data?
        var lastWrite = ContinuousClock.now
        var finished = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard !finished else { return nil }
            while !Task.isCancelled {
                let (job, steps) = try await stream.store.jobs.detail(stream.jobID, for: stream.principal)
                let json = try encoder.encode(try Components.Schemas.Job(job, steps: steps))
                if json != lastSent {
                    lastSent = json
                    lastWrite = .now
                    finished = [.succeeded, .dead, .cancelled].contains(job.state)
                    return ArraySlice(Array("event: job\ndata: ".utf8) + Array(json) + Array("\n\n".utf8))
                }
                if ContinuousClock.now - lastWrite >= stream.keepAlive {
                    lastWrite = .now
                    return ArraySlice(": keep-alive\n\n".utf8)
                }
                try await Task.sleep(for: stream.interval)
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
}
