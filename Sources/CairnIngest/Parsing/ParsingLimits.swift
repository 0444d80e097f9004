/// What one document may cost to parse. A hostile or broken file (a page tree that claims a
/// million pages, a decompression bomb, a page of two million glyphs) fails with a reason when
/// it reaches a limit, and the process goes on serving.
public struct ParsingLimits: Sendable, Equatable {
    /// Pages a document may have.
    public var maximumPages: Int
    /// Bytes the PDF engine may hold at once for one document.
    public var maximumMemoryBytes: Int
    /// Wall-clock time one document may take, OCR included.
    public var timeLimit: Duration
    /// Size of an HTML, Markdown or plain-text file. These are read whole, and their text is
    /// held several times over while it is parsed.
    public var maximumTextBytes: Int
    /// Bytes a DOCX may expand to: all the parts read from its ZIP archive together.
    public var maximumUncompressedBytes: Int
    /// How many times larger than its compressed size one part of a DOCX may be. Word's XML
    /// compresses about 10:1; a ratio far beyond that is a decompression bomb.
    public var maximumCompressionRatio: Int
    /// Parts that expand to fewer bytes than this are not held to the ratio: a small part of
    /// repetitive XML can legitimately compress beyond it, and cannot hurt.
    public var compressionRatioExemptBytes: Int

    public init(
        maximumPages: Int = 5_000,
        maximumMemoryBytes: Int = 512 << 20,
        timeLimit: Duration = .seconds(300),
        maximumTextBytes: Int = 64 << 20,
        maximumUncompressedBytes: Int = 256 << 20,
        maximumCompressionRatio: Int = 100,
        compressionRatioExemptBytes: Int = 1 << 20
    ) {
        self.maximumPages = maximumPages
        self.maximumMemoryBytes = maximumMemoryBytes
        self.timeLimit = timeLimit
        self.maximumTextBytes = maximumTextBytes
        self.maximumUncompressedBytes = maximumUncompressedBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.compressionRatioExemptBytes = compressionRatioExemptBytes
    }
}

extension Int {
    /// A byte count as a limit is worded to a user: whole MiB or KiB where it is one.
    var byteCountDescription: String {
        if self >= 1 << 20, self % (1 << 20) == 0 { return "\(self >> 20) MiB" }
        if self >= 1 << 10, self % (1 << 10) == 0 { return "\(self >> 10) KiB" }
        return "\(self) bytes"
    }
}
