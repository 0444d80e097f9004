import CairnCore
import CairnJSONSchema
import Foundation
import Testing

/// What a user (or a model asked to repair its reply) reads: the messages and locations of
/// violations, the errors of invalid schemas, and the limits that keep hostile input cheap.
@Suite("JSON Schema")
struct JSONSchemaTests {
    /// Parses JSON text written in a test.
    private func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    private func schema(_ text: String, resources: [String: JSONValue] = [:]) throws -> JSONSchema {
        try JSONSchema(json(text), resources: resources)
    }

    private func compileError(_ text: String) throws -> JSONSchemaError? {
        do {
            _ = try schema(text)
            return nil
        } catch let error as JSONSchemaError {
            return error
        }
    }

    // MARK: Messages and locations

    @Test("A missing required property is named, with the object's location")
    func requiredProperty() throws {
        let order = try schema(
            #"{"type": "object", "required": ["id", "lines"], "properties": {"lines": {"type": "array", "items": {"required": ["sku"]}}}}"#
        )
        #expect(
            order.validate(try json(#"{"lines": [{"sku": "A"}, {"qty": 2}]}"#)) == [
                JSONSchemaViolation(instanceLocation: "", keywordLocation: "/required", message: "The required property 'id' is missing."),
                JSONSchemaViolation(
                    instanceLocation: "/lines/1",
                    keywordLocation: "/properties/lines/items/required",
                    message: "The required property 'sku' is missing from the object at /lines/1."
                ),
            ]
        )
        #expect(order.validate(try json(#"{"id": 1, "lines": [{"sku": "A"}]}"#)).isEmpty)
    }

    @Test("A wrong type inside an array of objects is located down to the property")
    func nestedType() throws {
        let cart = try schema(
            #"{"properties": {"items": {"type": "array", "items": {"properties": {"price": {"type": "number"}}}}}}"#
        )
        let violations = cart.validate(try json(#"{"items": [{"price": 1}, {"price": 2.5}, {"price": "9.99"}]}"#))
        #expect(
            violations == [
                JSONSchemaViolation(
                    instanceLocation: "/items/2/price",
                    keywordLocation: "/properties/items/items/properties/price/type",
                    message: "The value at /items/2/price must be a number, not a string."
                )
            ]
        )
        #expect(
            try schema(#"{"type": ["string", "null"]}"#).validate(.number(3)).map(\.message) == [
                "The value must be a string or null, not an integer."
            ]
        )
    }

    @Test("additionalProperties: false names each extra property")
    func additionalProperties() throws {
        let user = try schema(
            #"{"properties": {"user": {"properties": {"name": {"type": "string"}}, "additionalProperties": false}}}"#
        )
        #expect(
            user.validate(try json(#"{"user": {"name": "Ada", "colour": "red", "age": 36}}"#)) == [
                JSONSchemaViolation(
                    instanceLocation: "/user/age",
                    keywordLocation: "/properties/user/additionalProperties",
                    message: "The object at /user must not have the property 'age'."
                ),
                JSONSchemaViolation(
                    instanceLocation: "/user/colour",
                    keywordLocation: "/properties/user/additionalProperties",
                    message: "The object at /user must not have the property 'colour'."
                ),
            ]
        )
    }

    @Test("enum and const quote the allowed values")
    func enumeration() throws {
        let ticket = try schema(#"{"properties": {"status": {"enum": ["open", "closed", null]}, "kind": {"const": "bug"}}}"#)
        #expect(
            ticket.validate(try json(#"{"status": "Open", "kind": "feature"}"#)).map(\.message) == [
                "The value at /kind must be \"bug\".",
                "The value at /status must be one of \"open\", \"closed\", null.",
            ]
        )
        #expect(ticket.isValid(try json(#"{"status": null, "kind": "bug"}"#)))
    }

    @Test("pattern follows ECMA-262: \\d is ASCII only and $ does not accept a trailing line break")
    func pattern() throws {
        let product = try schema(#"{"properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"}}}"#)
        #expect(product.isValid(try json(#"{"sku": "ABC-12"}"#)))
        #expect(
            product.validate(try json(#"{"sku": "abc-12"}"#)) == [
                JSONSchemaViolation(
                    instanceLocation: "/sku",
                    keywordLocation: "/properties/sku/pattern",
                    message: "The string at /sku must match the pattern '^[A-Z]{3}-\\d+$'."
                )
            ]
        )
        #expect(!product.isValid(.object(["sku": .string("ABC-12\n")])))
        #expect(!product.isValid(.object(["sku": .string("ABC-١٢")])))
        // Unanchored patterns search anywhere in the string.
        #expect(try schema(#"{"pattern": "b+"}"#).isValid(.string("abbc")))
    }

    @Test("Lengths count Unicode code points, not UTF-16 units or bytes")
    func lengths() throws {
        let emoji = try schema(#"{"minLength": 2, "maxLength": 2}"#)
        #expect(emoji.isValid(.string("😀👍")))
        #expect(emoji.validate(.string("😀")).map(\.message) == ["The string must be at least 2 characters long."])
    }

    @Test("Numbers: 1.0 is an integer, and multipleOf works on decimal fractions")
    func numbers() throws {
        #expect(try schema(#"{"type": "integer"}"#).isValid(.number(1.0)))
        #expect(!(try schema(#"{"type": "integer"}"#).isValid(.number(1.5))))
        let cents = try schema(#"{"multipleOf": 0.01, "exclusiveMinimum": 0}"#)
        #expect(cents.isValid(.number(19.99)))
        #expect(cents.validate(.number(0.005)).map(\.message) == ["The number must be a multiple of 0.01."])
        #expect(cents.validate(.number(0)).map(\.message) == ["The number must be greater than 0."])
    }

    @Test("uniqueItems compares as JSON: 1 equals 1.0 and key order does not matter")
    func uniqueItems() throws {
        let unique = try schema(#"{"uniqueItems": true}"#)
        #expect(
            unique.validate(try json(#"[{"a": 1, "b": [2]}, 3, {"b": [2.0], "a": 1.0}]"#)).map(\.message) == [
                "The array must not contain duplicates, but the items at 0 and 2 are equal."
            ]
        )
        #expect(unique.isValid(try json(#"[1, "1", true, [1], {"a": 1}]"#)))
    }

    @Test("anyOf and oneOf say how many branches matched, then what each branch lacks")
    func alternatives() throws {
        let contact = try schema(#"{"anyOf": [{"required": ["email"]}, {"required": ["phone"]}]}"#)
        #expect(contact.isValid(try json(#"{"phone": "123"}"#)))
        #expect(contact.validate(try json(#"{}"#)).map(\.keywordLocation) == ["/anyOf", "/anyOf/0/required", "/anyOf/1/required"])
        #expect(
            contact.validate(try json(#"{}"#)).first?.message == "The value must match at least one of the 2 schemas in 'anyOf', but matches none."
        )

        let shape = try schema(#"{"oneOf": [{"type": "integer"}, {"minimum": 2}]}"#)
        #expect(shape.isValid(.number(1)))
        #expect(shape.validate(.number(3)).map(\.message) == ["The value must match exactly one of the 2 schemas in 'oneOf', but matches 0 and 1."])
    }

    @Test("unevaluatedProperties sees through allOf and $ref, and names what is left over")
    func unevaluatedProperties() throws {
        let closed = try schema(
            #"""
            {"$defs": {"named": {"properties": {"name": {"type": "string"}}}},
             "allOf": [{"$ref": "#/$defs/named"}], "properties": {"id": {"type": "integer"}}, "unevaluatedProperties": false}
            """#
        )
        #expect(closed.isValid(try json(#"{"id": 1, "name": "x"}"#)))
        #expect(
            closed.validate(try json(#"{"id": 1, "name": "x", "nmae": "y"}"#)) == [
                JSONSchemaViolation(
                    instanceLocation: "/nmae",
                    keywordLocation: "/unevaluatedProperties",
                    message: "The object must not have the property 'nmae'."
                )
            ]
        )
    }

    @Test("Keyword locations follow $ref; propertyNames messages talk about the name")
    func locationsThroughReferences() throws {
        let config = try schema(
            #"""
            {"properties": {"port": {"$ref": "#/$defs/port"}, "labels": {"propertyNames": {"pattern": "^[a-z]+$"}}},
             "$defs": {"port": {"type": "integer", "maximum": 65535}}}
            """#
        )
        #expect(
            config.validate(try json(#"{"port": 70000, "labels": {"Team": "a"}}"#)) == [
                JSONSchemaViolation(
                    instanceLocation: "/labels",
                    keywordLocation: "/properties/labels/propertyNames/pattern",
                    message: "The property name 'Team' in the object at /labels must match the pattern '^[a-z]+$'."
                ),
                JSONSchemaViolation(
                    instanceLocation: "/port",
                    keywordLocation: "/properties/port/$ref/maximum",
                    message: "The number at /port must be at most 65535."
                ),
            ]
        )
    }

    @Test("A $ref pointer may reach where no 2020-12 keyword is, such as draft-07's definitions")
    func pointerOutsideKnownKeywords() throws {
        let legacy = try schema(##"{"definitions": {"id": {"type": "integer"}}, "properties": {"id": {"$ref": "#/definitions/id"}}}"##)
        #expect(legacy.validate(try json(#"{"id": "7"}"#)).map(\.keywordLocation) == ["/properties/id/$ref/type"])
        #expect(legacy.isValid(try json(#"{"id": 7}"#)))
    }

    @Test("A $ref may name a resource passed in; nothing is fetched")
    func resources() throws {
        let address = try json(#"{"$id": "https://example.com/address.json", "required": ["city"]}"#)
        let person = try schema(
            #"{"properties": {"home": {"$ref": "https://example.com/address.json"}}}"#,
            resources: ["https://example.com/address.json": address]
        )
        #expect(person.validate(try json(#"{"home": {}}"#)).map(\.message) == ["The required property 'city' is missing from the object at /home."])
        #expect(try compileError(#"{"$ref": "https://example.com/address.json"}"#)?.code == .unresolvableReference)
    }

    // MARK: Invalid schemas

    @Test("Invalid schemas throw a JSONSchemaError that says what and where")
    func invalidSchemas() throws {
        let misspelledType = try #require(try compileError(#"{"properties": {"age": {"type": "integr"}}}"#))
        #expect(misspelledType.code == .invalidKeyword)
        #expect(misspelledType.message.hasPrefix("The keyword 'type' at #/properties/age must be one of string, number, integer, boolean"))

        let negativeLength = try #require(try compileError(#"{"minLength": -1}"#))
        #expect(negativeLength.message == "The keyword 'minLength' at # must be a non-negative integer.")

        let badPattern = try #require(try compileError(#"{"pattern": "[a-"}"#))
        #expect(badPattern.message == "The pattern '[a-' in 'pattern' at # is not a valid regular expression.")

        let dangling = try #require(try compileError(##"{"items": {"$ref": "#/$defs/missing"}}"##))
        #expect(dangling.code == .unresolvableReference)
        #expect(dangling.message == "The $ref '#/$defs/missing' at #/items cannot be resolved: the pointer points to nothing.")

        #expect(try compileError(#"{"allOf": []}"#)?.code == .invalidKeyword)
        #expect(try compileError(#"{"properties": {"a": 1}}"#)?.code == .invalidKeyword)
    }

    // MARK: Limits

    @Test("Violations are capped, so a hostile value cannot grow the list without bound")
    func violationCap() throws {
        let strings = try schema(#"{"items": {"type": "string"}}"#)
        let numbers = JSONValue.array(Array(repeating: .number(1), count: 10_000))
        let violations = strings.validate(numbers)
        #expect(violations.count == JSONSchema.defaultViolationLimit)
        #expect(violations.last?.instanceLocation == "/\(JSONSchema.defaultViolationLimit - 1)")
        #expect(strings.validate(numbers, limit: 3).count == 3)
        #expect(!strings.isValid(numbers))
    }

    @Test("A $ref loop that never reaches into the value is refused when compiling")
    func referenceCycle() throws {
        #expect(try compileError(##"{"$ref": "#"}"##)?.code == .referenceCycle)
        let mutual = try #require(
            try compileError(##"{"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}"##)
        )
        #expect(mutual.code == .referenceCycle)
        #expect(mutual.message.hasSuffix("refers back to itself without reaching into the value, so validation would never end."))

        // Recursion through a property is fine: each step goes one level into the value.
        let tree = try schema(##"{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}"##)
        #expect(tree.isValid(try json(#"{"children": [{"children": []}, {}]}"#)))
        #expect(tree.validate(try json(#"{"children": [{"children": [3]}]}"#)).map(\.instanceLocation) == ["/children/0/children/0"])
    }

    @Test("A $dynamicRef loop and a too-deep value stop validation with a violation instead of hanging or crashing")
    func depthLimit() throws {
        let looping = try schema(##"{"$dynamicAnchor": "self", "$dynamicRef": "#self"}"##)
        #expect(!looping.isValid(.null))
        #expect(looping.validate(.null).last?.message.hasPrefix("Validation stopped: the value or the schema nests more than") == true)

        let nested = try schema(##"{"items": {"$ref": "#"}}"##)
        var deep = JSONValue.array([])
        for _ in 0..<1_000 { deep = .array([deep]) }
        #expect(!nested.isValid(deep))
        let violations = nested.validate(deep)
        #expect(violations.count == 1)
        #expect(violations.first?.message.contains("nests more than") == true)

        var shallow = JSONValue.array([])
        for _ in 0..<50 { shallow = .array([shallow]) }
        #expect(nested.isValid(shallow))
    }

    @Test("A schema whose work grows exponentially is cut off by the step budget")
    func stepBudget() throws {
        // Each level tries the next one twice: 2^40 paths, all failing.
        var defs: [String: JSONValue] = ["d40": .bool(false)]
        for level in 0..<40 {
            let next = JSONValue.object(["$ref": .string("#/$defs/d\(level + 1)")])
            defs["d\(level)"] = .object(["anyOf": .array([next, next])])
        }
        let explosive = try JSONSchema(.object(["$defs": .object(defs), "$ref": .string("#/$defs/d0")]))
        #expect(!explosive.isValid(.null))
        #expect(explosive.validate(.null).last?.message == "Validation stopped: the schema takes too many steps to check this value.")
    }
}
