import CairnCore
import Foundation

/// A value that satisfies a JSON Schema, built directly rather than searched for: what a model asked
/// for tool arguments or structured output answers.
///
/// It covers what tool and response-format schemas use: `type` (or a list of them), `properties` (all of
/// them, and every `required` name), `items`/`prefixItems` with `minItems`, `enum`, `const`, `minLength`/
/// `maxLength`, common `format`s, `minimum`/`maximum` and their exclusive forms, `multipleOf` for
/// integers, `anyOf`/`oneOf` (the first option that is not `null`), `allOf` (merged), and `$ref` into
/// `$defs`/`definitions`. `pattern` is not honoured. A node budget and a depth limit bound the work a
/// recursive or hostile schema can cause.
struct SchemaInstance {
    private let root: JSONValue
    private var budget = 10_000
    private static let maxDepth = 32
    private static let maxStringLength = 4_096
    private static let formats: [String: String] = [
        "date-time": "2024-01-01T00:00:00Z",
        "date": "2024-01-01",
        "time": "00:00:00Z",
        "email": "mock@example.com",
        "uri": "https://example.com/mock",
        "url": "https://example.com/mock",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "ipv4": "192.0.2.1",
        "ipv6": "2001:db8::1",
        "hostname": "example.com",
    ]

    /// A value that `schema` accepts.
    static func value(for schema: JSONValue) -> JSONValue {
        var instance = SchemaInstance(root: schema)
        return instance.value(for: schema, depth: 0)
    }

    private init(root: JSONValue) {
        self.root = root
    }

    private mutating func value(for schema: JSONValue, depth: Int) -> JSONValue {
        budget -= 1
        guard budget > 0, depth < Self.maxDepth else { return .null }
        // `true` and `{}` accept anything; `false` accepts nothing, so no answer is better than another.
        guard case .object(let schema) = schema else { return schema == .bool(false) ? .null : .string("mock") }
        if let reference = schema["$ref"]?.string {
            return resolve(reference).map { value(for: $0, depth: depth + 1) } ?? .null
        }
        if let constant = schema["const"] { return constant }
        if case .array(let options)? = schema["enum"], let first = options.first { return first }
        for keyword in ["anyOf", "oneOf"] {
            if case .array(let options)? = schema[keyword], let option = options.first(where: { !Self.isNullType($0) }) ?? options.first {
                return value(for: option, depth: depth + 1)
            }
        }
        if case .array(let parts)? = schema["allOf"] {
            return value(for: .object(merged(schema, parts)), depth: depth + 1)
        }
        switch Self.type(of: schema) {
        case "object": return object(schema, depth: depth)
        case "array": return array(schema, depth: depth)
        case "string": return string(schema)
        case "integer": return .number(number(schema, integral: true))
        case "number": return .number(number(schema, integral: false))
        case "boolean": return .bool(false)
        case "null": return .null
        default: return .string("mock")
        }
    }

    private mutating func object(_ schema: [String: JSONValue], depth: Int) -> JSONValue {
        var object: [String: JSONValue] = [:]
        if case .object(let properties)? = schema["properties"] {
            // In name order, so that the node budget runs out at the same place in every process.
            for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
                object[name] = value(for: property, depth: depth + 1)
            }
        }
        for name in schema["required"]?.strings ?? [] where object[name] == nil {
            object[name] = .string("mock")
        }
        return .object(object)
    }

    private mutating func array(_ schema: [String: JSONValue], depth: Int) -> JSONValue {
        let prefix: [JSONValue] = if case .array(let items)? = schema["prefixItems"] { items } else { [] }
        let items = schema["items"] ?? .object([:])
        let count = max(Self.integer(schema["minItems"]) ?? 0, 0)
        var elements: [JSONValue] = []
        for index in 0..<min(count, budget) {
            elements.append(value(for: index < prefix.count ? prefix[index] : items, depth: depth + 1))
        }
        return .array(elements)
    }

    private func string(_ schema: [String: JSONValue]) -> JSONValue {
        if let format = schema["format"]?.string, let sample = Self.formats[format] { return .string(sample) }
        var text = "mock"
        if let minimum = Self.integer(schema["minLength"]), minimum > text.count {
            text += String(repeating: "x", count: min(minimum, Self.maxStringLength) - text.count)
        }
        if let maximum = Self.integer(schema["maxLength"]), maximum < text.count {
            text = String(text.prefix(max(maximum, 0)))
        }
        return .string(text)
    }

    /// Zero when the bounds allow it, else the nearest bound (stepped inside when exclusive), else
    /// the middle of the range.
    private func number(_ schema: [String: JSONValue], integral: Bool) -> Double {
        // Draft 4 wrote exclusiveness as booleans beside `minimum`/`maximum`; later drafts as numbers.
        var lower = schema["minimum"]?.number.map { (value: $0, exclusive: schema["exclusiveMinimum"] == .bool(true)) }
        var upper = schema["maximum"]?.number.map { (value: $0, exclusive: schema["exclusiveMaximum"] == .bool(true)) }
        if let bound = schema["exclusiveMinimum"]?.number, bound >= (lower?.value ?? -.infinity) { lower = (bound, true) }
        if let bound = schema["exclusiveMaximum"]?.number, bound <= (upper?.value ?? .infinity) { upper = (bound, true) }
        // Integers step by 1, or by an integral `multipleOf`; numbers take any value.
        var step: Double?
        if integral {
            let multiple = schema["multipleOf"]?.number ?? 1
            step = multiple > 0 && multiple == multiple.rounded() ? multiple : 1
        }

        func accepts(_ candidate: Double) -> Bool {
            guard candidate.isFinite else { return false }
            if let lower, lower.exclusive ? candidate <= lower.value : candidate < lower.value { return false }
            if let upper, upper.exclusive ? candidate >= upper.value : candidate > upper.value { return false }
            if let step, (candidate / step).rounded() != candidate / step { return false }
            return true
        }
        func aligned(_ candidate: Double, up: Bool) -> Double {
            guard let step else { return candidate }
            return (candidate / step).rounded(up ? .up : .down) * step
        }
        var candidates: [Double] = [0]
        if let lower {
            let inside = lower.exclusive ? (integral ? lower.value.rounded(.down) + 1 : lower.value + 1) : lower.value
            candidates.append(aligned(integral ? inside.rounded(.up) : inside, up: true))
        }
        if let upper {
            let inside = upper.exclusive ? (integral ? upper.value.rounded(.up) - 1 : upper.value - 1) : upper.value
            candidates.append(aligned(integral ? inside.rounded(.down) : inside, up: false))
        }
        if let lower, let upper {
            let middle = lower.value / 2 + upper.value / 2
            candidates.append(aligned(integral ? middle.rounded(.up) : middle, up: true))
        }
        return candidates.first(where: accepts) ?? 0
    }

    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var node = root
        for token in reference.dropFirst().split(separator: "/") {
            // JSON Pointer escapes: ~1 is `/`, ~0 is `~`.
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard case .object(let object) = node, let next = object[key] else { return nil }
            node = next
        }
        return node
    }

    private func merged(_ schema: [String: JSONValue], _ parts: [JSONValue]) -> [String: JSONValue] {
        var result = schema
        result["allOf"] = nil
        var properties: [String: JSONValue] = if case .object(let own)? = schema["properties"] { own } else { [:] }
        var required = schema["required"]?.strings ?? []
        for part in parts {
            var part = part
            if case .object(let object) = part, let reference = object["$ref"]?.string, let target = resolve(reference) {
                part = target
            }
            guard case .object(let object) = part else { continue }
            if case .object(let more)? = object["properties"] { properties.merge(more) { first, _ in first } }
            required += object["required"]?.strings ?? []
            result.merge(object) { first, _ in first }
        }
        result["properties"] = .object(properties)
        result["required"] = .array(required.map(JSONValue.string))
        return result
    }

    private static func type(of schema: [String: JSONValue]) -> String? {
        switch schema["type"] {
        case .string(let type)?: type
        case .array(let types)?: types.compactMap(\.string).first { $0 != "null" } ?? types.first?.string
        default: schema["properties"] != nil ? "object" : schema["items"] != nil ? "array" : nil
        }
    }

    private static func isNullType(_ schema: JSONValue) -> Bool {
        guard case .object(let object) = schema else { return false }
        return object["type"] == .string("null")
    }

    private static func integer(_ value: JSONValue?) -> Int? {
        guard let number = value?.number, number.isFinite, number.magnitude < 1e9 else { return nil }
        return Int(number)
    }
}
