public import CairnCore

/// The rule for names in the gateway catalog: providers, deployments, aliases and stored
/// credentials. A name is what callers send as `model` and what appears in URL paths, so it
/// has no spaces; it reaches SQL, logs and terminals, so it has no control characters.
public enum GatewayName {
    public static let maximumLength = 128

    /// Checks `name`, the name of a `what` ("provider", "alias", …). Lengths count Unicode
    /// scalars, as JSON Schema's `maxLength` does.
    public static func check(_ name: String, _ what: String) throws(CairnError) {
        let scalars = name.unicodeScalars
        guard (1...maximumLength).contains(scalars.count),
            !scalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control })
        else {
            let article = what.first.map { "aeiou".contains($0) } == true ? "An" : "A"
            throw CairnError(.invalidInput, "\(article) \(what) name must be 1–\(maximumLength) characters without spaces or control characters.")
        }
    }
}
