import CairnAWS
import Foundation
import Testing

@Suite("AWS event stream codec")
struct AWSEventStreamTests {
    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }

    /// Frames raw header bytes and a payload with correct checksums, for messages the encoder
    /// would refuse to produce.
    static func frame(headers: [UInt8], payload: [UInt8] = []) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        var bytes = bigEndian(UInt32(16 + headers.count + payload.count)) + bigEndian(UInt32(headers.count))
        bytes += bigEndian(CRC32.checksum(bytes)) + headers + payload
        return bytes + bigEndian(CRC32.checksum(bytes))
    }

    /// A Bedrock ConverseStream `contentBlockDelta` event, written out by hand from the format and
    /// checked with Python's `zlib.crc32` and botocore's `EventStreamBuffer`, which decodes it to
    /// the same headers and payload.
    static let contentBlockDelta = bytes(
        hex: "000000a900000057ed1ae6d90d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0b3a6576656e742d7479"
            + "7065070011636f6e74656e74426c6f636b44656c74610d3a6d6573736167652d747970650700056576656e747b22636f6e74656e74426c"
            + "6f636b496e646578223a302c2264656c7461223a7b2274657874223a2248656c6c6f227d2c2270223a226162636465666768696a6b227d"
            + "a9986b96"
    )
    static let contentBlockDeltaMessage = AWSEventStreamMessage(
        headers: [
            ":event-type": .string("contentBlockDelta"),
            ":content-type": .string("application/json"),
            ":message-type": .string("event"),
        ],
        payload: Array(#"{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijk"}"#.utf8)
    )

    /// One header of every wire type, names in sorted order, built and checked the same way.
    static let everyHeaderType = bytes(
        hex: "000000970000008775d832ea06612d747275650007622d66616c73650106632d6279746502fe07642d73686f727403fed405652d696e74"
            + "04fffeee9006662d6c6f6e6705fffffffed5fa0e0007672d627974657306000300ff1008682d737472696e6707000568c3a96c6c0669"
            + "2d74696d65080000018f34069e7b066a2d75756964090f1e2d3c4b5a69788796a5b4c3d2e1f0010f8589"
    )
    static let everyHeaderTypeMessage = AWSEventStreamMessage(headers: [
        "a-true": .bool(true),
        "b-false": .bool(false),
        "c-byte": .byte(-2),
        "d-short": .int16(-300),
        "e-int": .int32(-70_000),
        "f-long": .int64(-5_000_000_000),
        "g-bytes": .byteArray([0x00, 0xFF, 0x10]),
        "h-string": .string("héll"),
        "i-time": .timestamp(millisecondsSince1970: 1_714_564_800_123),
        "j-uuid": .uuid(UUID(uuid: (0x0F, 0x1E, 0x2D, 0x3C, 0x4B, 0x5A, 0x69, 0x78, 0x87, 0x96, 0xA5, 0xB4, 0xC3, 0xD2, 0xE1, 0xF0))),
    ])

    static func decodeAll(_ chunks: [[UInt8]], maximumMessageBytes: Int = 16 << 20) throws -> [AWSEventStreamMessage] {
        var decoder = AWSEventStreamDecoder(maximumMessageBytes: maximumMessageBytes)
        var messages: [AWSEventStreamMessage] = []
        for chunk in chunks {
            decoder.append(chunk)
            while let message = try decoder.next() {
                messages.append(message)
            }
        }
        try decoder.finish()
        return messages
    }

    static func decodeError(_ bytes: [UInt8], maximumMessageBytes: Int = 16 << 20) -> AWSEventStreamError? {
        var decoder = AWSEventStreamDecoder(maximumMessageBytes: maximumMessageBytes)
        decoder.append(bytes)
        do {
            while try decoder.next() != nil {}
            return nil
        } catch {
            return error
        }
    }

    @Test("CRC-32 gives the standard check value")
    func crc32() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test("aws-c-event-stream's empty_message vector encodes and decodes")
    func emptyMessageVector() throws {
        let vector: [UInt8] = [0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xC2, 0x48, 0xEB, 0x7D, 0x98, 0xC8, 0xFF]
        #expect(try AWSEventStreamEncoder.encode(AWSEventStreamMessage()) == vector)
        #expect(try Self.decodeAll([vector]) == [AWSEventStreamMessage()])
    }

    @Test("A Bedrock contentBlockDelta event decodes from known bytes and encodes back to them")
    func bedrockVector() throws {
        let messages = try Self.decodeAll([Self.contentBlockDelta])
        #expect(messages == [Self.contentBlockDeltaMessage])
        #expect(messages.first?.messageType == "event")
        #expect(messages.first?.eventType == "contentBlockDelta")
        #expect(messages.first?.exceptionType == nil)
        #expect(try AWSEventStreamEncoder.encode(Self.contentBlockDeltaMessage) == Self.contentBlockDelta)
    }

    @Test("Every header value type decodes from known bytes and encodes back to them")
    func everyHeaderTypeVector() throws {
        #expect(try Self.decodeAll([Self.everyHeaderType]) == [Self.everyHeaderTypeMessage])
        #expect(try AWSEventStreamEncoder.encode(Self.everyHeaderTypeMessage) == Self.everyHeaderType)
    }

    @Test("A message with headers and a binary payload survives a round trip")
    func roundTrip() throws {
        var message = Self.everyHeaderTypeMessage
        message.headers[":message-type"] = .string("exception")
        message.headers[":exception-type"] = .string("throttlingException")
        message.payload = (0...255).map { UInt8($0) }
        let decoded = try Self.decodeAll([AWSEventStreamEncoder.encode(message)])
        #expect(decoded == [message])
        #expect(decoded.first?.exceptionType == "throttlingException")
    }

    @Test("Bytes fed one at a time yield each message only once it is complete")
    func byteByByte() throws {
        let stream = Self.contentBlockDelta + Self.everyHeaderType + Self.contentBlockDelta
        var decoder = AWSEventStreamDecoder()
        var messages: [AWSEventStreamMessage] = []
        var completedAt: [Int] = []
        for (offset, byte) in stream.enumerated() {
            decoder.append([byte])
            if let message = try decoder.next() {
                messages.append(message)
                completedAt.append(offset + 1)
            }
        }
        try decoder.finish()
        #expect(messages == [Self.contentBlockDeltaMessage, Self.everyHeaderTypeMessage, Self.contentBlockDeltaMessage])
        #expect(completedAt == [Self.contentBlockDelta.count, Self.contentBlockDelta.count + Self.everyHeaderType.count, stream.count])
    }

    @Test("Two messages in one chunk, and a stream split at every offset, decode the same")
    func chunking() throws {
        let stream = Self.contentBlockDelta + Self.everyHeaderType
        let expected = [Self.contentBlockDeltaMessage, Self.everyHeaderTypeMessage]
        #expect(try Self.decodeAll([stream]) == expected)
        for split in 0...stream.count {
            #expect(try Self.decodeAll([Array(stream[..<split]), Array(stream[split...])]) == expected, "split at \(split)")
        }
    }

    @Test("A corrupted prelude checksum or length is refused, and the decoder stays failed")
    func corruptedPrelude() throws {
        for index in 0..<12 {
            var corrupted = Self.contentBlockDelta
            corrupted[index] ^= 0x01
            #expect(Self.decodeError(corrupted)?.code == .preludeChecksumMismatch, "byte \(index)")
        }
        var decoder = AWSEventStreamDecoder()
        var corrupted = Self.contentBlockDelta
        corrupted[8] ^= 0xFF
        decoder.append(corrupted)
        #expect(throws: AWSEventStreamError.self) { try decoder.next() }
        decoder.append(Self.contentBlockDelta)
        let error = #expect(throws: AWSEventStreamError.self) { try decoder.next() }
        #expect(error?.code == .preludeChecksumMismatch)
        #expect(error?.description == "The message prelude fails its CRC check.")
    }

    @Test("A corrupted header, payload or message checksum is refused")
    func corruptedMessage() {
        for index in [12, 40, Self.contentBlockDelta.count - 20, Self.contentBlockDelta.count - 1] {
            var corrupted = Self.contentBlockDelta
            corrupted[index] ^= 0x01
            #expect(Self.decodeError(corrupted)?.code == .messageChecksumMismatch, "byte \(index)")
        }
    }

    @Test("A declared length above the maximum is refused from the prelude alone")
    func oversizeLength() throws {
        var decoder = AWSEventStreamDecoder(maximumMessageBytes: 1024)
        let prelude = Array(Self.frame(headers: [], payload: [UInt8](repeating: 0x61, count: 2000)).prefix(12))
        decoder.append(prelude)
        let error = #expect(throws: AWSEventStreamError.self) { try decoder.next() }
        #expect(error?.code == .lengthOutOfRange)
        #expect(error?.description == "The message declares 2016 bytes, outside the accepted 16 to 1024.")

        // The same message is fine under the default maximum.
        #expect(try Self.decodeAll([Self.frame(headers: [], payload: [UInt8](repeating: 0x61, count: 2000))]).count == 1)
    }

    @Test("Impossible lengths are refused")
    func impossibleLengths() {
        func prelude(total: UInt32, headers: UInt32) -> [UInt8] {
            let lengths = withUnsafeBytes(of: total.bigEndian) { Array($0) } + withUnsafeBytes(of: headers.bigEndian) { Array($0) }
            return lengths + withUnsafeBytes(of: CRC32.checksum(lengths).bigEndian) { Array($0) }
        }
        #expect(Self.decodeError(prelude(total: 15, headers: 0))?.code == .lengthOutOfRange)
        #expect(Self.decodeError(prelude(total: 32, headers: 17))?.code == .lengthOutOfRange)
    }

    @Test("Malformed headers are refused with a sentence naming the problem")
    func malformedHeaders() {
        let name = [UInt8(4)] + Array("name".utf8)
        let cases: [(headers: [UInt8], message: String)] = [
            (name + [7, 0x00, 0x0A] + Array("abc".utf8), "The header name is truncated."),
            (name + [10], "The header name has unknown value type 10."),
            (name + [4, 0x00, 0x01], "The header name is truncated."),
            (name, "The header name has no value type."),
            (name + [7, 0x00, 0x02, 0xC3, 0x28], "The header name is not valid UTF-8."),
            (name + [0] + name + [1], "The header name appears twice."),
            ([0, 7, 0, 0], "A header name is empty, truncated or not UTF-8."),
            ([9] + Array("short".utf8), "A header name is empty, truncated or not UTF-8."),
        ]
        for (headers, message) in cases {
            let error = Self.decodeError(Self.frame(headers: headers))
            #expect(error?.code == .malformedHeaders)
            #expect(error?.description == message)
        }
    }

    @Test("A stream that ends inside a message is reported at finish")
    func truncatedStream() throws {
        var decoder = AWSEventStreamDecoder()
        decoder.append(Self.contentBlockDelta.dropLast())
        #expect(try decoder.next() == nil)
        let error = #expect(throws: AWSEventStreamError.self) { try decoder.finish() }
        #expect(error?.code == .truncatedStream)
    }

    @Test("The encoder refuses headers the format cannot hold")
    func unencodable() {
        let cases = [
            AWSEventStreamMessage(headers: [String(repeating: "n", count: 256): .bool(true)]),
            AWSEventStreamMessage(headers: ["": .bool(true)]),
            AWSEventStreamMessage(headers: ["big": .string(String(repeating: "x", count: 65_536))]),
            AWSEventStreamMessage(headers: ["big": .byteArray([UInt8](repeating: 0, count: 65_536))]),
        ]
        for message in cases {
            let error = #expect(throws: AWSEventStreamError.self) { try AWSEventStreamEncoder.encode(message) }
            #expect(error?.code == .unencodable)
        }
        #expect(throws: Never.self) {
            try AWSEventStreamEncoder.encode(
                AWSEventStreamMessage(headers: [String(repeating: "n", count: 255): .string(String(repeating: "x", count: 65_535))])
            )
        }
    }
}
