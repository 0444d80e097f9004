/// The one error type Cairn's libraries throw across module boundaries.
///
/// It wraps an extensible ``Code`` (as postgres-nio's `PSQLError.Code` does) so callers can
/// switch on the kind of failure, and carries a sentence meant for the person who caused it.
/// Internal detail (SQL text, file paths, underlying errors) goes in ``underlying`` and is
/// logged, never shown.
public struct CairnError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure. New codes can be added without breaking `switch`es elsewhere.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// Stable slug, used as the last path segment of the problem `type`.
        public let slug: String

        private init(_ slug: String) { self.slug = slug }

        /// The request is malformed or violates a documented constraint.
        public static let invalidInput = Code("invalid-input")
        /// No credentials, or credentials that are unknown, expired, revoked or tampered with.
        public static let unauthenticated = Code("unauthenticated")
        /// Known caller lacking the permission the operation needs.
        public static let forbidden = Code("forbidden")
        /// The resource does not exist *for this caller* (including other tenants' resources).
        public static let notFound = Code("not-found")
        /// The request conflicts with existing state (e.g. a tenant name already taken).
        public static let conflict = Code("conflict")
        /// A dependency (database, key set) cannot be reached right now; retrying may help.
        public static let unavailable = Code("unavailable")
        /// A capacity limit was reached (e.g. a tenant's job queue is full); retry after ``CairnError/retryAfter``.
        public static let overloaded = Code("overloaded")
        /// A spending budget would be exceeded by the call; nothing was sent to a provider.
        public static let budgetExhausted = Code("budget-exhausted")
        /// Every upstream the request could go to (model providers) failed or refused it.
        public static let upstreamFailed = Code("upstream-failed")
        /// The input is larger than a configured limit (an upload over the file size limit).
        public static let tooLarge = Code("payload-too-large")
        /// Stored state fails an integrity check (e.g. a broken audit chain).
        public static let integrityViolation = Code("integrity-violation")
        /// Configuration is missing or inconsistent.
        public static let misconfigured = Code("misconfigured")
        /// Anything else; the detail shown to users is generic.
        public static let internalFailure = Code("internal")

        public var description: String { slug }
    }

    public let code: Code
    /// One plain sentence for the user.
    public let message: String
    /// Diagnostic detail for logs only.
    public let underlying: (any Error)?
    /// For `overloaded`: how long the caller should wait before trying again.
    public var retryAfter: Duration?

    /// An error of kind `code`, told to the user as `message`; `underlying` is for logs only.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }

    public var debugDescription: String {
        var text = "CairnError(\(code.slug)): \(message)"
        if let underlying { text += " [underlying: \(String(reflecting: underlying))]" }
        return text
    }
}
