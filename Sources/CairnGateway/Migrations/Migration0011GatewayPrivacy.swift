import CairnStore

extension Migration {
    /// A tenant's policy for what its model calls send out: with `redact_personal_data`, personal
    /// data is redacted from every request to a provider.
    static let gatewayPrivacy = Migration(
        version: 11,
        name: "gateway_privacy",
        sqlite: gatewayPrivacyTables,
        postgres: gatewayPrivacyTables + rowLevelSecurity("gateway_privacy")
    )

    private static let gatewayPrivacyTables = [
        """
        CREATE TABLE gateway_privacy (
            tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
            redact_personal_data BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            updated_by TEXT NOT NULL
        )
        """
    ]
}
