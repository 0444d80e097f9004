package import CairnCore
package import Foundation
package import SQLKit

/// Lists are stored as JSON text so both engines hold them in a plain TEXT column.
package enum JSONText {
    package static func encode(_ values: [String]) -> String {
        // Encoding an array of strings cannot fail.
        String(decoding: try! JSONEncoder().encode(values), as: UTF8.self)
    }

    package static func encode(_ values: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(values), as: UTF8.self)
    }

    /// Any encodable value as JSON with sorted keys (stored records: limits, step details).
    package static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    package static func decodeList(_ text: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    package static func decodeMap(_ text: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }
}

extension SQLRow {
    package func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    package func int64(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    package func optionalInt64(_ column: String) throws -> Int64? { try decode(column: column, as: Int64?.self) }
    package func date(_ column: String) throws -> Date { EpochMilliseconds.date(milliseconds: try int64(column)) }
    package func optionalDate(_ column: String) throws -> Date? { try optionalInt64(column).map(EpochMilliseconds.date(milliseconds:)) }
    package func list(_ column: String) throws -> [String] { try JSONText.decodeList(try string(column)) }

    /// A stored id; one that is not a UUID is damage to report, never a reason to make one up.
    package func entityID<Entity>(_ column: String) throws -> EntityID<Entity> {
        guard let id = EntityID<Entity>(try string(column)) else {
            throw CairnError(.integrityViolation, "A stored id in '\(column)' is not a UUID.")
        }
        return id
    }

    /// Decodes the role, group and attribute columns shared by `api_keys` and `principals`.
    package func grantColumns() throws -> (roles: Set<Role>, groups: [String], attributes: AccessAttributes) {
        let roles = Set(try list("roles").compactMap(Role.init(rawValue:)))
        guard let clearance = Classification(rawValue: try string("clearance")) else {
            throw CairnError(.integrityViolation, "A stored clearance level is not one Cairn knows.")
        }
        let attributes = AccessAttributes(entities: try list("entities"), branches: try list("branches"), clearance: clearance)
        return (roles, try list("group_names"), attributes)
    }
}

extension Set where Element == Role {
    /// Sorted for stable storage and output.
    package var sortedNames: [String] { sorted().map(\.rawValue) }
}
