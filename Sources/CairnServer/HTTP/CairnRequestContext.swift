public import Hummingbird
import Logging

/// Per-request state Hummingbird carries through the router.
public struct CairnRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}
