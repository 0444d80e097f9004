public import Foundation

/// The shared real-world PDFs (`../shared/data/pdfs`) and what the tests know about them: the
/// page counts py-pdf-sample-files lists, the encrypted samples' passwords, and the files that
/// cannot be read or have nothing to read.
public enum SharedPDFs {
    public static let folder = SharedData.folder("pdfs")

    /// Whether the corpus is there to test against.
    public static var isPresent: Bool { FileManager.default.fileExists(atPath: folder.path) }

    /// Every PDF in the corpus, by path relative to `folder`, sorted.
    public static let corpus: [String] = {
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        let root = folder.standardized.path + "/"
        return (enumerator?.compactMap { ($0 as? URL)?.standardized.path } ?? [])
            .filter { $0.lowercased().hasSuffix(".pdf") }
            .map { String($0.dropFirst(root.count)) }
            .sorted()
    }()

    /// Page counts (and encryption) py-pdf-sample-files' `files.json` gives its PDFs.
    public static let listed: [String: (pages: Int, encrypted: Bool)] = {
        struct Listing: Decodable {
            struct Entry: Decodable {
                let path: String
                let pages: Int
                let encrypted: Bool
            }
            let data: [Entry]
        }
        let url = folder.appendingPathComponent("py-pdf-sample-files/files.json")
        guard let data = try? Data(contentsOf: url), let listing = try? JSONDecoder().decode(Listing.self, from: data) else { return [:] }
        return Dictionary(uniqueKeysWithValues: listing.data.map { ("py-pdf-sample-files/" + $0.path, ($0.pages, $0.encrypted)) })
    }()

    public static let encryptedSample = "py-pdf-sample-files/005-libreoffice-writer-password/libreoffice-writer-password.pdf"

    /// Passwords of the encrypted samples: py-pdf-sample-files gives its in the sample's README,
    /// pdfplumber's test suite opens its sample with "test".
    public static let passwords = [
        encryptedSample: "openpassword",
        "pdfplumber/password-example.pdf": "test",
    ]

    /// Files MuPDF cannot read, and the reason each must give. `unreadablemetadata.pdf` has a
    /// broken page tree that MuPDF's repair does not recover (`mutool info` reports 0 pages too;
    /// files.json's 4 comes from pypdf, which reads the linearization hints). `empty.pdf` is 0
    /// bytes, so an upload of it is refused before parsing.
    public static let unreadable = [
        "pdfplumber/empty.pdf": "could not be opened",
        "py-pdf-sample-files/017-unreadable-meta-data/unreadablemetadata.pdf": "has no pages",
    ]

    /// PDFs with neither a text layer nor text in their images (`mutool draw -F txt` prints
    /// nothing: issue-297's page is blank, ImageMagick's images are smiley faces, the grayscale
    /// and CMYK samples are an illustration and a photo). The parser reads them; ingestion fails
    /// them because there is nothing to search.
    public static let textless: Set = [
        "pdfplumber/issue-297-example.pdf",
        "py-pdf-sample-files/019-grayscale-image/grayscale-image.pdf",
        "py-pdf-sample-files/023-cmyk-image/cmyk-image.pdf",
        "py-pdf-sample-files/007-imagemagick-images/imagemagick-ASCII85Decode.pdf",
        "py-pdf-sample-files/007-imagemagick-images/imagemagick-CCITTFaxDecode.pdf",
        "py-pdf-sample-files/007-imagemagick-images/imagemagick-images.pdf",
        "py-pdf-sample-files/007-imagemagick-images/imagemagick-lzw.pdf",
    ]

    /// A hand-written PDF whose page tree's only kid is the tree itself.
    public static let loopingPageTree = """
        %PDF-1.4
        1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
        2 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj
        trailer << /Root 1 0 R >>
        %%EOF
        """
}
