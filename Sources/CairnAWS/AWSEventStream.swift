public import Foundation

// The AWS event stream framing (`application/vnd.amazon.eventstream`), which Bedrock's
// ConverseStream uses for its response body. Each message is
//
//     total length     UInt32, big-endian, the whole message including both checksums
//     headers length   UInt32, big-endian
//     prelude CRC      CRC-32 of the eight bytes above
//     headers          name length (UInt8), name (UTF-8), value type (UInt8), value
//     payload          total length - headers length - 16 bytes
//     message CRC      CRC-32 of everything before it
//
// Integers are big-endian and the CRC is the IEEE one zlib computes.

/// The value of one event-stream header; each case is one of the wire's value types.
public enum AWSEventStreamHeaderValue: Sendable, Hashable {
    /// Types 0 (true) and 1 (false), which carry no value bytes.
    case bool(Bool)
    /// Type 2.
    case byte(Int8)
    /// Type 3.
    case int16(Int16)
    /// Type 4.
    case int32(Int32)
    /// Type 5.
    case int64(Int64)
    /// Type 6: at most 65,535 bytes.
    case byteArray([UInt8])
    /// Type 7: at most 65,535 bytes of UTF-8.
    case string(String)
    /// Type 8: milliseconds since 1970-01-01T00:00:00Z.
    case timestamp(millisecondsSince1970: Int64)
    /// Type 9.
    case uuid(UUID)

    /// The text of a `.string` value, nil for other types.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }
}

/// One event-stream message: named headers and an opaque payload (JSON, for Bedrock).
public struct AWSEventStreamMessage: Sendable, Equatable {
    /// Header names are unique within a message; the decoder refuses a repeated one.
    public var headers: [String: AWSEventStreamHeaderValue]
    public var payload: [UInt8]

    public init(headers: [String: AWSEventStreamHeaderValue] = [:], payload: [UInt8] = []) {
        self.headers = headers
        self.payload = payload
    }

    /// `:message-type`: `event`, `exception` or `error`.
    public var messageType: String? { headers[":message-type"]?.stringValue }

    /// `:event-type` of an event, such as Bedrock's `contentBlockDelta` or `messageStop`.
    public var eventType: String? { headers[":event-type"]?.stringValue }

    /// `:exception-type` of an exception, such as `throttlingException`.
    public var exceptionType: String? { headers[":exception-type"]?.stringValue }
}

/// A malformed or unrepresentable event-stream message. Its description is one plain sentence.
public struct AWSEventStreamError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; new codes can be added without breaking `switch`es elsewhere.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) { self.name = name }

        /// The prelude's CRC does not match its lengths, so neither can be trusted.
        public static let preludeChecksumMismatch = Code("preludeChecksumMismatch")
        /// The message's CRC does not match its bytes.
        public static let messageChecksumMismatch = Code("messageChecksumMismatch")
        /// A declared length is impossible or above the decoder's maximum.
        public static let lengthOutOfRange = Code("lengthOutOfRange")
        /// The headers section is truncated, repeats a name, or holds an unknown type or bad UTF-8.
        public static let malformedHeaders = Code("malformedHeaders")
        /// The stream ended in the middle of a message.
        public static let truncatedStream = Code("truncatedStream")
        /// The encoder was given a header or message the format cannot represent.
        public static let unencodable = Code("unencodable")

        public var description: String { name }
    }

    public let code: Code
    /// One plain sentence.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Splits a byte stream into event-stream messages, however the bytes are chunked.
///
/// Feed each chunk with ``append(_:)`` as it arrives, then call ``next()`` until it returns nil,
/// so the buffer never holds more than one partial message and one chunk. A message's declared
/// length is checked against ``maximumMessageBytes`` as soon as its 12-byte prelude is in, so an
/// oversized message is refused without waiting for its body; both checksums are verified. After
/// an error the stream cannot be resynchronised, and every later call to ``next()`` throws again.
public struct AWSEventStreamDecoder: Sendable {
    /// The largest message accepted, checksums included. AWS caps messages at 16 MiB.
    public let maximumMessageBytes: Int

    private var buffer: [UInt8] = []
    /// Where the first unconsumed byte of ``buffer`` is.
    private var start = 0
    private var failure: AWSEventStreamError?

    public init(maximumMessageBytes: Int = 16 << 20) {
        self.maximumMessageBytes = maximumMessageBytes
    }

    /// Buffers bytes received from the stream.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        // Drop consumed messages before growing, so the buffer holds at most one partial
        // message plus the new bytes.
        if start > 0 {
            buffer.removeSubrange(..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole message, or nil while it is still incomplete.
    public mutating func next() throws(AWSEventStreamError) -> AWSEventStreamMessage? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            failure = error
            throw error
        }
    }

    /// Call at the end of the stream: throws if it stopped in the middle of a message.
    public func finish() throws(AWSEventStreamError) {
        if let failure { throw failure }
        if buffer.count > start {
            throw AWSEventStreamError(.truncatedStream, "The stream ended \(buffer.count - start) bytes into an incomplete message.")
        }
    }

    private static let preludeBytes = 12
    /// Prelude plus the trailing message CRC: the size of a message with no headers or payload.
    private static let overheadBytes = preludeBytes + 4

    private mutating func decodeNext() throws(AWSEventStreamError) -> AWSEventStreamMessage? {
        guard buffer.count - start >= Self.preludeBytes else { return nil }
        let totalLength = Int(Self.readUInt32(buffer, at: start))
        let headersLength = Int(Self.readUInt32(buffer, at: start + 4))
        guard CRC32.checksum(buffer[start..<start + 8]) == Self.readUInt32(buffer, at: start + 8) else {
            throw AWSEventStreamError(.preludeChecksumMismatch, "The message prelude fails its CRC check.")
        }
        guard totalLength >= Self.overheadBytes, totalLength <= maximumMessageBytes else {
            throw AWSEventStreamError(
                .lengthOutOfRange,
                "The message declares \(totalLength) bytes, outside the accepted \(Self.overheadBytes) to \(maximumMessageBytes)."
            )
        }
        guard headersLength <= totalLength - Self.overheadBytes else {
            throw AWSEventStreamError(
                .lengthOutOfRange,
                "The message declares \(headersLength) bytes of headers but only \(totalLength - Self.overheadBytes) fit."
            )
        }
        guard buffer.count - start >= totalLength else { return nil }

        let end = start + totalLength
        guard CRC32.checksum(buffer[start..<end - 4]) == Self.readUInt32(buffer, at: end - 4) else {
            throw AWSEventStreamError(.messageChecksumMismatch, "The message fails its CRC check.")
        }
        let headersStart = start + Self.preludeBytes
        let headers = try Self.decodeHeaders(buffer[headersStart..<headersStart + headersLength])
        let payload = Array(buffer[(headersStart + headersLength)..<(end - 4)])
        start = end
        return AWSEventStreamMessage(headers: headers, payload: payload)
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func decodeHeaders(_ bytes: ArraySlice<UInt8>) throws(AWSEventStreamError) -> [String: AWSEventStreamHeaderValue] {
        var reader = ByteReader(bytes)
        var headers: [String: AWSEventStreamHeaderValue] = [:]
        while !reader.isAtEnd {
            guard let nameLength = reader.readInteger(UInt8.self), nameLength > 0, let nameBytes = reader.read(Int(nameLength)),
                let name = String(validating: nameBytes, as: UTF8.self)
            else {
                throw AWSEventStreamError(.malformedHeaders, "A header name is empty, truncated or not UTF-8.")
            }
            func malformed(_ problem: String) -> AWSEventStreamError {
                AWSEventStreamError(.malformedHeaders, "The header \(name) \(problem).")
            }
            guard let type = reader.readInteger(UInt8.self) else { throw malformed("has no value type") }
            let value: AWSEventStreamHeaderValue?
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2: value = reader.readInteger(Int8.self).map { .byte($0) }
            case 3: value = reader.readInteger(Int16.self).map { .int16($0) }
            case 4: value = reader.readInteger(Int32.self).map { .int32($0) }
            case 5: value = reader.readInteger(Int64.self).map { .int64($0) }
            case 6: value = reader.readInteger(UInt16.self).flatMap { reader.read(Int($0)) }.map { .byteArray(Array($0)) }
            case 7:
                guard let text = reader.readInteger(UInt16.self).flatMap({ reader.read(Int($0)) }) else { throw malformed("is truncated") }
                guard let string = String(validating: text, as: UTF8.self) else { throw malformed("is not valid UTF-8") }
                value = .string(string)
            case 8: value = reader.readInteger(Int64.self).map { .timestamp(millisecondsSince1970: $0) }
            case 9: value = reader.read(16).map { uuid in .uuid(UUID(uuid: uuid.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) })) }
            default: throw malformed("has unknown value type \(type)")
            }
            guard let value else { throw malformed("is truncated") }
            guard headers.updateValue(value, forKey: name) == nil else { throw malformed("appears twice") }
        }
        return headers
    }
}

/// Serialises event-stream messages, for servers that play Bedrock in tests.
public enum AWSEventStreamEncoder {
    /// The message's bytes, headers in name order so equal messages encode identically.
    ///
    /// - Throws: ``AWSEventStreamError`` with code `unencodable` for an empty or over-long
    ///   header name (1 to 255 bytes), a string or byte array over 65,535 bytes, or a message
    ///   over 4 GiB.
    public static func encode(_ message: AWSEventStreamMessage) throws(AWSEventStreamError) -> [UInt8] {
        var headers: [UInt8] = []
        for (name, value) in message.headers.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            let nameBytes = Array(name.utf8)
            guard (1...Int(UInt8.max)).contains(nameBytes.count) else {
                throw AWSEventStreamError(.unencodable, "A header name must be 1 to 255 bytes of UTF-8.")
            }
            headers.append(UInt8(nameBytes.count))
            headers += nameBytes
            switch value {
            case .bool(let flag): headers.append(flag ? 0 : 1)
            case .byte(let byte): append(2, byte, to: &headers)
            case .int16(let integer): append(3, integer, to: &headers)
            case .int32(let integer): append(4, integer, to: &headers)
            case .int64(let integer): append(5, integer, to: &headers)
            case .byteArray(let bytes): try append(6, variableLength: bytes, named: name, to: &headers)
            case .string(let string): try append(7, variableLength: Array(string.utf8), named: name, to: &headers)
            case .timestamp(let milliseconds): append(8, milliseconds, to: &headers)
            case .uuid(let uuid):
                headers.append(9)
                withUnsafeBytes(of: uuid.uuid) { headers += $0 }
            }
        }
        let totalLength = 16 + headers.count + message.payload.count
        guard let total = UInt32(exactly: totalLength) else {
            throw AWSEventStreamError(.unencodable, "The message is larger than the format's 4 GiB limit.")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(totalLength)
        appendBigEndian(total, to: &bytes)
        appendBigEndian(UInt32(headers.count), to: &bytes)
        appendBigEndian(CRC32.checksum(bytes), to: &bytes)
        bytes += headers
        bytes += message.payload
        appendBigEndian(CRC32.checksum(bytes), to: &bytes)
        return bytes
    }

    private static func append(_ type: UInt8, _ integer: some FixedWidthInteger, to bytes: inout [UInt8]) {
        bytes.append(type)
        appendBigEndian(integer, to: &bytes)
    }

    private static func append(
        _ type: UInt8,
        variableLength value: [UInt8],
        named name: String,
        to bytes: inout [UInt8]
    ) throws(AWSEventStreamError) {
        guard let length = UInt16(exactly: value.count) else {
            throw AWSEventStreamError(.unencodable, "The header \(name) holds \(value.count) bytes; at most 65,535 fit.")
        }
        bytes.append(type)
        appendBigEndian(length, to: &bytes)
        bytes += value
    }

    private static func appendBigEndian(_ integer: some FixedWidthInteger, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: integer.bigEndian) { bytes += $0 }
    }
}

/// Reads big-endian integers and byte runs from a slice, returning nil instead of overrunning it.
private struct ByteReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { bytes.isEmpty }

    mutating func read(_ count: Int) -> ArraySlice<UInt8>? {
        guard bytes.count >= count else { return nil }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }

    mutating func readInteger<Integer: FixedWidthInteger>(_: Integer.Type) -> Integer? {
        read(MemoryLayout<Integer>.size).map { Integer(truncatingIfNeeded: $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
    }
}

/// CRC-32 as zlib and the event-stream format compute it (IEEE 802.3, reflected polynomial
/// 0xEDB88320), one table lookup per byte.
package enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }

    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
