public import Foundation

/// The demo policies the project ships (`demo/policies/*.md`): synthetic bank policies written
/// for Cairn, with headings and numbered clauses. Seeding renders each into a PDF and ingests
/// that, so answers cite pages as they would for a bank's real policy PDFs.
public struct DemoCorpus: Sendable {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// The Markdown sources, sorted by name.
    public func policies() throws -> [URL] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DemoCorpusError.missingFolder(folder.path)
        }
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !files.isEmpty else { throw DemoCorpusError.noPolicies(folder.path) }
        return files
    }

    /// A policy rendered as a PDF, with the title its first heading gives it.
    public struct RenderedPolicy: Sendable {
        public let pdf: URL
        public let title: String
    }

    /// Renders every policy into `directory` as `<name>.pdf`. Rendering is deterministic, so
    /// seeding twice uploads identical bytes, which ingestion leaves as they are.
    public func renderPDFs(into directory: URL) throws -> [RenderedPolicy] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let renderer = PolicyPDFRenderer()
        return try policies().map { source in
            let markdown = try String(contentsOf: source, encoding: .utf8)
            let pdf: [UInt8]
            do {
                pdf = try renderer.render(markdown: markdown)
            } catch {
                throw DemoCorpusError.unrenderable(source.lastPathComponent, "\(error)")
            }
            let target = directory.appendingPathComponent(source.deletingPathExtension().lastPathComponent + ".pdf")
            try Data(pdf).write(to: target, options: .atomic)
            let heading = markdown.split(separator: "\n").first { $0.hasPrefix("# ") }.map { $0.dropFirst(2).trimmingCharacters(in: .whitespaces) }
            return RenderedPolicy(pdf: target, title: heading ?? source.deletingPathExtension().lastPathComponent)
        }
    }
}

public enum DemoCorpusError: Error, CustomStringConvertible {
    case missingFolder(String)
    case noPolicies(String)
    case unrenderable(String, String)

    public var description: String {
        switch self {
        case .missingFolder(let path): "There is no demo corpus folder at \(path)."
        case .noPolicies(let path): "The demo corpus folder \(path) holds no Markdown policies."
        case .unrenderable(let file, let reason): "The demo policy \(file) cannot be rendered as a PDF: \(reason)"
        }
    }
}
