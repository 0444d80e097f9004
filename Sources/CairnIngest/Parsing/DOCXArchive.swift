import CairnCore
import Foundation
import ZIPFoundation

/// The parts of a DOCX's ZIP archive that parsing reads, extracted within the limits a
/// decompression bomb must not get past.
///
/// ZIPFoundation inflates each part, but the archive's directory is read here: ZIPFoundation
/// keeps where an entry's data starts to itself, and its own extraction spins forever on Linux
/// when a deflate stream runs past the end of the file (its reader returns no bytes and it asks
/// again). Here the inflater is given exactly the entry's compressed bytes and an error when it
/// wants more.
///
/// Sizes are checked twice: as the central directory declares them, before anything is inflated,
/// and as bytes actually come out of the inflater, since declared sizes can lie.
final class DOCXArchive {
    /// Where an entry's data is and what the central directory says of it.
    private struct Entry {
        let compressionMethod: UInt16
        let compressedSize: UInt64
        let uncompressedSize: UInt64
        let localHeaderOffset: UInt64
    }

    private let handle: FileHandle
    private let fileSize: UInt64
    private let entries: [String: Entry]
    private let limits: ParsingLimits
    /// Bytes inflated so far, all parts together.
    private var bytesInflated: UInt64 = 0

    private static let chunkSize = 64 << 10
    private static let notZIP = CairnError(.invalidInput, "The DOCX is not a valid ZIP archive.")

    /// Opens the archive and finds `parts` in its central directory; other entries are skipped.
    init(contentsOf file: URL, parts: Set<String>, limits: ParsingLimits) throws {
        do {
            handle = try FileHandle(forReadingFrom: file)
            fileSize = try handle.seekToEnd()
        } catch {
            throw CairnError(.internalFailure, "The file could not be read.", underlying: error)
        }
        self.limits = limits
        let directory = try Self.centralDirectory(of: handle, fileSize: fileSize)
        entries = try Self.entries(named: parts, in: directory)
    }

    deinit {
        try? handle.close()
    }

    /// The part's bytes, or `nil` when the archive has no such entry.
    func read(_ part: String, budget: ParsingBudget) throws -> Data? {
        guard let entry = entries[part] else { return nil }
        try checkSize(of: part, entry, expandedTo: entry.uncompressedSize)
        let dataOffset = try self.dataOffset(of: entry)
        var remaining = entry.compressedSize
        var produced: UInt64 = 0
        var data = Data()
        // The declared size is a hint, not a promise: reserve no more than a megabyte on its word.
        data.reserveCapacity(Int(min(entry.uncompressedSize, UInt64(Self.chunkSize) << 4)))
        let provide = { [handle] (_: Int64, size: Int) throws -> Data in
            // Apple's inflater asks for nothing once it has had every byte; zlib's asks for more,
            // which a complete stream never needs.
            guard size > 0 else { return Data() }
            guard remaining > 0 else { throw DamagedPart() }
            let chunk = try handle.read(upToCount: Int(min(UInt64(size), remaining))) ?? Data()
            guard !chunk.isEmpty else { throw DamagedPart() }
            remaining -= UInt64(chunk.count)
            return chunk
        }
        let consume = { (chunk: Data) throws in
            produced += UInt64(chunk.count)
            try self.checkSize(of: part, entry, expandedTo: produced)
            try budget.check()
            data.append(chunk)
        }
        do {
            try handle.seek(toOffset: dataOffset)
            switch entry.compressionMethod {
            case 0:
                while remaining > 0 { try consume(provide(0, Self.chunkSize)) }
            case 8:
                _ = try Data.decompress(
                    size: Int64(entry.compressedSize),
                    bufferSize: Self.chunkSize,
                    skipCRC32: true,
                    provider: provide,
                    consumer: consume
                )
            default:
                throw CairnError(.invalidInput, "The DOCX's \(part) is compressed in a way Cairn cannot read.")
            }
        } catch let error as CairnError {
            throw error
        } catch let error as ParsingFailure {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw CairnError(.invalidInput, "The DOCX is damaged: its \(part) cannot be decompressed.", underlying: error)
        }
        bytesInflated += produced
        return data
    }

    /// Fails when `part`, expanded to `size` bytes, would take the archive over its total or
    /// itself over the compression ratio.
    private func checkSize(of part: String, _ entry: Entry, expandedTo size: UInt64) throws {
        let (total, overflow) = bytesInflated.addingReportingOverflow(size)
        if overflow || total > UInt64(limits.maximumUncompressedBytes) {
            throw CairnError(
                .invalidInput,
                "The DOCX expands to more than \(limits.maximumUncompressedBytes.byteCountDescription); it looks like a zip bomb."
            )
        }
        let (allowed, ratioOverflow) = entry.compressedSize.multipliedReportingOverflow(by: UInt64(limits.maximumCompressionRatio))
        if size > UInt64(limits.compressionRatioExemptBytes), !ratioOverflow, size > allowed {
            throw CairnError(
                .invalidInput,
                "The DOCX's \(part) expands to more than \(limits.maximumCompressionRatio) times its compressed size; it looks like a zip bomb."
            )
        }
    }

    /// Where the entry's data begins: after its local header, whose name and extra field may
    /// differ in length from the central directory's.
    private func dataOffset(of entry: Entry) throws -> UInt64 {
        let header = try Self.bytes(of: handle, at: entry.localHeaderOffset, count: 30, fileSize: fileSize)
        guard header.littleEndian(UInt32.self, at: 0) == 0x0403_4B50 else { throw Self.notZIP }
        let offset =
            entry.localHeaderOffset + 30 + UInt64(header.littleEndian(UInt16.self, at: 26)) + UInt64(header.littleEndian(UInt16.self, at: 28))
        guard offset <= fileSize, entry.compressedSize <= fileSize - offset else { throw Self.notZIP }
        return offset
    }

    /// The central directory's bytes, found through the end-of-central-directory record (and
    /// its ZIP64 form, for archives past 4 GiB or 65,535 entries).
    private static func centralDirectory(of handle: FileHandle, fileSize: UInt64) throws -> [UInt8] {
        // The record is 22 bytes plus a comment of up to 65,535, at the very end.
        let tailLength = min(fileSize, 22 + 0xFFFF)
        let tail = try bytes(of: handle, at: fileSize - tailLength, count: Int(tailLength), fileSize: fileSize)
        guard tail.count >= 22,
            let record = stride(from: tail.count - 22, through: 0, by: -1).first(where: { tail.littleEndian(UInt32.self, at: $0) == 0x0605_4B50 })
        else { throw notZIP }
        var size = UInt64(tail.littleEndian(UInt32.self, at: record + 12))
        var offset = UInt64(tail.littleEndian(UInt32.self, at: record + 16))
        if size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            guard record >= 20, tail.littleEndian(UInt32.self, at: record - 20) == 0x0706_4B50 else { throw notZIP }
            let zip64 = try bytes(of: handle, at: tail.littleEndian(UInt64.self, at: record - 12), count: 56, fileSize: fileSize)
            guard zip64.littleEndian(UInt32.self, at: 0) == 0x0606_4B50 else { throw notZIP }
            size = zip64.littleEndian(UInt64.self, at: 40)
            offset = zip64.littleEndian(UInt64.self, at: 48)
        }
        guard size <= fileSize else { throw notZIP }
        return try bytes(of: handle, at: offset, count: Int(size), fileSize: fileSize)
    }

    /// The first entry of each name in `names` (as ZIPFoundation's lookup finds the first).
    private static func entries(named names: Set<String>, in directory: [UInt8]) throws -> [String: Entry] {
        var found: [String: Entry] = [:]
        var position = 0
        while position + 46 <= directory.count, directory.littleEndian(UInt32.self, at: position) == 0x0201_4B50 {
            let nameLength = Int(directory.littleEndian(UInt16.self, at: position + 28))
            let extraLength = Int(directory.littleEndian(UInt16.self, at: position + 30))
            let commentLength = Int(directory.littleEndian(UInt16.self, at: position + 32))
            let end = position + 46 + nameLength + extraLength + commentLength
            guard end <= directory.count else { throw notZIP }
            let name = String(decoding: directory[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
            if names.contains(name), found[name] == nil {
                var compressed = UInt64(directory.littleEndian(UInt32.self, at: position + 20))
                var uncompressed = UInt64(directory.littleEndian(UInt32.self, at: position + 24))
                var localHeader = UInt64(directory.littleEndian(UInt32.self, at: position + 42))
                // ZIP64: each field that reads all ones is in the extended-information extra
                // field, in this order.
                if let zip64 = extraField(0x0001, in: directory[(position + 46 + nameLength)..<(position + 46 + nameLength + extraLength)]) {
                    var cursor = zip64.startIndex
                    func next() throws -> UInt64 {
                        guard cursor + 8 <= zip64.endIndex else { throw notZIP }
                        defer { cursor += 8 }
                        return zip64.littleEndian(UInt64.self, at: cursor)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localHeader == 0xFFFF_FFFF { localHeader = try next() }
                }
                found[name] = Entry(
                    compressionMethod: directory.littleEndian(UInt16.self, at: position + 10),
                    compressedSize: compressed,
                    uncompressedSize: uncompressed,
                    localHeaderOffset: localHeader
                )
            }
            position = end
        }
        return found
    }

    /// The data of the extra field with `id`, if the entry has one.
    private static func extraField(_ id: UInt16, in extra: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var position = extra.startIndex
        while position + 4 <= extra.endIndex {
            let length = Int(extra.littleEndian(UInt16.self, at: position + 2))
            guard position + 4 + length <= extra.endIndex else { return nil }
            if extra.littleEndian(UInt16.self, at: position) == id { return extra[(position + 4)..<(position + 4 + length)] }
            position += 4 + length
        }
        return nil
    }

    private static func bytes(of handle: FileHandle, at offset: UInt64, count: Int, fileSize: UInt64) throws -> [UInt8] {
        guard offset <= fileSize, UInt64(count) <= fileSize - offset else { throw notZIP }
        do {
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw notZIP }
            return [UInt8](data)
        } catch let error as CairnError {
            throw error
        } catch {
            throw CairnError(.internalFailure, "The file could not be read.", underlying: error)
        }
    }

    /// The inflater wanted more bytes than the entry has.
    private struct DamagedPart: Error {}
}

extension Collection<UInt8> where Index == Int {
    /// The little-endian integer at `offset`; the caller has checked it lies within.
    fileprivate func littleEndian<Value: FixedWidthInteger & UnsignedInteger>(_: Value.Type, at offset: Int) -> Value {
        (0..<(Value.bitWidth / 8)).reduce(Value(0)) { value, byte in value | Value(self[offset + byte]) << (byte * 8) }
    }
}
