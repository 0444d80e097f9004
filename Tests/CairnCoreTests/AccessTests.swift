import CairnCore
import Foundation
import Testing

@Suite("Roles, permissions and access requirements")
struct AccessTests {
    func principal(_ roles: Set<Role>) -> Principal {
        Principal(
            tenantID: TenantID(),
            tenantName: try! TenantName("acme"),
            subject: "s",
            roles: roles,
            groups: [],
            attributes: AccessAttributes(),
            credential: .apiKey(APIKeyID())
        )
    }

    @Test("The role table documented in docs/security.md is exactly the one in code")
    func documentedTable() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/security.md").standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        let columns = Role.allCases
        var documented: [Role: Set<Permission>] = [:]
        var rowsSeen = 0
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            // The matrix rows: permission, meaning, then one cell per role.
            guard cells.count == 2 + columns.count, let permission = Permission(rawValue: cells[0].trimmingCharacters(in: ["`"])) else { continue }
            rowsSeen += 1
            for (role, cell) in zip(columns, cells.dropFirst(2)) where cell == "✓" {
                documented[role, default: []].insert(permission)
            }
        }
        #expect(rowsSeen == Permission.allCases.count, "every permission needs a row in the matrix")
        for role in columns {
            #expect(documented[role, default: []] == role.permissions, "docs/security.md disagrees with Role.\(role).permissions")
        }
        #expect(Role.admin.permissions == Set(Permission.allCases))
    }

    @Test("A viewer may not manage keys; an admin may")
    func permissionRequirement() throws {
        #expect(throws: CairnError.self) { try AccessRequirement.permission(.manageKeys).authorize(.principal(principal([.viewer]))) }
        try AccessRequirement.permission(.manageKeys).authorize(.principal(principal([.admin, .viewer])))
    }

    @Test("The operator manages tenants only, and tenant principals never do")
    func operatorRequirement() throws {
        try AccessRequirement.platformOperator.authorize(.platformOperator)
        #expect(throws: CairnError.self) { try AccessRequirement.platformOperator.authorize(.principal(principal([.admin]))) }
        #expect(throws: CairnError.self) { try AccessRequirement.permission(.readSelf).authorize(.platformOperator) }
    }

    @Test("Classifications are ordered public < internal < confidential < restricted")
    func classificationOrder() {
        #expect(Classification.allCases.sorted() == [.public, .internal, .confidential, .restricted])
    }

    @Test(
        "Tenant names",
        arguments: [
            ("northbank", true), ("a", true), ("north-bank-2", true), ("", false), ("-x", false), ("x-", false), ("North", false), ("a b", false),
            (String(repeating: "a", count: 64), false),
        ]
    )
    func tenantNames(name: String, valid: Bool) {
        #expect(((try? TenantName(name)) != nil) == valid)
    }

    @Test("API key secrets round-trip, embed their id, and compare by hash")
    func apiKeySecret() throws {
        let id = APIKeyID()
        let secret = APIKeySecret.generate(for: id)
        let parsed = try #require(APIKeySecret(token: secret.token))
        #expect(parsed.keyID == id)
        #expect(parsed.matches(storedHash: secret.storedHash))
        #expect(!parsed.matches(storedHash: APIKeySecret.generate(for: id).storedHash))
        #expect(APIKeySecret(token: "cairn_nothex_abc") == nil)
        #expect(APIKeySecret(token: secret.token + "x") == nil)
    }
}
