import CairnCore
import Foundation

/// Turns a schema document, and the resource documents its references reach, into a
/// `JSONSchemaProgram`.
///
/// Two passes: a scan of each document records the base URI, resource and vocabularies of every
/// subschema and registers `$id`s and anchors; compilation then starts at the root and compiles
/// exactly the subschemas that can be reached, resolving each `$ref` to a node. Nodes are compiled
/// from a work list rather than by recursion, so long `$ref` chains cannot exhaust the stack.
struct JSONSchemaCompiler {
    /// How deeply schemas may nest inside one another (the JSON decoder stops at 512 anyway).
    static let maximumDepth = 512

    /// Where a subschema sits: a document and a JSON Pointer into it, as unescaped tokens.
    private struct Location: Hashable {
        var document: Int
        var pointer: [String]

        func appending(_ tokens: String...) -> Location {
            Location(document: document, pointer: pointer + tokens)
        }
    }

    /// What the scan learnt about a subschema.
    private struct Scope {
        var base: JSONSchemaURI
        var resource: Int
        var vocabularies: Vocabularies
    }

    private struct ResourceDraft {
        var location: Location
        var dynamicAnchors: [String: Location] = [:]
    }

    /// The vocabularies a dialect turns on; the core vocabulary is always on, and the meta-data,
    /// format-annotation and content vocabularies only annotate, so they need no flag.
    private struct Vocabularies: OptionSet {
        let rawValue: Int
        static let applicator = Vocabularies(rawValue: 1 << 0)
        static let unevaluated = Vocabularies(rawValue: 1 << 1)
        static let validation = Vocabularies(rawValue: 1 << 2)
        static let all: Vocabularies = [.applicator, .unevaluated, .validation]
    }

    private static let vocabularyPrefix = "https://json-schema.org/draft/2020-12/vocab/"
    /// The base URI of a root schema without `$id`; references within it still resolve against it.
    private static let defaultBase = JSONSchemaURI("urn:cairn:json-schema")

    private var documents: [JSONValue]
    /// How messages name each document: "" for the root schema, the URI for a resource.
    private var documentNames: [String]
    private let resourceDocuments: [String: JSONValue]
    private var scopes: [Location: Scope] = [:]
    private var resources: [ResourceDraft] = []
    private var resourcesByURI: [String: Int] = [:]
    private var resourcesByLocation: [Location: Int] = [:]
    /// "absolute-uri#name" to the subschema carrying that `$anchor` or `$dynamicAnchor`.
    private var anchors: [String: Location] = [:]

    private var nodeIDs: [Location: JSONSchemaProgram.NodeID] = [:]
    private var nodes: [JSONSchemaProgram.Node] = []
    private var nodeLocations: [Location] = []
    /// Nodes with an ID and a placeholder, still to be compiled.
    private var pending: [(location: Location, id: JSONSchemaProgram.NodeID)] = []
    private var tracksAnnotations = false

    init(schema: JSONValue, resources: [String: JSONValue]) {
        documents = [schema]
        documentNames = [""]
        var byURI: [String: JSONValue] = [:]
        for (uri, document) in resources {
            byURI[JSONSchemaURI(uri).withoutFragment.description] = document
        }
        resourceDocuments = byURI
    }

    mutating func compile() throws -> JSONSchemaProgram {
        try scanDocument(0, retrievedFrom: Self.defaultBase)
        let root = try nodeID(for: Location(document: 0, pointer: []))
        var dynamicAnchors: [[String: JSONSchemaProgram.NodeID]] = []
        // Every resource that owns a compiled node can enter the dynamic scope, so its dynamic
        // anchors must be compiled too; they may reach further resources, hence the loop.
        repeat {
            while let (location, id) = pending.popLast() {
                nodes[id] = try compileNode(at: location)
            }
            dynamicAnchors = Array(repeating: [:], count: resources.count)
            for resource in Set(nodes.map(\.resource)) {
                for (name, location) in resources[resource].dynamicAnchors {
                    dynamicAnchors[resource][name] = try nodeID(for: location)
                }
            }
        } while !pending.isEmpty
        try rejectInPlaceCycles()
        return JSONSchemaProgram(
            nodes: nodes,
            resources: dynamicAnchors.map { JSONSchemaProgram.Resource(dynamicAnchors: $0) },
            root: root,
            tracksAnnotations: tracksAnnotations
        )
    }

    // MARK: Scanning

    private mutating func scanDocument(_ document: Int, retrievedFrom uri: JSONSchemaURI) throws {
        let location = Location(document: document, pointer: [])
        let vocabularies = try declaredVocabularies(of: documents[document], inheriting: .all, at: location)
        let resource = addResource(at: location)
        try register(uri.description, for: resource, at: location)
        try scan(documents[document], at: location, in: Scope(base: uri, resource: resource, vocabularies: vocabularies), depth: 0)
    }

    /// Records `scope` for every subschema under `value`, following the keywords whose values are
    /// schemas; unknown keywords are not schemas, so `$id`s inside them identify nothing.
    private mutating func scan(_ value: JSONValue, at location: Location, in scope: Scope, depth: Int) throws {
        guard depth <= Self.maximumDepth else {
            throw JSONSchemaError(.tooDeep, "The schema nests deeper than \(Self.maximumDepth) levels at \(display(location)).")
        }
        guard case .object(let object) = value else {
            if case .bool = value { scopes[location] = scope }
            return
        }
        var scope = scope
        if let id = object["$id"] {
            guard case .string(let text) = id else { throw invalid("$id", at: location, mustBe: "a string") }
            let reference = JSONSchemaURI(text)
            guard reference.fragment?.isEmpty ?? true else {
                throw JSONSchemaError(
                    .invalidKeyword,
                    "The '$id' at \(display(location)) must not have a fragment; name subschemas with '$anchor' instead."
                )
            }
            scope.base = scope.base.resolving(reference).withoutFragment
            if let resource = resourcesByLocation[location] {
                scope.resource = resource
            } else {
                scope.resource = addResource(at: location)
                scope.vocabularies = try declaredVocabularies(of: value, inheriting: scope.vocabularies, at: location)
            }
            try register(scope.base.description, for: scope.resource, at: location)
        }
        scopes[location] = scope
        for keyword in ["$anchor", "$dynamicAnchor"] {
            guard let anchor = object[keyword] else { continue }
            guard case .string(let name) = anchor, Self.isAnchorName(name) else {
                throw invalid(keyword, at: location, mustBe: "a name that starts with a letter or '_'")
            }
            let key = "\(scope.base)#\(name)"
            if let existing = anchors[key], existing != location {
                throw JSONSchemaError(.invalidKeyword, "The anchor '\(name)' at \(display(location)) is already defined at \(display(existing)).")
            }
            anchors[key] = location
            if keyword == "$dynamicAnchor" { resources[scope.resource].dynamicAnchors[name] = location }
        }
        for keyword in Self.schemaKeywords {
            guard let child = object[keyword] else { continue }
            try scan(child, at: location.appending(keyword), in: scope, depth: depth + 1)
        }
        for keyword in Self.schemaArrayKeywords {
            guard case .array(let children)? = object[keyword] else { continue }
            for (index, child) in children.enumerated() {
                try scan(child, at: location.appending(keyword, String(index)), in: scope, depth: depth + 1)
            }
        }
        for keyword in Self.schemaMapKeywords {
            guard case .object(let children)? = object[keyword] else { continue }
            for (name, child) in children {
                try scan(child, at: location.appending(keyword, name), in: scope, depth: depth + 1)
            }
        }
    }

    private static let schemaKeywords = [
        "additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties",
    ]
    private static let schemaArrayKeywords = ["prefixItems", "allOf", "anyOf", "oneOf"]
    private static let schemaMapKeywords = ["$defs", "properties", "patternProperties", "dependentSchemas"]

    private mutating func addResource(at location: Location) -> Int {
        resources.append(ResourceDraft(location: location))
        resourcesByLocation[location] = resources.count - 1
        return resources.count - 1
    }

    private mutating func register(_ uri: String, for resource: Int, at location: Location) throws {
        if let existing = resourcesByURI[uri], existing != resource {
            throw JSONSchemaError(
                .invalidKeyword,
                "The '$id' '\(uri)' at \(display(location)) is already used at \(display(resources[existing].location))."
            )
        }
        resourcesByURI[uri] = resource
    }

    /// The vocabularies of a resource: those its `$schema` metaschema lists in `$vocabulary` when
    /// that metaschema is among the resources, else all of draft 2020-12.
    private func declaredVocabularies(of schema: JSONValue, inheriting inherited: Vocabularies, at location: Location) throws -> Vocabularies {
        guard case .object(let object) = schema, let dialect = object["$schema"] else { return inherited }
        guard case .string(let uri) = dialect else { throw invalid("$schema", at: location, mustBe: "a URI") }
        guard case .object(let metaschema)? = resourceDocuments[JSONSchemaURI(uri).withoutFragment.description],
            case .object(let declared)? = metaschema["$vocabulary"]
        else { return .all }
        var vocabularies: Vocabularies = []
        for (vocabulary, required) in declared {
            switch vocabulary {
            case Self.vocabularyPrefix + "applicator": vocabularies.insert(.applicator)
            case Self.vocabularyPrefix + "unevaluated": vocabularies.insert(.unevaluated)
            case Self.vocabularyPrefix + "validation": vocabularies.insert(.validation)
            case Self.vocabularyPrefix + "core", Self.vocabularyPrefix + "meta-data", Self.vocabularyPrefix + "format-annotation",
                Self.vocabularyPrefix + "content":
                break
            default:
                // An optional vocabulary may be ignored; a required one changes what valid means.
                if required == .bool(true) {
                    throw JSONSchemaError(
                        .unsupportedVocabulary,
                        "The metaschema '\(uri)' requires the vocabulary '\(vocabulary)', which this validator does not implement."
                    )
                }
            }
        }
        return vocabularies
    }

    private static func isAnchorName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, Self.isASCIILetter(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { Self.isASCIILetter($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    // MARK: Compiling

    private mutating func nodeID(for location: Location) throws -> JSONSchemaProgram.NodeID {
        if let id = nodeIDs[location] { return id }
        let scope = try self.scope(of: location)
        let id = nodes.count
        nodeIDs[location] = id
        // A placeholder until the work list reaches it; `compile` replaces every one.
        nodes.append(JSONSchemaProgram.Node(body: .always(true), resource: scope.resource))
        nodeLocations.append(location)
        pending.append((location, id))
        return id
    }

    /// The scan's record for `location`; a `$ref` may point where the scan did not go (into an
    /// unknown keyword), and then the subschema is scanned in the scope of its nearest scanned parent.
    private mutating func scope(of location: Location) throws -> Scope {
        if let scope = scopes[location] { return scope }
        var parent = location
        while scopes[parent] == nil, !parent.pointer.isEmpty { parent.pointer.removeLast() }
        guard let parentScope = scopes[parent], let value = value(at: location) else {
            throw JSONSchemaError(.unresolvableReference, "Nothing in the schema is at \(display(location)).")
        }
        try scan(value, at: location, in: parentScope, depth: 0)
        guard let scope = scopes[location] else { throw notASchema(at: location) }
        return scope
    }

    private mutating func compileNode(at location: Location) throws -> JSONSchemaProgram.Node {
        let scope = try self.scope(of: location)
        switch value(at: location) {
        case .bool(let value)?:
            return JSONSchemaProgram.Node(body: .always(value), resource: scope.resource)
        case .object(let object)?:
            let keywords = try compileKeywords(of: object, at: location, in: scope)
            return JSONSchemaProgram.Node(body: .keywords(keywords), resource: scope.resource)
        default:
            throw notASchema(at: location)
        }
    }

    private mutating func compileKeywords(of object: [String: JSONValue], at location: Location, in scope: Scope) throws -> [JSONSchemaKeyword] {
        var keywords: [JSONSchemaKeyword] = []
        if scope.vocabularies.contains(.validation) {
            keywords += try compileValidation(of: object, at: location)
        }
        if let defs = object["$defs"] {
            // Definitions compile when a reference reaches them; only their container is checked here.
            guard case .object = defs else { throw invalid("$defs", at: location, mustBe: "an object of schemas") }
        }
        if let reference = object["$ref"] {
            guard case .string(let text) = reference else { throw invalid("$ref", at: location, mustBe: "a URI reference") }
            let target = try resolve(text, from: scope.base, keyword: "$ref", at: location)
            keywords.append(.ref(try nodeID(for: target.location)))
        }
        if let reference = object["$dynamicRef"] {
            guard case .string(let text) = reference else { throw invalid("$dynamicRef", at: location, mustBe: "a URI reference") }
            let target = try resolve(text, from: scope.base, keyword: "$dynamicRef", at: location)
            // Only a fragment that a `$dynamicAnchor` created makes the reference dynamic.
            let isDynamic = resources[target.resource].dynamicAnchors[target.fragment] == target.location
            keywords.append(.dynamicRef(initial: try nodeID(for: target.location), anchor: isDynamic ? target.fragment : nil))
        }
        if scope.vocabularies.contains(.applicator) {
            keywords += try compileApplicators(of: object, at: location, countingContains: scope.vocabularies.contains(.validation))
        }
        if scope.vocabularies.contains(.unevaluated) {
            if let schema = try subschema("unevaluatedItems", of: object, at: location) {
                keywords.append(.unevaluatedItems(schema))
                tracksAnnotations = true
            }
            if let schema = try subschema("unevaluatedProperties", of: object, at: location) {
                keywords.append(.unevaluatedProperties(schema))
                tracksAnnotations = true
            }
        }
        return keywords
    }

    private func compileValidation(of object: [String: JSONValue], at location: Location) throws -> [JSONSchemaKeyword] {
        var keywords: [JSONSchemaKeyword] = []
        if let type = object["type"] { keywords.append(.type(try types(type, at: location))) }
        if let values = object["enum"] {
            guard case .array(let values) = values else { throw invalid("enum", at: location, mustBe: "an array") }
            keywords.append(.enumeration(values))
        }
        if let value = object["const"] { keywords.append(.constant(value)) }
        if let divisor = try number("multipleOf", of: object, at: location) {
            guard divisor > 0 else { throw invalid("multipleOf", at: location, mustBe: "a number greater than 0") }
            keywords.append(.multipleOf(divisor))
        }
        if let limit = try number("minimum", of: object, at: location) { keywords.append(.minimum(limit)) }
        if let limit = try number("exclusiveMinimum", of: object, at: location) { keywords.append(.exclusiveMinimum(limit)) }
        if let limit = try number("maximum", of: object, at: location) { keywords.append(.maximum(limit)) }
        if let limit = try number("exclusiveMaximum", of: object, at: location) { keywords.append(.exclusiveMaximum(limit)) }
        if let limit = try count("minLength", of: object, at: location) { keywords.append(.minLength(limit)) }
        if let limit = try count("maxLength", of: object, at: location) { keywords.append(.maxLength(limit)) }
        if let pattern = object["pattern"] {
            guard case .string(let source) = pattern else { throw invalid("pattern", at: location, mustBe: "a string") }
            keywords.append(.pattern(try compilePattern(source, keyword: "pattern", at: location)))
        }
        if let limit = try count("minItems", of: object, at: location) { keywords.append(.minItems(limit)) }
        if let limit = try count("maxItems", of: object, at: location) { keywords.append(.maxItems(limit)) }
        if let unique = object["uniqueItems"] {
            guard case .bool(let isUnique) = unique else { throw invalid("uniqueItems", at: location, mustBe: "a boolean") }
            if isUnique { keywords.append(.uniqueItems) }
        }
        if let required = object["required"] {
            guard let names = required.strings, case .array = required else {
                throw invalid("required", at: location, mustBe: "an array of property names")
            }
            keywords.append(.required(names))
        }
        if let dependencies = object["dependentRequired"] {
            guard case .object(let dependencies) = dependencies else {
                throw invalid("dependentRequired", at: location, mustBe: "an object of arrays of property names")
            }
            var pairs: [(property: String, requires: [String])] = []
            for (property, required) in dependencies.sorted(by: { $0.key < $1.key }) {
                guard let names = required.strings, case .array = required else {
                    throw invalid("dependentRequired", at: location, mustBe: "an object of arrays of property names")
                }
                pairs.append((property, names))
            }
            keywords.append(.dependentRequired(pairs))
        }
        if let limit = try count("minProperties", of: object, at: location) { keywords.append(.minProperties(limit)) }
        if let limit = try count("maxProperties", of: object, at: location) { keywords.append(.maxProperties(limit)) }
        return keywords
    }

    private mutating func compileApplicators(
        of object: [String: JSONValue],
        at location: Location,
        countingContains: Bool
    ) throws -> [JSONSchemaKeyword] {
        var keywords: [JSONSchemaKeyword] = []
        if let schemas = try subschemas("allOf", of: object, at: location) { keywords.append(.allOf(schemas)) }
        if let schemas = try subschemas("anyOf", of: object, at: location) { keywords.append(.anyOf(schemas)) }
        if let schemas = try subschemas("oneOf", of: object, at: location) { keywords.append(.oneOf(schemas)) }
        if let schema = try subschema("not", of: object, at: location) { keywords.append(.not(schema)) }
        // `then` and `else` mean nothing without `if`; `if` alone still contributes annotations.
        if let condition = try subschema("if", of: object, at: location) {
            let then = try subschema("then", of: object, at: location)
            let otherwise = try subschema("else", of: object, at: location)
            keywords.append(.conditional(if: condition, then: then, else: otherwise))
        }
        if let schemas = try subschemaMap("dependentSchemas", of: object, at: location) {
            keywords.append(.dependentSchemas(schemas.map { ($0.name, $0.schema) }))
        }
        let prefix = try subschemas("prefixItems", of: object, at: location)
        if let prefix { keywords.append(.prefixItems(prefix)) }
        if let schema = try subschema("items", of: object, at: location) { keywords.append(.items(schema, after: prefix?.count ?? 0)) }
        if let schema = try subschema("contains", of: object, at: location) {
            // minContains and maxContains belong to the validation vocabulary.
            let minimum = countingContains ? try count("minContains", of: object, at: location) : nil
            let maximum = countingContains ? try count("maxContains", of: object, at: location) : nil
            keywords.append(.contains(schema, minimum: minimum ?? 1, maximum: maximum, minimumKeyword: minimum == nil ? "contains" : "minContains"))
        }
        let properties = try subschemaMap("properties", of: object, at: location)
        if let properties { keywords.append(.properties(properties)) }
        var patterns: [JSONSchemaPattern] = []
        if let schemas = try subschemaMap("patternProperties", of: object, at: location) {
            var compiled: [(pattern: JSONSchemaPattern, schema: JSONSchemaProgram.NodeID)] = []
            for (source, schema) in schemas {
                compiled.append((try compilePattern(source, keyword: "patternProperties", at: location), schema))
            }
            patterns = compiled.map(\.pattern)
            keywords.append(.patternProperties(compiled))
        }
        if let schema = try subschema("additionalProperties", of: object, at: location) {
            keywords.append(.additionalProperties(schema, named: Set(properties?.map(\.name) ?? []), patterns: patterns))
        }
        if let schema = try subschema("propertyNames", of: object, at: location) { keywords.append(.propertyNames(schema)) }
        return keywords
    }

    // MARK: JSONSchemaKeyword values

    private mutating func subschema(_ keyword: String, of object: [String: JSONValue], at location: Location) throws -> JSONSchemaProgram.NodeID? {
        guard let value = object[keyword] else { return nil }
        guard Self.isSchema(value) else { throw invalid(keyword, at: location, mustBe: "a schema (an object or a boolean)") }
        return try nodeID(for: location.appending(keyword))
    }

    private mutating func subschemas(_ keyword: String, of object: [String: JSONValue], at location: Location) throws -> [JSONSchemaProgram.NodeID]? {
        guard let value = object[keyword] else { return nil }
        guard case .array(let values) = value, !values.isEmpty, values.allSatisfy(Self.isSchema) else {
            throw invalid(keyword, at: location, mustBe: "a non-empty array of schemas")
        }
        return try values.indices.map { try nodeID(for: location.appending(keyword, String($0))) }
    }

    /// The schemas of an object-valued keyword, sorted by name so that messages come in a stable order.
    private mutating func subschemaMap(
        _ keyword: String,
        of object: [String: JSONValue],
        at location: Location
    ) throws -> [(name: String, schema: JSONSchemaProgram.NodeID)]? {
        guard let value = object[keyword] else { return nil }
        guard case .object(let members) = value, members.values.allSatisfy(Self.isSchema) else {
            throw invalid(keyword, at: location, mustBe: "an object of schemas")
        }
        return try members.keys.sorted().map { ($0, try nodeID(for: location.appending(keyword, $0))) }
    }

    private func types(_ value: JSONValue, at location: Location) throws -> Set<JSONSchemaType> {
        let names = value.strings ?? []
        let types = names.compactMap(JSONSchemaType.init(rawValue:))
        guard !types.isEmpty, types.count == names.count else {
            let list = JSONSchemaType.allCases.map(\.rawValue).joined(separator: ", ")
            throw invalid("type", at: location, mustBe: "one of \(list), or a non-empty array of them")
        }
        return Set(types)
    }

    private func number(_ keyword: String, of object: [String: JSONValue], at location: Location) throws -> Double? {
        guard let value = object[keyword] else { return nil }
        guard case .number(let number) = value, number.isFinite else { throw invalid(keyword, at: location, mustBe: "a number") }
        return number
    }

    private func count(_ keyword: String, of object: [String: JSONValue], at location: Location) throws -> Int? {
        guard let value = object[keyword] else { return nil }
        guard case .number(let number) = value, number >= 0, number.rounded(.towardZero) == number else {
            throw invalid(keyword, at: location, mustBe: "a non-negative integer")
        }
        // A limit beyond Int.max limits nothing.
        return Int(exactly: number) ?? .max
    }

    private func compilePattern(_ source: String, keyword: String, at location: Location) throws -> JSONSchemaPattern {
        guard let pattern = JSONSchemaPattern(source) else {
            throw JSONSchemaError(
                .invalidKeyword,
                "The pattern '\(source)' in '\(keyword)' at \(display(location)) is not a valid regular expression."
            )
        }
        return pattern
    }

    // MARK: References

    /// `reference` resolved against `base`: the subschema it names, that subschema's resource, and
    /// the decoded fragment.
    private mutating func resolve(
        _ reference: String,
        from base: JSONSchemaURI,
        keyword: String,
        at location: Location
    ) throws -> (location: Location, resource: Int, fragment: String) {
        let uri = base.resolving(JSONSchemaURI(reference))
        let resourceURI = uri.withoutFragment.description
        let rawFragment = uri.fragment ?? ""
        let fragment = rawFragment.removingPercentEncoding ?? rawFragment
        let place = display(location)
        let unresolvable = { (reason: String) in
            JSONSchemaError(.unresolvableReference, "The \(keyword) '\(reference)' at \(place) cannot be resolved: \(reason).")
        }
        guard let resource = try resource(named: resourceURI) else {
            throw unresolvable("no schema or resource has the URI '\(resourceURI)'")
        }
        let root = resources[resource].location
        let target: Location
        if fragment.isEmpty {
            target = root
        } else if fragment.hasPrefix("/") {
            let tokens = fragment.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            }
            target = Location(document: root.document, pointer: root.pointer + tokens)
            guard value(at: target) != nil else { throw unresolvable("the pointer points to nothing") }
        } else {
            guard let anchored = anchors["\(resourceURI)#\(fragment)"] else {
                throw unresolvable("no subschema in '\(resourceURI)' has the anchor '\(fragment)'")
            }
            target = anchored
        }
        guard let schema = value(at: target), Self.isSchema(schema) else { throw unresolvable("it names something that is not a schema") }
        return (target, try scope(of: target).resource, fragment)
    }

    /// The resource with `uri`, loading it from the resource documents on first use.
    private mutating func resource(named uri: String) throws -> Int? {
        if let resource = resourcesByURI[uri] { return resource }
        guard let document = resourceDocuments[uri] else { return nil }
        documents.append(document)
        documentNames.append(uri)
        try scanDocument(documents.count - 1, retrievedFrom: JSONSchemaURI(uri))
        return resourcesByURI[uri]
    }

    private func value(at location: Location) -> JSONValue? {
        var value = documents[location.document]
        for token in location.pointer {
            switch value {
            case .object(let members):
                guard let member = members[token] else { return nil }
                value = member
            case .array(let elements):
                // JSON Pointer array indices are decimal digits without leading zeros.
                guard let index = Int(token), index >= 0, index < elements.count, String(index) == token else { return nil }
                value = elements[index]
            default:
                return nil
            }
        }
        return value
    }

    /// Rejects `$ref` (and `allOf`, `not`, …) cycles that apply a schema to the very value it is
    /// already being applied to: evaluation would recurse forever, whatever the value.
    private func rejectInPlaceCycles() throws {
        enum Mark { case unvisited, inProgress, done }
        var marks = Array(repeating: Mark.unvisited, count: nodes.count)
        for start in nodes.indices where marks[start] == .unvisited {
            // Iterative depth-first search: a stack of (node, its in-place children, next child).
            var stack: [(node: Int, children: [Int], next: Int)] = [(start, inPlaceChildren(of: start), 0)]
            marks[start] = .inProgress
            while let top = stack.last {
                guard top.next < top.children.count else {
                    marks[top.node] = .done
                    stack.removeLast()
                    continue
                }
                stack[stack.count - 1].next += 1
                let child = top.children[top.next]
                switch marks[child] {
                case .inProgress:
                    throw JSONSchemaError(
                        .referenceCycle,
                        "The schema at \(display(nodeLocations[child])) refers back to itself without reaching into the value, "
                            + "so validation would never end."
                    )
                case .unvisited:
                    marks[child] = .inProgress
                    stack.append((child, inPlaceChildren(of: child), 0))
                case .done:
                    break
                }
            }
        }
    }

    private func inPlaceChildren(of node: Int) -> [Int] {
        guard case .keywords(let keywords) = nodes[node].body else { return [] }
        return keywords.flatMap(\.inPlaceSubschemas)
    }

    // MARK: Errors

    /// How messages show a location: "#/properties/name", or "https://example.com/a.json#/$defs/b".
    private func display(_ location: Location) -> String {
        documentNames[location.document] + "#" + JSONSchemaPointer.string(location.pointer)
    }

    private func invalid(_ keyword: String, at location: Location, mustBe requirement: String) -> JSONSchemaError {
        JSONSchemaError(.invalidKeyword, "The keyword '\(keyword)' at \(display(location)) must be \(requirement).")
    }

    private func notASchema(at location: Location) -> JSONSchemaError {
        JSONSchemaError(.invalidKeyword, "The value at \(display(location)) must be a schema (an object or a boolean).")
    }

    /// Whether `value` can be a schema: an object or a boolean.
    private static func isSchema(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .bool: true
        default: false
        }
    }

    private static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }
}
