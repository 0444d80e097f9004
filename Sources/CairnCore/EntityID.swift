public import Foundation

/// The identifier of a stored entity: a UUID, typed by what it identifies so an `APIKeyID` can
/// never be passed where a `TenantID` is expected. Its text form is lowercase, everywhere (storage,
/// URLs, audit events).
public struct EntityID<Entity>: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UUID

    /// A new, random id.
    public init(_ rawValue: UUID = UUID()) { self.rawValue = rawValue }

    /// Parses the textual UUID form (either case); `nil` for anything else.
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.rawValue = uuid
    }

    public var description: String { rawValue.uuidString.lowercased() }
}

/// Identifies a tenant; every tenant-owned row carries one.
public typealias TenantID = EntityID<Tenant>
/// Identifies an API key; public, appears in listings and audit events.
public typealias APIKeyID = EntityID<APIKey>
