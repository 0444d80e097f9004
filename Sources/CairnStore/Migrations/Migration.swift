/// One named, versioned schema change, written once per engine.
///
/// DDL differs between SQLite and PostgreSQL (row-level security exists only on the latter),
/// so each migration carries both scripts; they must produce the same logical schema.
public struct Migration: Sendable {
    /// Strictly increasing, never reused.
    public let version: Int
    /// Short snake_case description, recorded beside the version.
    public let name: String
    let sqlite: [String]
    let postgres: [String]

    func statements(for engine: DatabaseEngine) -> [String] {
        engine == .sqlite ? sqlite : postgres
    }
}
