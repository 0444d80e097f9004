import CairnAssistant
import CairnDocuments
import CairnGateway
import CairnJobs
import CairnPipelines
public import CairnStore

extension DatabaseSchema {
    /// Everything Cairn stores: the platform's tables and each feature's, in the order the
    /// features were built. The executables and the tests open stores with this schema.
    public static let cairn = DatabaseSchema(
        PlatformSchema.migrations,
        JobsSchema.migrations,
        DocumentsSchema.migrations,
        GatewaySchema.migrations,
        AssistantSchema.migrations,
        PipelinesSchema.migrations
    )
}
