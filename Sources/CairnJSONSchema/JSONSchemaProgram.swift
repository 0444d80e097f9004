import CairnCore
import Foundation

/// A schema compiled into a flat table of nodes. Subschemas refer to each other by index, which is
/// how `$ref` cycles (recursive schemas) are represented without reference types.
struct JSONSchemaProgram: Sendable {
    /// Index into `nodes`.
    typealias NodeID = Int

    /// One schema object or boolean schema.
    struct Node: Sendable {
        enum Body: Sendable {
            /// `true` or `false`.
            case always(Bool)
            /// The keywords that assert or apply subschemas, in evaluation order: `unevaluatedItems`
            /// and `unevaluatedProperties` last, because they read what their siblings evaluated.
            case keywords([JSONSchemaKeyword])
        }

        var body: Body
        /// The schema resource the node belongs to: its entry in the dynamic scope.
        var resource: Int

        var isFalse: Bool {
            if case .always(false) = body { true } else { false }
        }
    }

    /// A schema resource: a document root or a subschema with `$id`.
    struct Resource: Sendable {
        /// `$dynamicAnchor` name to node, for resolving `$dynamicRef` through the dynamic scope.
        var dynamicAnchors: [String: NodeID]
    }

    var nodes: [Node]
    var resources: [Resource]
    var root: NodeID
    /// Whether any node uses `unevaluatedItems` or `unevaluatedProperties`; without them the
    /// evaluator need not record which items and properties were evaluated.
    var tracksAnnotations: Bool
}

/// A compiled keyword. Keywords that only make sense together (`if`/`then`/`else`,
/// `contains`/`minContains`/`maxContains`, `items` after `prefixItems`) are compiled into one case.
enum JSONSchemaKeyword: Sendable {
    case type(Set<JSONSchemaType>)
    case enumeration([JSONValue])
    case constant(JSONValue)
    case multipleOf(Double)
    case minimum(Double)
    case exclusiveMinimum(Double)
    case maximum(Double)
    case exclusiveMaximum(Double)
    case minLength(Int)
    case maxLength(Int)
    case pattern(JSONSchemaPattern)
    case minItems(Int)
    case maxItems(Int)
    case uniqueItems
    case required([String])
    case dependentRequired([(property: String, requires: [String])])
    case minProperties(Int)
    case maxProperties(Int)
    case ref(JSONSchemaProgram.NodeID)
    /// `anchor` is set when the initial target carries a `$dynamicAnchor` of the fragment's name:
    /// only then does the dynamic scope decide the target.
    case dynamicRef(initial: JSONSchemaProgram.NodeID, anchor: String?)
    case allOf([JSONSchemaProgram.NodeID])
    case anyOf([JSONSchemaProgram.NodeID])
    case oneOf([JSONSchemaProgram.NodeID])
    case not(JSONSchemaProgram.NodeID)
    case conditional(if: JSONSchemaProgram.NodeID, then: JSONSchemaProgram.NodeID?, else: JSONSchemaProgram.NodeID?)
    case dependentSchemas([(property: String, schema: JSONSchemaProgram.NodeID)])
    case prefixItems([JSONSchemaProgram.NodeID])
    case items(JSONSchemaProgram.NodeID, after: Int)
    /// `minimumKeyword` is "contains" unless `minContains` was given, for the keyword location.
    case contains(JSONSchemaProgram.NodeID, minimum: Int, maximum: Int?, minimumKeyword: String)
    case properties([(name: String, schema: JSONSchemaProgram.NodeID)])
    case patternProperties([(pattern: JSONSchemaPattern, schema: JSONSchemaProgram.NodeID)])
    /// Applies to the properties its sibling `properties` and `patternProperties` do not name.
    case additionalProperties(JSONSchemaProgram.NodeID, named: Set<String>, patterns: [JSONSchemaPattern])
    case propertyNames(JSONSchemaProgram.NodeID)
    case unevaluatedItems(JSONSchemaProgram.NodeID)
    case unevaluatedProperties(JSONSchemaProgram.NodeID)

    /// The keyword's name, the last token of its keyword location.
    var name: String {
        switch self {
        case .type: "type"
        case .enumeration: "enum"
        case .constant: "const"
        case .multipleOf: "multipleOf"
        case .minimum: "minimum"
        case .exclusiveMinimum: "exclusiveMinimum"
        case .maximum: "maximum"
        case .exclusiveMaximum: "exclusiveMaximum"
        case .minLength: "minLength"
        case .maxLength: "maxLength"
        case .pattern: "pattern"
        case .minItems: "minItems"
        case .maxItems: "maxItems"
        case .uniqueItems: "uniqueItems"
        case .required: "required"
        case .dependentRequired: "dependentRequired"
        case .minProperties: "minProperties"
        case .maxProperties: "maxProperties"
        case .ref: "$ref"
        case .dynamicRef: "$dynamicRef"
        case .allOf: "allOf"
        case .anyOf: "anyOf"
        case .oneOf: "oneOf"
        case .not: "not"
        case .conditional: "if"
        case .dependentSchemas: "dependentSchemas"
        case .prefixItems: "prefixItems"
        case .items: "items"
        case .contains: "contains"
        case .properties: "properties"
        case .patternProperties: "patternProperties"
        case .additionalProperties: "additionalProperties"
        case .propertyNames: "propertyNames"
        case .unevaluatedItems: "unevaluatedItems"
        case .unevaluatedProperties: "unevaluatedProperties"
        }
    }

    /// The subschemas applied to the very value the keyword's schema applies to; a cycle along
    /// these never reaches into the value, so it would never end.
    var inPlaceSubschemas: [JSONSchemaProgram.NodeID] {
        switch self {
        case .ref(let target): [target]
        case .allOf(let schemas), .anyOf(let schemas), .oneOf(let schemas): schemas
        case .not(let schema): [schema]
        case .conditional(let condition, let then, let otherwise): [condition] + [then, otherwise].compactMap { $0 }
        case .dependentSchemas(let schemas): schemas.map(\.schema)
        default: []
        }
    }
}

/// The seven JSON Schema types.
enum JSONSchemaType: String, Sendable, CaseIterable {
    case string, number, integer, boolean, object, array, null

    /// Whether `value` is of this type; a number with no fractional part is an integer.
    func matches(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.null, .null), (.boolean, .bool), (.object, .object), (.array, .array), (.number, .number), (.string, .string):
            true
        case (.integer, .number(let number)):
            number.isFinite && number.rounded(.towardZero) == number
        default:
            false
        }
    }

    /// The type named with its article, for messages: "an integer", "null".
    var phrase: String {
        switch self {
        case .null: "null"
        case .boolean: "a boolean"
        case .object: "an object"
        case .array: "an array"
        case .number: "a number"
        case .string: "a string"
        case .integer: "an integer"
        }
    }

    /// The most specific type of `value`: integers are reported as integers.
    static func of(_ value: JSONValue) -> JSONSchemaType {
        switch value {
        case .null: .null
        case .bool: .boolean
        case .object: .object
        case .array: .array
        case .string: .string
        case .number: JSONSchemaType.integer.matches(value) ? .integer : .number
        }
    }
}

/// A `pattern` or `patternProperties` regular expression, searched for anywhere in the string.
///
/// `@unchecked` because not every Foundation marks `NSRegularExpression` `Sendable`; it is
/// immutable and documented as safe to use from several threads at once.
struct JSONSchemaPattern: @unchecked Sendable {
    /// The pattern as the schema wrote it, for messages.
    let source: String
    private let expression: NSRegularExpression

    /// Compiles an ECMA-262 pattern; `nil` when ICU cannot compile it.
    init?(_ source: String) {
        guard let expression = try? NSRegularExpression(pattern: Self.icuPattern(fromECMAScript: source)) else { return nil }
        self.source = source
        self.expression = expression
    }

    func matches(_ string: String) -> Bool {
        expression.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
    }

    /// Rewrites the ECMA-262 constructs whose meaning ICU changes: `\d` and `\w` are ASCII-only in
    /// ECMA-262 (ICU would accept "٣" as a digit), `\s` also matches U+FEFF, and an unescaped `$`
    /// ends the input, where ICU also accepts a final line break ("123\n" would match `^[0-9]+$`).
    private static func icuPattern(fromECMAScript pattern: String) -> String {
        var output = ""
        var inClass = false
        var characters = pattern.makeIterator()
        while let character = characters.next() {
            switch character {
            case "\\":
                guard let escaped = characters.next() else {
                    output.append(character)
                    break
                }
                switch escaped {
                case "d": output += inClass ? "0-9" : "[0-9]"
                case "D" where !inClass: output += "[^0-9]"
                case "w": output += inClass ? "A-Za-z0-9_" : "[A-Za-z0-9_]"
                case "W" where !inClass: output += "[^A-Za-z0-9_]"
                case "s": output += inClass ? "\\s\\x{FEFF}" : "[\\s\\x{FEFF}]"
                case "S" where !inClass: output += "[^\\s\\x{FEFF}]"
                default: output += "\\" + String(escaped)
                }
            case "[":
                // ICU reads "[" inside a class as a nested set; ECMA-262 as the character itself.
                output += inClass ? "\\[" : "["
                inClass = true
            case "]" where inClass:
                inClass = false
                output.append(character)
            case "$" where !inClass:
                output += "\\z"
            default:
                output.append(character)
            }
        }
        return output
    }
}
