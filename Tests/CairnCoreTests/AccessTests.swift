import CairnCore
import Testing

@Suite("Roles, permissions and access requirements")
struct AccessTests {
    func principal(_ roles: Set<Role>) -> Principal {
        Principal(
            tenantID: TenantID(), tenantName: try! TenantName("acme"), subject: "s", roles: roles, groups: [],
            attributes: AccessAttributes(), credential: .apiKey(APIKeyID()))
    }

    @Test("Admin holds every permission; viewer only reads")
    func table() {
        #expect(Role.admin.permissions == Set(Permission.allCases))
        #expect(Role.viewer.permissions == [.readSelf, .readDocuments])
        #expect(!Role.analyst.permissions.contains(.manageKeys))
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

    @Test("Tenant names", arguments: [("northbank", true), ("a", true), ("north-bank-2", true), ("", false), ("-x", false), ("x-", false), ("North", false), ("a b", false), (String(repeating: "a", count: 64), false)])
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
