public import CairnCore
public import Foundation

/// What to extract: a JSON Schema (2020-12) of an object, whose top-level properties are the
/// fields, each with a type and a description a person (or a model) can act on.
public struct ExtractionSchema: Sendable, Equatable {
    public struct Property: Sendable, Equatable {
        public let name: String
        /// The JSON type: `string`, `number`, `integer`, `boolean`, `array`, `object`.
        public let type: String
        public let description: String

        /// The name's and description's words, lower-cased.
        var words: Set<String> {
            Set(
                (name.replacingOccurrences(of: "_", with: " ") + " " + description).lowercased().split { !$0.isLetter && !$0.isNumber }.map(
                    String.init
                )
            )
        }

        var nameWords: [String] { name.lowercased().split { $0 == "_" || $0 == "-" || $0 == " " }.map(String.init) }

        /// The description asks for the text as printed rather than a normalised value.
        var asPrinted: Bool { description.lowercased().contains("as printed") }

        var isDate: Bool { type == "string" && (nameWords.contains("date") || nameWords.contains("dob")) }

        var isAmount: Bool {
            let amountWords: Set<String> = ["amount", "total", "price", "balance", "subtotal", "sum"]
            return (type == "number" || type == "string") && !amountWords.isDisjoint(with: nameWords)
        }

        var isIssuer: Bool {
            let issuerWords: Set<String> = ["company", "issuer", "vendor", "merchant", "supplier", "seller"]
            return type == "string" && !issuerWords.isDisjoint(with: nameWords)
        }

        /// Identifiers are printed with digits; a label followed by words is not their value.
        var wantsDigits: Bool { nameWords.contains("number") || nameWords.contains("id") || nameWords.contains("no") }

        /// Labels an amount is printed after: "total" for totals, the name's words otherwise.
        var amountLabels: Set<String> {
            var labels = Set(nameWords)
            if words.contains("total") || labels.contains("amount") { labels.formUnion(["total", "amount due", "balance due"]) }
            if words.contains("untaxed") || words.contains("before") { labels = ["subtotal", "sub-total", "net", "untaxed", "excl"] }
            return labels
        }

        /// How a label naming the field may be printed: "invoice number", "invoice no", "invoice #".
        var labelForms: [String] {
            let words = nameWords
            guard let last = words.last else { return [] }
            let head = words.dropLast().joined(separator: " ")
            let synonyms: [String: [String]] = [
                "number": ["number", "no.", "no", "nr", "#", "num"], "id": ["id", "no.", "number", "#"],
                "website": ["website", "web", "www"],
            ]
            let forms = (synonyms[last] ?? [last]).map { head.isEmpty ? $0 : head + " " + $0 }
            return forms.sorted { $0.count > $1.count }
        }
    }

    public let properties: [Property]

    public init(properties: [Property]) {
        self.properties = properties
    }

    /// The properties of `schema` (a JSON Schema object), ordered as `order` lists them and the
    /// rest by name.
    ///
    /// Throws `CairnError` (`invalidInput`) when `schema` is not a JSON Schema of an object with
    /// properties.
    public init(schema: JSONValue, order: [String]) throws(CairnError) {
        guard case .object(let object) = schema, case .object(let properties)? = object["properties"] else {
            throw CairnError(.invalidInput, "The schema is not a JSON Schema of an object with properties.")
        }
        let rank = Dictionary(order.enumerated().map { ($1, $0) }) { first, _ in first }
        let names = properties.keys.sorted { (rank[$0] ?? Int.max, $0) < (rank[$1] ?? Int.max, $1) }
        self.properties = names.map { name in Self.property(name, properties[name]) }
    }

    static func property(_ name: String, _ value: JSONValue?) -> Property {
        guard case .object(let property)? = value else { return Property(name: name, type: "string", description: "") }
        return Property(name: name, type: property["type"]?.string ?? "string", description: property["description"]?.string ?? "")
    }

    /// Reads the schema's top-level properties, in the order the file lists them.
    ///
    /// Throws `CairnError` (`invalidInput`) when the document is not a JSON Schema of an object
    /// with properties.
    public init(json data: Data) throws(CairnError) {
        guard let text = String(data: data, encoding: .utf8) else {
            throw CairnError(.invalidInput, "The schema is not UTF-8 text.")
        }
        guard case .object(let schema)? = try? JSONDecoder().decode(JSONValue.self, from: data),
            case .object(let properties)? = schema["properties"]
        else {
            throw CairnError(.invalidInput, "The schema is not a JSON Schema of an object with properties.")
        }
        // Keep the file's order: a reviewer reads fields as the schema's author listed them.
        let order = Self.keyOrder(of: text, among: Set(properties.keys))
        self.properties = order.map { Self.property($0, properties[$0]) }
    }

    /// `names` in the order their first `"name":` appears in `text`.
    static func keyOrder(of text: String, among names: Set<String>) -> [String] {
        names.sorted { left, right in
            let l = text.range(of: "\"\(left)\"")?.lowerBound ?? text.endIndex
            let r = text.range(of: "\"\(right)\"")?.lowerBound ?? text.endIndex
            return l == r ? left < right : l < r
        }
    }
}
