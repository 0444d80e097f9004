public import Foundation

/// The OpenAPI 3.1 document the server is generated from, served verbatim at `/openapi.yaml`.
public enum OpenAPIDocument {
    /// Name of the resource directory SwiftPM builds beside the `cairn` binary.
    public static let resourceDirectory = "cairn_CairnAPI.resources"

    /// The error when the resource directory was not installed with the binary.
    public struct Missing: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "The OpenAPI document is missing at \(path); install \(OpenAPIDocument.resourceDirectory) beside the cairn binary."
        }
    }

    /// The YAML bytes, read from the resource directory beside the running executable.
    ///
    /// Looked up directly rather than through `Bundle.module`, whose generated accessor stops
    /// the process with `fatalError` when the directory is absent; a missing file is an error
    /// Cairn reports in a sentence instead.
    public static func yaml() throws -> Data {
        let path = Bundle.main.bundleURL.appendingPathComponent(resourceDirectory).appendingPathComponent("openapi.yaml").path
        guard FileManager.default.fileExists(atPath: path) else { throw Missing(path: path) }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }
}
