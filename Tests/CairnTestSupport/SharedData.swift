public import Foundation

/// The externally written data sets in `../shared/data`. Tests read them in place and never
/// copy them into the project.
public enum SharedData {
    /// `../shared/data`, as scripts/test.sh passes it in `CAIRN_SHARED_DATA`, else beside the checkout.
    public static let folder: URL = {
        if let path = ProcessInfo.processInfo.environment["CAIRN_SHARED_DATA"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/data").standardized
    }()

    /// One data set's folder, such as `aws-sigv4`.
    public static func folder(_ name: String) -> URL {
        folder.appendingPathComponent(name)
    }
}
