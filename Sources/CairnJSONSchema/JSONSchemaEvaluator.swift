import CairnCore

/// One validation of one value against a `JSONSchemaProgram`.
///
/// In reporting mode it records a violation for every failing keyword (up to a limit); otherwise it
/// stops at the first failure and builds no messages. It tracks the instance and keyword locations
/// as token stacks and only turns them into JSON Pointers for a violation.
struct JSONSchemaEvaluator {
    /// How many schemas may be applied inside one another: deep enough for any sane document, shallow
    /// enough that the recursion stays well inside a thread's stack.
    static let maximumDepth = 200
    /// How many schemas one validation may apply. Nested `anyOf`s over `$ref`s can make the work grow
    /// exponentially with the schema's size; this bounds it.
    static let maximumSteps = 1_000_000

    /// The evaluated items and properties of the value at one instance location, which
    /// `unevaluatedItems` and `unevaluatedProperties` read. Only kept when the schema uses them.
    struct Annotations {
        var properties: Set<String> = []
        /// Items before this index were evaluated (by `prefixItems`, `items`, `unevaluatedItems`).
        var itemPrefix = 0
        /// Items `contains` matched.
        var items: Set<Int> = []

        mutating func merge(_ other: Annotations) {
            properties.formUnion(other.properties)
            itemPrefix = max(itemPrefix, other.itemPrefix)
            items.formUnion(other.items)
        }

        func evaluated(item index: Int) -> Bool {
            index < itemPrefix || items.contains(index)
        }
    }

    private enum PathToken {
        case property(String)
        case index(Int)

        var text: String {
            switch self {
            case .property(let name): name
            case .index(let index): String(index)
            }
        }
    }

    private enum Stop {
        /// The violation list is full.
        case full
        /// The value or the schema nests too deeply, or the schema takes too many steps.
        case halted
    }

    private let program: JSONSchemaProgram
    private let limit: Int
    private var reporting: Bool
    private var violations: [JSONSchemaViolation] = []
    /// Above zero while evaluating `anyOf` or `oneOf` branches, whose violations may yet be dropped.
    private var speculation = 0
    private var instancePath: [PathToken] = []
    private var keywordPath: [String] = []
    /// The resources evaluation has entered, outermost first, for `$dynamicRef`.
    private var dynamicScope: [Int] = []
    /// Set while `propertyNames` applies its schema to a name, which messages then talk about.
    private var propertyName: String?
    private var depth = 0
    private var steps = 0
    private var stop: Stop?
    /// Why validation halted early, reported last whatever branch was being tried when it did.
    private var haltViolation: JSONSchemaViolation?

    init(program: JSONSchemaProgram, reporting: Bool, limit: Int) {
        self.program = program
        self.reporting = reporting
        self.limit = limit
    }

    mutating func run(_ instance: JSONValue) -> (isValid: Bool, violations: [JSONSchemaViolation]) {
        var annotations = Annotations()
        let isValid = evaluate(program.root, instance, &annotations)
        guard let haltViolation else { return (isValid, violations) }
        return (false, violations.prefix(limit - 1) + [haltViolation])
    }

    // MARK: Schemas

    private mutating func evaluate(_ id: JSONSchemaProgram.NodeID, _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        if stop != nil { return false }
        steps += 1
        guard steps <= Self.maximumSteps else {
            halt("Validation stopped\(at): the schema takes too many steps to check this value.")
            return false
        }
        guard depth < Self.maximumDepth else {
            halt("Validation stopped\(at): the value or the schema nests more than \(Self.maximumDepth) levels deep.")
            return false
        }
        let wasReporting = reporting
        if reporting && violations.count >= limit {
            // Nothing this schema finds could be recorded: with no branch left to take violations
            // back, the outcome is settled; inside one, a plain check is all that is still needed.
            guard speculation > 0 else {
                stop = .full
                return false
            }
            reporting = false
        }
        defer { reporting = wasReporting }
        let node = program.nodes[id]
        switch node.body {
        case .always(let isValid):
            return isValid || fail { "\($0.subject("value")) is not allowed by the schema (it is 'false')." }
        case .keywords(let keywords):
            depth += 1
            let entersResource = dynamicScope.last != node.resource
            if entersResource { dynamicScope.append(node.resource) }
            defer {
                depth -= 1
                if entersResource { dynamicScope.removeLast() }
            }
            // A schema's `unevaluated*` keywords see what its own keywords and subschemas evaluated,
            // never what its siblings did; the parent sees it all once the schema passes.
            var own = Annotations()
            var isValid = true
            for keyword in keywords {
                keywordPath.append(keyword.name)
                let keywordIsValid = evaluate(keyword, instance, &own)
                keywordPath.removeLast()
                if !keywordIsValid {
                    isValid = false
                    if !reporting || stop != nil { return false }
                }
            }
            if isValid && program.tracksAnnotations { annotations.merge(own) }
            return isValid
        }
    }

    /// Evaluates `id` against the item or property `token` of the current value.
    private mutating func evaluate(_ id: JSONSchemaProgram.NodeID, _ instance: JSONValue, at token: PathToken) -> Bool {
        instancePath.append(token)
        defer { instancePath.removeLast() }
        var annotations = Annotations()
        return evaluate(id, instance, &annotations)
    }

    /// Evaluates `id` against the value in place, keeping annotations only if it passes.
    private mutating func evaluateBranch(_ id: JSONSchemaProgram.NodeID, _ instance: JSONValue) -> (isValid: Bool, annotations: Annotations) {
        var annotations = Annotations()
        let isValid = evaluate(id, instance, &annotations)
        return (isValid, annotations)
    }

    /// Evaluates `id` without reporting: for `not`, `if` and `contains`, whose subschemas may fail
    /// without the value failing.
    private mutating func test(_ id: JSONSchemaProgram.NodeID, _ instance: JSONValue) -> (isValid: Bool, annotations: Annotations) {
        let wasReporting = reporting
        reporting = false
        defer { reporting = wasReporting }
        return evaluateBranch(id, instance)
    }

    // MARK: Keywords

    private mutating func evaluate(_ keyword: JSONSchemaKeyword, _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        switch keyword {
        case .type(let types):
            if types.contains(where: { $0.matches(instance) }) { return true }
            let expected = JSONSchemaType.allCases.filter(types.contains).map(\.phrase)
            return fail { "\($0.subject("value")) must be \(Self.list(expected, joinedBy: "or")), not \(JSONSchemaType.of(instance).phrase)." }
        case .enumeration(let values):
            if values.contains(where: { $0.isJSONEqual(to: instance) }) { return true }
            return fail { $0.enumerationMessage(values) }
        case .constant(let value):
            return value.isJSONEqual(to: instance) || fail { "\($0.subject("value")) must be \(value.renderedForMessage())." }
        default:
            let isValid: Bool? =
                switch instance {
                case .number(let number): evaluate(keyword, number: number)
                case .string(let string): evaluate(keyword, string: string)
                case .array(let items): evaluate(keyword, array: items, &annotations)
                case .object(let members): evaluate(keyword, object: members, instance, &annotations)
                case .bool, .null: nil
                }
            return isValid ?? evaluateApplicator(keyword, instance, &annotations)
        }
    }

    /// The numeric keywords; `nil` for any other keyword.
    private mutating func evaluate(_ keyword: JSONSchemaKeyword, number: Double) -> Bool? {
        switch keyword {
        case .multipleOf(let divisor):
            JSONSchemaNumber.isMultiple(number, of: divisor)
                || fail { "\($0.subject("number")) must be a multiple of \(JSONSchemaNumber.text(divisor))." }
        case .minimum(let limit):
            number >= limit || fail { "\($0.subject("number")) must be at least \(JSONSchemaNumber.text(limit))." }
        case .exclusiveMinimum(let limit):
            number > limit || fail { "\($0.subject("number")) must be greater than \(JSONSchemaNumber.text(limit))." }
        case .maximum(let limit):
            number <= limit || fail { "\($0.subject("number")) must be at most \(JSONSchemaNumber.text(limit))." }
        case .exclusiveMaximum(let limit):
            number < limit || fail { "\($0.subject("number")) must be less than \(JSONSchemaNumber.text(limit))." }
        default:
            nil
        }
    }

    /// The string keywords; `nil` for any other keyword.
    private mutating func evaluate(_ keyword: JSONSchemaKeyword, string: String) -> Bool? {
        switch keyword {
        case .minLength(let limit):
            string.unicodeScalars.count >= limit
                || fail { "\($0.subject("string")) must be at least \(Self.counted(limit, "character")) long." }
        case .maxLength(let limit):
            string.unicodeScalars.count <= limit
                || fail { "\($0.subject("string")) must be at most \(Self.counted(limit, "character")) long." }
        case .pattern(let pattern):
            pattern.matches(string) || fail { "\($0.subject("string")) must match the pattern '\(pattern.source)'." }
        default:
            nil
        }
    }

    /// The array keywords; `nil` for any other keyword.
    private mutating func evaluate(_ keyword: JSONSchemaKeyword, array items: [JSONValue], _ annotations: inout Annotations) -> Bool? {
        switch keyword {
        case .minItems(let limit):
            return items.count >= limit || fail { "\($0.subject("array")) must have at least \(Self.counted(limit, "item"))." }
        case .maxItems(let limit):
            return items.count <= limit || fail { "\($0.subject("array")) must have at most \(Self.counted(limit, "item"))." }
        case .uniqueItems:
            guard let (first, second) = firstDuplicate(in: items) else { return true }
            return fail { "\($0.subject("array")) must not contain duplicates, but the items at \(first) and \(second) are equal." }
        case .prefixItems(let schemas):
            var isValid = true
            for (index, schema) in zip(items.indices, schemas) {
                keywordPath.append(String(index))
                isValid = evaluate(schema, items[index], at: .index(index)) && isValid
                keywordPath.removeLast()
                if !isValid && !reporting { return false }
            }
            if program.tracksAnnotations { annotations.itemPrefix = max(annotations.itemPrefix, min(items.count, schemas.count)) }
            return isValid
        case .items(let schema, let start):
            guard items.count > start else { return true }
            if program.nodes[schema].isFalse {
                let limit = Self.counted(start, "item")
                return fail { start == 0 ? "\($0.subject("array")) must be empty." : "\($0.subject("array")) must have at most \(limit)." }
            }
            var isValid = true
            for index in start..<items.count {
                isValid = evaluate(schema, items[index], at: .index(index)) && isValid
                if !isValid && !reporting { return false }
            }
            if program.tracksAnnotations { annotations.itemPrefix = items.count }
            return isValid
        case .contains(let schema, let minimum, let maximum, let minimumKeyword):
            var matches = 0
            for (index, item) in items.enumerated() {
                instancePath.append(.index(index))
                let isMatch = test(schema, item).isValid
                instancePath.removeLast()
                guard isMatch else { continue }
                matches += 1
                if program.tracksAnnotations {
                    annotations.items.insert(index)
                } else if maximum == nil && matches >= minimum {
                    break
                }
            }
            if matches < minimum {
                keywordPath[keywordPath.count - 1] = minimumKeyword
                defer { keywordPath[keywordPath.count - 1] = keyword.name }
                let needed = minimum == 1 ? "an item" : "at least \(Self.counted(minimum, "item"))"
                return fail { "\($0.subject("array")) must contain \(needed) matching the 'contains' schema, but has \(matches)." }
            }
            if let maximum, matches > maximum {
                keywordPath[keywordPath.count - 1] = "maxContains"
                defer { keywordPath[keywordPath.count - 1] = keyword.name }
                return fail {
                    "\($0.subject("array")) must contain at most \(Self.counted(maximum, "item")) matching the 'contains' schema, but has \(matches)."
                }
            }
            return true
        case .unevaluatedItems(let schema):
            var isValid = true
            for index in items.indices where !annotations.evaluated(item: index) {
                if program.nodes[schema].isFalse {
                    isValid = fail { "\($0.subject("array")) must not have an item at index \(index); no schema allows it." } && isValid
                } else {
                    isValid = evaluate(schema, items[index], at: .index(index)) && isValid
                }
                if !isValid && !reporting { return false }
            }
            annotations.itemPrefix = items.count
            return isValid
        default:
            return nil
        }
    }

    /// The object keywords; `nil` for any other keyword.
    private mutating func evaluate(
        _ keyword: JSONSchemaKeyword,
        object members: [String: JSONValue],
        _ instance: JSONValue,
        _ annotations: inout Annotations
    ) -> Bool? {
        switch keyword {
        case .required(let names):
            var isValid = true
            for name in names where members[name] == nil {
                isValid = fail { "The required property '\(name)' is missing\($0.instancePath.isEmpty ? "" : " from the object\($0.at)")." }
                if !reporting { break }
            }
            return isValid
        case .dependentRequired(let dependencies):
            var isValid = true
            for (property, required) in dependencies where members[property] != nil {
                for name in required where members[name] == nil {
                    isValid = fail { "\($0.subject("object")) must have the property '\(name)' because it has '\(property)'." } && isValid
                    if !reporting { return false }
                }
            }
            return isValid
        case .minProperties(let limit):
            return members.count >= limit || fail { "\($0.subject("object")) must have at least \(Self.counted(limit, "property"))." }
        case .maxProperties(let limit):
            return members.count <= limit || fail { "\($0.subject("object")) must have at most \(Self.counted(limit, "property"))." }
        case .dependentSchemas(let dependencies):
            var isValid = true
            for (property, schema) in dependencies where members[property] != nil {
                keywordPath.append(property)
                isValid = evaluate(schema, instance, &annotations) && isValid
                keywordPath.removeLast()
                if !isValid && !reporting { return false }
            }
            return isValid
        case .properties(let schemas):
            var isValid = true
            for (name, schema) in schemas {
                guard let value = members[name] else { continue }
                keywordPath.append(name)
                isValid = evaluate(property: name, value, against: schema) && isValid
                keywordPath.removeLast()
                if !isValid && !reporting { return false }
                if program.tracksAnnotations { annotations.properties.insert(name) }
            }
            return isValid
        case .patternProperties(let schemas):
            var isValid = true
            for name in members.keys.sorted() {
                guard let value = members[name] else { continue }
                for (pattern, schema) in schemas where pattern.matches(name) {
                    keywordPath.append(pattern.source)
                    isValid = evaluate(property: name, value, against: schema) && isValid
                    keywordPath.removeLast()
                    if !isValid && !reporting { return false }
                    if program.tracksAnnotations { annotations.properties.insert(name) }
                }
            }
            return isValid
        case .additionalProperties(let schema, let named, let patterns):
            var isValid = true
            for name in members.keys.sorted() where !named.contains(name) && !patterns.contains(where: { $0.matches(name) }) {
                guard let value = members[name] else { continue }
                isValid = evaluate(property: name, value, against: schema) && isValid
                if !isValid && !reporting { return false }
                if program.tracksAnnotations { annotations.properties.insert(name) }
            }
            return isValid
        case .propertyNames(let schema):
            var isValid = true
            for name in members.keys.sorted() {
                propertyName = name
                var nameAnnotations = Annotations()
                isValid = evaluate(schema, .string(name), &nameAnnotations) && isValid
                propertyName = nil
                if !isValid && !reporting { return false }
            }
            return isValid
        case .unevaluatedProperties(let schema):
            var isValid = true
            for name in members.keys.sorted() where !annotations.properties.contains(name) {
                guard let value = members[name] else { continue }
                isValid = evaluate(property: name, value, against: schema) && isValid
                if !isValid && !reporting { return false }
            }
            annotations.properties.formUnion(members.keys)
            return isValid
        default:
            return nil
        }
    }

    /// Evaluates a property's value; a `false` schema gets a message that names the property.
    private mutating func evaluate(property name: String, _ value: JSONValue, against schema: JSONSchemaProgram.NodeID) -> Bool {
        if program.nodes[schema].isFalse {
            return fail(at: .property(name)) { "\($0.subject("object")) must not have the property '\(name)'." }
        }
        return evaluate(schema, value, at: .property(name))
    }

    /// The keywords that apply to every type of value: the in-place applicators and references.
    private mutating func evaluateApplicator(_ keyword: JSONSchemaKeyword, _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        switch keyword {
        case .ref(let target):
            return evaluate(target, instance, &annotations)
        case .dynamicRef(let initial, let anchor):
            return evaluate(dynamicTarget(initial: initial, anchor: anchor), instance, &annotations)
        case .allOf(let schemas):
            var isValid = true
            for (index, schema) in schemas.enumerated() {
                keywordPath.append(String(index))
                isValid = evaluate(schema, instance, &annotations) && isValid
                keywordPath.removeLast()
                if !isValid && !reporting { return false }
            }
            return isValid
        case .anyOf(let schemas):
            return evaluateAnyOf(schemas, instance, &annotations)
        case .oneOf(let schemas):
            return evaluateOneOf(schemas, instance, &annotations)
        case .not(let schema):
            guard test(schema, instance).isValid else { return true }
            return fail { "\($0.subject("value")) must not match the schema in 'not'." }
        case .conditional(let condition, let then, let otherwise):
            let (matches, conditionAnnotations) = test(condition, instance)
            if matches { annotations.merge(conditionAnnotations) }
            guard let branch = matches ? then : otherwise else { return true }
            keywordPath[keywordPath.count - 1] = matches ? "then" : "else"
            defer { keywordPath[keywordPath.count - 1] = keyword.name }
            return evaluate(branch, instance, &annotations)
        default:
            // The keyword does not apply to this type of value.
            return true
        }
    }

    private mutating func evaluateAnyOf(_ schemas: [JSONSchemaProgram.NodeID], _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        let start = violations.count
        speculation += 1
        var matched = false
        for (index, schema) in schemas.enumerated() {
            keywordPath.append(String(index))
            let branch = evaluateBranch(schema, instance)
            keywordPath.removeLast()
            guard branch.isValid else { continue }
            matched = true
            annotations.merge(branch.annotations)
            // Later branches only matter for the annotations they might add.
            if !program.tracksAnnotations { break }
        }
        speculation -= 1
        if matched {
            violations.removeSubrange(start...)
            return true
        }
        // The branches' own violations follow the summary: they say what each alternative lacks.
        insert(at: start) { "\($0.subject("value")) must match at least one of the \(schemas.count) schemas in 'anyOf', but matches none." }
        return false
    }

    private mutating func evaluateOneOf(_ schemas: [JSONSchemaProgram.NodeID], _ instance: JSONValue, _ annotations: inout Annotations) -> Bool {
        let start = violations.count
        speculation += 1
        var matches: [Int] = []
        var matchedAnnotations = Annotations()
        for (index, schema) in schemas.enumerated() {
            keywordPath.append(String(index))
            let branch = evaluateBranch(schema, instance)
            keywordPath.removeLast()
            guard branch.isValid else { continue }
            matches.append(index)
            matchedAnnotations = branch.annotations
            if matches.count > 1 && !reporting { break }
        }
        speculation -= 1
        switch matches.count {
        case 1:
            violations.removeSubrange(start...)
            annotations.merge(matchedAnnotations)
            return true
        case 0:
            insert(at: start) { "\($0.subject("value")) must match exactly one of the \(schemas.count) schemas in 'oneOf', but matches none." }
            return false
        default:
            violations.removeSubrange(start...)
            let indices = Self.list(matches.map(String.init), joinedBy: "and")
            return fail { "\($0.subject("value")) must match exactly one of the \(schemas.count) schemas in 'oneOf', but matches \(indices)." }
        }
    }

    /// The outermost resource in the dynamic scope that has the dynamic anchor, else the initial target.
    private func dynamicTarget(initial: JSONSchemaProgram.NodeID, anchor: String?) -> JSONSchemaProgram.NodeID {
        guard let anchor else { return initial }
        for resource in dynamicScope {
            if let target = program.resources[resource].dynamicAnchors[anchor] { return target }
        }
        return initial
    }

    private func firstDuplicate(in items: [JSONValue]) -> (Int, Int)? {
        // Bucketing by hash keeps this linear for the arrays a hostile client might send.
        var buckets: [Int: [Int]] = [:]
        for (index, item) in items.enumerated() {
            var hasher = Hasher()
            item.hashJSON(into: &hasher)
            let hash = hasher.finalize()
            if let earlier = buckets[hash, default: []].first(where: { items[$0].isJSONEqual(to: item) }) { return (earlier, index) }
            buckets[hash, default: []].append(index)
        }
        return nil
    }

    // MARK: Violations

    /// Records a violation at the current locations (or at the child `token`) and returns false. The
    /// message is built from the evaluator's state, and only when reporting.
    private mutating func fail(at token: PathToken? = nil, _ message: (Self) -> String) -> Bool {
        guard reporting, violations.count < limit else { return false }
        violations.append(violation(message(self), at: token))
        return false
    }

    /// Records a violation before those at `index` and onwards, which explain it.
    private mutating func insert(at index: Int, _ message: (Self) -> String) {
        guard reporting, index < limit else { return }
        violations.insert(violation(message(self), at: nil), at: index)
        if violations.count > limit { violations.removeLast(violations.count - limit) }
    }

    /// Ends the validation, which then fails whatever the keywords said so far.
    private mutating func halt(_ message: String) {
        stop = .halted
        haltViolation = violation(message, at: nil)
    }

    private func violation(_ message: String, at token: PathToken?) -> JSONSchemaViolation {
        JSONSchemaViolation(
            instanceLocation: pointer(instancePath + (token.map { [$0] } ?? [])),
            keywordLocation: JSONSchemaPointer.string(keywordPath),
            message: message
        )
    }

    // MARK: Message parts

    /// " at /items/2", or nothing for the root value.
    private var at: String {
        instancePath.isEmpty ? "" : " at \(pointer(instancePath))"
    }

    /// What a message is about: "The string at /name", or "The property name 'Name' in the object at
    /// /user" while `propertyNames` is checking a name.
    private func subject(_ noun: String) -> String {
        if let propertyName {
            return "The property name '\(propertyName)'" + (instancePath.isEmpty ? "" : " in the object at \(pointer(instancePath))")
        }
        return "The \(noun)\(at)"
    }

    private func enumerationMessage(_ values: [JSONValue]) -> String {
        switch values.count {
        case 0: return "\(subject("value")) cannot match the empty 'enum'."
        case 1: return "\(subject("value")) must be \(values[0].renderedForMessage())."
        default:
            let shown = values.prefix(10).map { $0.renderedForMessage() }
            let more = values.count > 10 ? " (or one of \(values.count - 10) more)" : ""
            return "\(subject("value")) must be one of \(shown.joined(separator: ", "))\(more)."
        }
    }

    private static func counted(_ count: Int, _ noun: String) -> String {
        if count == 1 { return "1 \(noun)" }
        return noun == "property" ? "\(count) properties" : "\(count) \(noun)s"
    }

    private static func list(_ items: [String], joinedBy conjunction: String) -> String {
        guard let last = items.last else { return "" }
        guard items.count > 1 else { return last }
        return items.dropLast().joined(separator: ", ") + " \(conjunction) " + last
    }

    private func pointer(_ path: [PathToken]) -> String {
        JSONSchemaPointer.string(path.lazy.map(\.text))
    }
}
