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

    public init(maximumPages: Int = 5_000, maximumMemoryBytes: Int = 512 << 20, timeLimit: Duration = .seconds(300)) {
        self.maximumPages = maximumPages
        self.maximumMemoryBytes = maximumMemoryBytes
        self.timeLimit = timeLimit
    }
}
