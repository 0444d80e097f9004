import CairnCore
import CairnEmbed
import Foundation
import Testing

@Suite("Model files")
struct ModelFileTests {
    /// A safetensors file: the header's length, the header, the data.
    private static func safetensors(header: String, data: [Float]) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        data.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return bytes
    }

    private static let header =
        #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}"#

    @Test("Tensors are read by name, with their shapes checked")
    func readsTensors() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("t.safetensors")
            try Self.safetensors(header: Self.header, data: [1, 2, 3, 4, 5, 6, -1, -2]).write(to: url)
            let file = try SafeTensorsFile(contentsOf: url)
            #expect(file.tensors.keys.sorted() == ["b", "w"])
            #expect(try file.floats(named: "w", shape: [2, 3]) == [1, 2, 3, 4, 5, 6])
            #expect(try file.floats(named: "b", shape: [2]) == [-1, -2])
            expectCairnError(.misconfigured) { _ = try file.floats(named: "w", shape: [3, 2]) }
            expectCairnError(.misconfigured) { _ = try file.floats(named: "missing", shape: [2]) }
        }
    }

    @Test(
        "Truncated and corrupt safetensors files are refused with a sentence",
        arguments: [
            (header, 7),  // tensor data cut short
            (header, 0),  // no data at all
            (#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, 8),  // size does not match shape
            (#"{"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}}"#, 8),  // unknown type
            (#"{"w": not json"#, 8),
        ]
    )
    func corruptFiles(header: String, floats: Int) throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("t.safetensors")
            try Self.safetensors(header: header, data: Array(repeating: 1, count: floats)).write(to: url)
            expectCairnError(.misconfigured) { _ = try SafeTensorsFile(contentsOf: url) }
        }
    }

    @Test("A file cut inside its header, or shorter than the header's length, is refused as truncated", arguments: [4, 20])
    func truncatedHeader(bytes: Int) throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("t.safetensors")
            try Self.safetensors(header: Self.header, data: []).prefix(bytes).write(to: url)
            let error = #expect(throws: CairnError.self) { try SafeTensorsFile(contentsOf: url) }
            #expect(error?.message == "The model weights file t.safetensors is truncated.")
        }
    }

    @Test("A missing model directory or model file is refused with a sentence")
    func missingFiles() throws {
        expectCairnError(.misconfigured) { _ = try LocalSentenceEmbedder(modelDirectory: URL(fileURLWithPath: "/nonexistent/cairn-model")) }
        try withTemporaryDirectory { directory in
            expectCairnError(.misconfigured) { _ = try LocalSentenceEmbedder(modelDirectory: directory) }
        }
    }

    @Test(
        "A model file whose SHA-256 differs from the pinned one is refused",
        .enabled(if: TestModel.isEnabled, TestModel.disabledReason),
        arguments: ["model.safetensors", "vocab.txt"]
    )
    func tamperedFile(name: String) throws {
        let model = try TestModel.requireDirectory()
        try withTemporaryDirectory { directory in
            for file in ["model.safetensors", "vocab.txt"] {
                try FileManager.default.copyItem(at: model.appendingPathComponent(file), to: directory.appendingPathComponent(file))
            }
            let url = directory.appendingPathComponent(name)
            var bytes = try Data(contentsOf: url)
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: url)
            let error = #expect(throws: CairnError.self) { try LocalSentenceEmbedder(modelDirectory: directory) }
            #expect(error?.code == .misconfigured)
            #expect(error?.message == "\(name) is not the pinned all-MiniLM-L6-v2 file (its SHA-256 differs); download the model again.")
        }
    }

    @Test("The real weights file cut short is refused as truncated", .enabled(if: TestModel.isEnabled, TestModel.disabledReason))
    func truncatedModel() throws {
        let model = try TestModel.requireDirectory()
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("model.safetensors")
            let handle = try FileHandle(forReadingFrom: model.appendingPathComponent("model.safetensors"))
            defer { try? handle.close() }
            try handle.read(upToCount: 50_000_000)?.write(to: url)
            let error = #expect(throws: CairnError.self) { try SafeTensorsFile(contentsOf: url) }
            #expect(error?.code == .misconfigured && error?.message == "The model weights file model.safetensors is truncated.")
        }
    }
}
