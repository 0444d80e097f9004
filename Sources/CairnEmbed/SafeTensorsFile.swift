public import CairnCore
public import Foundation

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's type, shape and byte range, then the tensor data.
///
/// The file is mapped into memory once and every entry of the header is checked against it
/// on opening, so a truncated or corrupt file fails there, with a sentence, rather than when a
/// tensor is read. The format's values are little-endian, as on every platform Cairn runs on,
/// so they are copied out as they are.
public struct SafeTensorsFile: Sendable {
    /// What the header says about one tensor.
    public struct Tensor: Sendable, Equatable {
        /// The format's type name: `F32`, `F16`, `I64`, …
        public let dataType: String
        /// Dimensions, outermost first (row-major).
        public let shape: [Int]
        /// Where the tensor's bytes lie within the file.
        let bytes: Range<Int>
    }

    /// Every tensor in the file by name (the `__metadata__` entry is not a tensor).
    public let tensors: [String: Tensor]
    private let contents: Data
    private let fileName: String

    /// Bytes per element of each type the format defines.
    private static let elementSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "I16": 2, "F16": 2, "BF16": 2,
        "U32": 4, "I32": 4, "F32": 4, "U64": 8, "I64": 8, "F64": 8,
    ]

    /// Maps the file at `url` and checks its header against its size.
    public init(contentsOf url: URL) throws(CairnError) {
        fileName = url.lastPathComponent
        do {
            contents = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw CairnError(.misconfigured, "The model weights file \(fileName) cannot be read.", underlying: error)
        }
        guard contents.count >= 8 else { throw Self.truncated(fileName) }
        let headerLength = contents.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(contents.count - 8) else { throw Self.truncated(fileName) }
        let dataStart = 8 + Int(headerLength)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: contents[8..<dataStart])
        } catch {
            throw CairnError(.misconfigured, "The model weights file \(fileName) has a corrupt header.", underlying: error)
        }
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header.tensors {
            guard let elementSize = Self.elementSizes[entry.dtype], entry.dataOffsets.count == 2, entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw CairnError(.misconfigured, "The model weights file \(fileName) describes tensor \(name) in a way the format does not allow.")
            }
            let (begin, end) = (entry.dataOffsets[0], entry.dataOffsets[1])
            let (size, overflow) = entry.shape.reduce((elementSize, false)) { partial, dimension in
                let product = partial.0.multipliedReportingOverflow(by: dimension)
                return (product.partialValue, partial.1 || product.overflow)
            }
            guard !overflow, begin >= 0, end >= begin, end - begin == size else {
                throw CairnError(.misconfigured, "The model weights file \(fileName) gives tensor \(name) a size that does not match its shape.")
            }
            guard end <= contents.count - dataStart else { throw Self.truncated(fileName) }
            tensors[name] = Tensor(dataType: entry.dtype, shape: entry.shape, bytes: (dataStart + begin)..<(dataStart + end))
        }
        self.tensors = tensors
    }

    /// The values of float32 tensor `name`, which must have shape `shape`.
    public func floats(named name: String, shape: [Int]) throws(CairnError) -> [Float] {
        guard let tensor = tensors[name] else {
            throw CairnError(.misconfigured, "The model weights file \(fileName) has no tensor \(name).")
        }
        guard tensor.dataType == "F32", tensor.shape == shape else {
            throw CairnError(
                .misconfigured,
                "Tensor \(name) in \(fileName) is \(tensor.dataType) \(tensor.shape), not the expected F32 \(shape)."
            )
        }
        let count = tensor.bytes.count / 4
        return [Float](unsafeUninitializedCapacity: count) { values, initialized in
            contents.withUnsafeBytes { file in
                // copyMemory, unlike a typed load, has no alignment requirement on the source.
                UnsafeMutableRawBufferPointer(values).copyMemory(from: UnsafeRawBufferPointer(rebasing: file[tensor.bytes]))
            }
            initialized = count
        }
    }

    private static func truncated(_ fileName: String) -> CairnError {
        CairnError(.misconfigured, "The model weights file \(fileName) is truncated.")
    }

    /// The JSON header: tensor entries by name, plus an optional `__metadata__` string map.
    private struct Header: Decodable {
        var tensors: [String: Entry]

        struct Entry: Decodable {
            var dtype: String
            var shape: [Int]
            var dataOffsets: [Int]

            private enum CodingKeys: String, CodingKey {
                case dtype, shape
                case dataOffsets = "data_offsets"
            }
        }

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            var tensors: [String: Entry] = [:]
            for key in container.allKeys where key.stringValue != "__metadata__" {
                tensors[key.stringValue] = try container.decode(Entry.self, forKey: key)
            }
            self.tensors = tensors
        }
    }
}
