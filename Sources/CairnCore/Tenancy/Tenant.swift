public import Foundation

/// A tenant's short, URL-safe name, e.g. `northbank`. Operators and the CLI refer to tenants by it.
public struct TenantName: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Accepts 1–63 characters of lowercase letters, digits and inner hyphens.
    public init(_ rawValue: String) throws(CairnError) {
        let scalars = Array(rawValue.unicodeScalars)
        let allowed = scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard (1...63).contains(scalars.count), allowed, scalars.first != "-", scalars.last != "-" else {
            throw CairnError(
                .invalidInput,
                "A tenant name must be 1–63 lowercase letters, digits or inner hyphens; '\(rawValue.prefix(80))' is not."
            )
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}

/// A tenant: the unit of isolation. Nothing of one tenant is ever visible to another.
public struct Tenant: Sendable, Equatable {
    public let id: TenantID
    public let name: TenantName
    public let createdAt: Date

    public init(id: TenantID, name: TenantName, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}
