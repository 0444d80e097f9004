import CairnServer
import Foundation
import Logging
import Synchronization
import Testing

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let captured = Mutex<[[UInt8]]>([])
    }

    @Test("Each event is one line of valid JSON with time, level, message and metadata, hostile text escaped")
    func format() throws {
        let lines = Lines()
        var logger = Logger(label: "cairn.test") { label in
            JSONLogHandler(label: label, level: .debug, sink: LogSink { bytes in lines.captured.withLock { $0.append(bytes) } })
        }
        logger[metadataKey: "hb.request.id"] = "req-1"
        logger.info("Quote \" backslash \\ newline \n tab \t bell \u{07} ünïcode ✓", metadata: ["nested": ["k": "v", "list": ["a", "b"]]])
        logger.debug("second")
        let captured = lines.captured.withLock { $0 }
        #expect(captured.count == 2)
        let first = try #require(captured.first)
        #expect(first.last == UInt8(ascii: "\n"))
        #expect(!first.dropLast().contains(UInt8(ascii: "\n")))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first)) as? [String: Any])
        #expect(object["msg"] as? String == "Quote \" backslash \\ newline \n tab \t bell \u{07} ünïcode ✓")
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "cairn.test")
        #expect(object["hb.request.id"] as? String == "req-1")
        #expect((object["nested"] as? [String: Any])?["list"] as? [String] == ["a", "b"])
        let timestamp = try #require(object["ts"] as? String)
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z"))
        let parsed = try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp)
        #expect(abs(parsed.timeIntervalSinceNow) < 60)
    }

    @Test("Personal data is redacted from the message and every text value, whoever logs it")
    func redactsPersonalData() throws {
        let lines = Lines()
        let logger = Logger(label: "cairn.test") { label in
            JSONLogHandler(label: label, sink: LogSink { bytes in lines.captured.withLock { $0.append(bytes) } })
        }
        let planted = ["GB29 NWBK 6016 1331 9268 19", "4111 1111 1111 1111", "jane.doe@northbank.example", "+44 20 7946 0958", "AB 12 34 56 C"]
        logger.info(
            "Customer \(planted[2]) paid from \(planted[0])",
            metadata: ["card": "\(planted[1])", "contact": ["phone": "\(planted[3])"], "ids": ["\(planted[4])"], "status": "200"]
        )
        let line = String(decoding: try #require(lines.captured.withLock { $0.first }), as: UTF8.self)
        for value in planted { #expect(!line.contains(value), "\(value) reached the log: \(line)") }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "Customer [REDACTED:email] paid from [REDACTED:iban]")
        #expect(object["card"] as? String == "[REDACTED:card-number]" && object["status"] as? String == "200")
        #expect((object["contact"] as? [String: Any])?["phone"] as? String == "[REDACTED:phone]")
        #expect(object["ids"] as? [String] == ["[REDACTED:national-id]"])
    }
}
