/// A provider credential in memory: an API key, or AWS keys for Bedrock.
///
/// Its descriptions are redacted so that string interpolation, `dump` or a logged error can
/// never carry the secret; only the provider request builders read ``value``.
public struct ProviderSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "ProviderSecret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
