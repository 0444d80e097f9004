public import Hummingbird
import Logging

/// Per-request state Hummingbird carries through the router.
public struct CairnRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Bodies on non-OpenAPI routes are capped too; OpenAPI routes go through `BodyLimitMiddleware`.
    public var maxUploadSize: Int { 1 << 20 }
}

extension CairnRequestContext {
    /// The router context of the request being handled, for OpenAPI handlers, which cannot
    /// receive it as a parameter (hummingbird template's pattern).
    @TaskLocal static var current: CairnRequestContext?
}
