public import CairnCore

/// A compiled JSON Schema (draft 2020-12).
///
/// Compile once, validate many times: `init` resolves every reference and checks the keywords of
/// every subschema that evaluation can reach, so `validate` only walks the compiled form. Supports
/// the core, applicator, unevaluated and validation vocabularies; `format`, `content*` and the
/// meta-data keywords are annotations and never fail a value. `pattern` follows ECMA-262.
///
/// References resolve against the schema itself and `resources`; nothing is ever fetched, and the
/// draft 2020-12 metaschema is not built in, so a `$ref` to it compiles only if it is a resource.
public struct JSONSchema: Sendable {
    /// How many violations `validate` reports by default; a hostile value cannot grow the list past it.
    public static let defaultViolationLimit = 100

    let program: JSONSchemaProgram

    /// Compiles `schema`.
    ///
    /// - Parameters:
    ///   - schema: The schema document.
    ///   - resources: Further schema documents keyed by absolute URI (for example
    ///     `"https://example.com/address.json"`), for `$ref`s that leave `schema`.
    /// - Throws: `JSONSchemaError` when the schema is invalid: a keyword of the wrong type, a pattern
    ///   that is not a regular expression, a `$ref` that cannot be resolved, a `$ref` loop that never
    ///   reaches into the value, or a required vocabulary this validator does not implement.
    public init(_ schema: JSONValue, resources: [String: JSONValue] = [:]) throws {
        var compiler = JSONSchemaCompiler(schema: schema, resources: resources)
        program = try compiler.compile()
    }

    /// Every violation of the schema by `instance`, in evaluation order, at most `limit` of them;
    /// empty when `instance` is valid. When the value or the schema nests too deeply, or the schema
    /// takes too many steps, validation stops and the last violation says so.
    public func validate(_ instance: JSONValue, limit: Int = JSONSchema.defaultViolationLimit) -> [JSONSchemaViolation] {
        var evaluator = JSONSchemaEvaluator(program: program, reporting: true, limit: max(1, limit))
        return evaluator.run(instance).violations
    }

    /// Whether `instance` is valid; faster than `validate` because it stops at the first violation
    /// and builds no messages.
    public func isValid(_ instance: JSONValue) -> Bool {
        var evaluator = JSONSchemaEvaluator(program: program, reporting: false, limit: 1)
        return evaluator.run(instance).isValid
    }
}

/// One way in which a value breaks a schema.
public struct JSONSchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// JSON Pointer to the offending part of the value, such as `/items/2/name`; `""` for the value itself.
    public let instanceLocation: String
    /// JSON Pointer to the failing keyword along the path evaluation took through the schema, `$ref`s
    /// included, such as `/properties/items/items/required`.
    public let keywordLocation: String
    /// One plain English sentence naming the location, such as
    /// "The value at /items/2/price must be a number, not a string."
    public let message: String

    /// Creates a violation.
    public init(instanceLocation: String, keywordLocation: String, message: String) {
        self.instanceLocation = instanceLocation
        self.keywordLocation = keywordLocation
        self.message = message
    }

    public var description: String {
        "\(message) (schema keyword: \(keywordLocation.isEmpty ? "the root" : keywordLocation))"
    }
}

/// A schema that cannot be compiled.
public struct JSONSchemaError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem the schema has.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// A keyword has a value of the wrong type or range, or a pattern does not compile.
        public static let invalidKeyword = Code(name: "invalidKeyword")
        /// A `$ref` or `$dynamicRef` names nothing in the schema or its resources.
        public static let unresolvableReference = Code(name: "unresolvableReference")
        /// `$ref`s lead back to the same schema without reaching into the value, so validation would never end.
        public static let referenceCycle = Code(name: "referenceCycle")
        /// The `$schema` requires a vocabulary this validator does not implement.
        public static let unsupportedVocabulary = Code(name: "unsupportedVocabulary")
        /// The schema nests deeper than the compiler follows.
        public static let tooDeep = Code(name: "tooDeep")

        public var description: String { name }
    }

    /// What kind of problem the schema has.
    public let code: Code
    /// One plain sentence saying what is wrong and where, such as
    /// "The keyword 'minLength' at #/properties/name must be a non-negative integer."
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
