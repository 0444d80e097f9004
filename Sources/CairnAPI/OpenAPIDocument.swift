public import Foundation

/// The OpenAPI 3.1 document the server is generated from, served verbatim at `/openapi.yaml`.
public enum OpenAPIDocument {
    /// The YAML bytes, read from the target's bundled resource.
    public static func yaml() throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try Data(contentsOf: url)
    }
}
