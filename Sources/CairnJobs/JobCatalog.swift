public import CairnCore

/// The job kinds a deployment knows, each with its handler.
///
/// The API consults it to refuse kinds nobody can run, workers to find a job's handler. It is
/// built once at start-up and never changes while running.
public struct JobCatalog: Sendable {
    private let handlers: [String: any JobHandler]

    /// A catalog of `handlers`; two handlers for one kind is a programming error.
    public init(_ handlers: [any JobHandler]) {
        var byKind: [String: any JobHandler] = [:]
        for handler in handlers {
            precondition(byKind[handler.kind] == nil, "Two handlers registered for job kind \(handler.kind)")
            byKind[handler.kind] = handler
        }
        self.handlers = byKind
    }

    /// The handler for `kind`, if this deployment has one.
    public func handler(for kind: String) -> (any JobHandler)? { handlers[kind] }

    /// Every kind, sorted.
    public var kinds: [String] { handlers.keys.sorted() }

    /// The handler for a kind a tenant submitted; `invalidInput` naming the kinds they may submit otherwise.
    public func submittableHandler(for kind: String) throws(CairnError) -> any JobHandler {
        guard let handler = handlers[kind], handler.acceptsSubmissions else {
            let allowed = handlers.values.filter(\.acceptsSubmissions).map(\.kind).sorted()
            throw CairnError(
                .invalidInput,
                "Jobs of kind '\(kind.prefix(100))' cannot be submitted; submittable kinds: \(allowed.joined(separator: ", "))."
            )
        }
        return handler
    }
}

extension JobCatalog {
    /// The kinds every Cairn deployment runs.
    public static var standard: JobCatalog { standard(adding: []) }

    /// The standard kinds plus the handlers feature modules bring (ingestion, purges), which
    /// need services this module does not know.
    public static func standard(adding handlers: [any JobHandler]) -> JobCatalog {
        JobCatalog([QueueProbe.Effect(), QueueProbe.Saga()] + handlers)
    }
}
