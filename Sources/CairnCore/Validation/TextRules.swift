/// Rules for the short texts callers name things with: key names, subjects, groups, entities,
/// branches, filters.
///
/// Control characters are refused everywhere: NUL is rejected by PostgreSQL (so it would behave
/// differently per engine), and escape sequences would reach administrators' terminals through
/// CLI output and logs.
public enum TextRules {
    /// Checks that `value` is 1…`maximumLength` characters with no control characters.
    ///
    /// Characters are Unicode code points, as JSON Schema's `maxLength` counts them (and the API
    /// spec declares): a grapheme can hold any number of combining marks, so counting graphemes
    /// would let a short-looking name of unbounded size through.
    public static func validate(_ value: String, field: String, maximumLength: Int) throws(CairnError) {
        guard (1...maximumLength).contains(value.unicodeScalars.count) else {
            throw CairnError(.invalidInput, "\(field) must be 1–\(maximumLength) characters.")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CairnError(.invalidInput, "\(field) must not contain control characters.")
        }
    }

    /// Checks a list of labels: at most `maximumCount`, each valid as above.
    public static func validate(_ values: [String], field: String, maximumCount: Int = 100, maximumLength: Int = 100) throws(CairnError) {
        guard values.count <= maximumCount else {
            throw CairnError(.invalidInput, "\(field) takes at most \(maximumCount) entries.")
        }
        for value in values {
            try validate(value, field: "Each of \(field)", maximumLength: maximumLength)
        }
    }
}
