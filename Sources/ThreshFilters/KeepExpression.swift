public import ThreshCore

/// A boolean expression over a document's fields, for `thresh filter --keep` and the `keep` stage.
///
/// The language:
/// - fields by dotted path: `text`, `id`, `url`, `source`, `attrs.lang`, `meta.http_status`, `attrs.a.b`; a field
///   that is absent is `null`;
/// - literals: numbers (`0.65`, `200`, `1e3`), strings in double quotes (`"en"`, with `\"` and `\\`), `true`,
///   `false`, `null`, and lists `["en", "de"]`;
/// - `len(x)`: a string's length in characters (code points), a list's or an object's count;
/// - operators, loosest first: `||`; `&&`; `!`; `==` `!=` `<` `<=` `>` `>=` `in`; `+` `-`; `*` `/`; unary `-`;
///   parentheses group.
///
/// Comparisons: numbers with numbers, strings with strings (by code points); `==` and `!=` compare any two values
/// (different kinds are unequal); an ordered comparison of different kinds, or with `null`, is false. `x in [..]`
/// is membership, `"sub" in text` is substring. Arithmetic on anything but numbers gives `null`. `&&`, `||` and `!`
/// take true, and nothing else, as true.
public struct KeepExpression: Sendable, CustomStringConvertible {
    indirect enum Node: Sendable {
        case literal(JSONValue)
        case field([String])
        case list([Node])
        case length(Node)
        case not(Node)
        case negate(Node)
        case binary(String, Node, Node)
    }

    let root: Node
    public let source: String

    public var description: String { source }

    /// Parses an expression.
    /// - Throws: `.usage` naming the column (1-based, in characters) where the expression goes wrong.
    public init(_ source: String) throws {
        self.source = source
        var parser = Parser(Array(source.unicodeScalars))
        root = try parser.parseExpression()
        parser.skipBlanks()
        if parser.position < parser.characters.count {
            throw parser.error("unexpected '\(parser.characters[parser.position])'")
        }
    }

    /// Whether the document is kept.
    public func keeps(_ document: Document) -> Bool {
        if case .bool(true) = evaluate(root, document.fields) { return true }
        return false
    }

    // MARK: Evaluation

    private func evaluate(_ node: Node, _ fields: JSONObject) -> JSONValue {
        switch node {
        case .literal(let v):
            return v
        case .field(let path):
            var value: JSONValue? = .object(fields)
            for key in path { value = value?.objectValue?[key] }
            return value ?? .null
        case .list(let items):
            return .array(items.map { evaluate($0, fields) })
        case .length(let inner):
            switch evaluate(inner, fields) {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.count)
            default: return .null
            }
        case .not(let inner):
            if case .bool(true) = evaluate(inner, fields) { return .bool(false) }
            return .bool(true)
        case .negate(let inner):
            guard let x = evaluate(inner, fields).doubleValue else { return .null }
            return .double(-x)
        case .binary(let op, let l, let r):
            switch op {
            case "&&":
                guard case .bool(true) = evaluate(l, fields) else { return .bool(false) }
                if case .bool(true) = evaluate(r, fields) { return .bool(true) }
                return .bool(false)
            case "||":
                if case .bool(true) = evaluate(l, fields) { return .bool(true) }
                if case .bool(true) = evaluate(r, fields) { return .bool(true) }
                return .bool(false)
            default:
                return Self.apply(op, evaluate(l, fields), evaluate(r, fields))
            }
        }
    }

    private static func apply(_ op: String, _ a: JSONValue, _ b: JSONValue) -> JSONValue {
        switch op {
        case "==": return .bool(equal(a, b))
        case "!=": return .bool(!equal(a, b))
        case "<", "<=", ">", ">=":
            let order: Int
            if let x = a.doubleValue, let y = b.doubleValue {
                if x.isNaN || y.isNaN { return .bool(false) }
                order = x < y ? -1 : (x > y ? 1 : 0)
            } else if case .string(let x) = a, case .string(let y) = b {
                let xs = Array(x.unicodeScalars.map(\.value)), ys = Array(y.unicodeScalars.map(\.value))
                order = xs.lexicographicallyPrecedes(ys) ? -1 : (xs == ys ? 0 : 1)
            } else {
                return .bool(false)
            }
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "in":
            if case .array(let items) = b { return .bool(items.contains { equal(a, $0) }) }
            if case .string(let needle) = a, case .string(let hay) = b {
                let h = Array(hay.unicodeScalars.map(\.value)), n = Array(needle.unicodeScalars.map(\.value))
                return .bool(PythonText.contains(h, 0..<h.count, n))
            }
            if case .string(let key) = a, case .object(let o) = b { return .bool(o[key] != nil) }
            return .bool(false)
        default:
            guard let x = a.doubleValue, let y = b.doubleValue else { return .null }
            switch op {
            case "+": return .double(x + y)
            case "-": return .double(x - y)
            case "*": return .double(x * y)
            default: return y == 0 ? .null : .double(x / y)
            }
        }
    }

    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        switch (a, b) {
        case (.number, _), (_, .number): return false
        default: return a == b
        }
    }

    // MARK: Parsing

    private struct Parser {
        let characters: [Unicode.Scalar]
        var position = 0

        init(_ characters: [Unicode.Scalar]) { self.characters = characters }

        func error(_ message: String) -> ThreshError {
            ThreshError(.usage, "keep expression: \(message) at column \(position + 1): \(String(String.UnicodeScalarView(characters)))")
        }

        mutating func skipBlanks() {
            while position < characters.count && characters[position].properties.isWhitespace { position += 1 }
        }

        mutating func take(_ token: String) -> Bool {
            skipBlanks()
            let t = Array(token.unicodeScalars)
            guard position + t.count <= characters.count, Array(characters[position..<position + t.count]) == t else { return false }
            // A word operator must not run into a name ("index" is not "in" + "dex").
            if t.last!.properties.isAlphabetic, position + t.count < characters.count, Self.isNameCharacter(characters[position + t.count]) { return false }
            position += t.count
            return true
        }

        static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
            c.properties.isAlphabetic || (c >= "0" && c <= "9") || c == "_"
        }

        mutating func parseExpression() throws -> Node { try parseOr() }

        mutating func parseOr() throws -> Node {
            var left = try parseAnd()
            while take("||") { left = .binary("||", left, try parseAnd()) }
            return left
        }

        mutating func parseAnd() throws -> Node {
            var left = try parseNot()
            while take("&&") { left = .binary("&&", left, try parseNot()) }
            return left
        }

        mutating func parseNot() throws -> Node {
            skipBlanks()
            if position + 1 < characters.count && characters[position] == "!" && characters[position + 1] == "=" {
                throw error("expected an operand, found '!='")
            }
            if take("!") { return .not(try parseNot()) }
            return try parseComparison()
        }

        mutating func parseComparison() throws -> Node {
            let left = try parseSum()
            for op in ["==", "!=", "<=", ">=", "<", ">", "in"] where take(op) {
                return .binary(op, left, try parseSum())
            }
            return left
        }

        mutating func parseSum() throws -> Node {
            var left = try parseProduct()
            while true {
                if take("+") { left = .binary("+", left, try parseProduct()) }
                else if take("-") { left = .binary("-", left, try parseProduct()) }
                else { return left }
            }
        }

        mutating func parseProduct() throws -> Node {
            var left = try parseUnary()
            while true {
                if take("*") { left = .binary("*", left, try parseUnary()) }
                else if take("/") { left = .binary("/", left, try parseUnary()) }
                else { return left }
            }
        }

        mutating func parseUnary() throws -> Node {
            if take("-") { return .negate(try parseUnary()) }
            return try parsePrimary()
        }

        mutating func parsePrimary() throws -> Node {
            skipBlanks()
            guard position < characters.count else { throw error("the expression ends where an operand is expected") }
            let c = characters[position]
            if c == "(" {
                position += 1
                let inner = try parseExpression()
                guard take(")") else { throw error("expected ')'") }
                return inner
            }
            if c == "[" {
                position += 1
                var items: [Node] = []
                if take("]") { return .list(items) }
                repeat { items.append(try parseExpression()) } while take(",")
                guard take("]") else { throw error("expected ']' or ','") }
                return .list(items)
            }
            if c == "\"" { return .literal(.string(try parseString())) }
            if (c >= "0" && c <= "9") || c == "." { return .literal(try parseNumber()) }
            if c.properties.isAlphabetic || c == "_" {
                let start = position
                var path: [String] = []
                var name = String.UnicodeScalarView()
                while position < characters.count {
                    let d = characters[position]
                    if Self.isNameCharacter(d) { name.append(d); position += 1; continue }
                    if d == "." && !name.isEmpty { path.append(String(name)); name = String.UnicodeScalarView(); position += 1; continue }
                    break
                }
                guard !name.isEmpty else { throw error("a field name ends with '.'") }
                path.append(String(name))
                if path.count == 1 {
                    switch path[0] {
                    case "true": return .literal(.bool(true))
                    case "false": return .literal(.bool(false))
                    case "null": return .literal(.null)
                    case "len":
                        guard take("(") else { position = start; throw error("len takes one argument in parentheses: len(text)") }
                        let inner = try parseExpression()
                        guard take(")") else { throw error("expected ')' after len's argument") }
                        return .length(inner)
                    default: break
                    }
                }
                skipBlanks()
                if position < characters.count && characters[position] == "(" {
                    position = start
                    throw error("unknown function '\(path.joined(separator: "."))' (the only function is len)")
                }
                return .field(path)
            }
            throw error("unexpected '\(c)'")
        }

        mutating func parseString() throws -> String {
            position += 1
            var out = String.UnicodeScalarView()
            while position < characters.count {
                let c = characters[position]
                position += 1
                if c == "\"" { return String(out) }
                if c == "\\" {
                    guard position < characters.count else { break }
                    let e = characters[position]
                    position += 1
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\"", "\\": out.append(e)
                    default: position -= 2; throw error("unknown escape '\\\(e)' in a string")
                    }
                } else {
                    out.append(c)
                }
            }
            throw error("a string is not closed")
        }

        mutating func parseNumber() throws -> JSONValue {
            let start = position
            while position < characters.count, characters[position].isASCII,
                  "0123456789.eE".unicodeScalars.contains(characters[position])
                    || ((characters[position] == "+" || characters[position] == "-") && position > start
                        && (characters[position - 1] == "e" || characters[position - 1] == "E")) {
                position += 1
            }
            let spelling = String(String.UnicodeScalarView(characters[start..<position]))
            guard let x = Double(spelling), x.isFinite else { position = start; throw error("'\(spelling)' is not a number") }
            return .double(x)
        }
    }
}

/// `thresh filter --keep EXPR` and the `keep` stage: documents for which the expression is true pass; the others
/// are dropped as `keep-false`.
public struct KeepStage: DocumentStage {
    public let expression: KeepExpression
    public private(set) var statistics = StageStatistics(stage: "keep")

    public static let schema = OptionsSchema("keep", [
        OptionSpec("expr", .text, required: true, help: "the expression a document must satisfy, e.g. 'attrs.lang == \"en\" && attrs.lang_score >= 0.65'"),
    ])

    public init(expression: KeepExpression) { self.expression = expression }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        statistics.documentsIn += 1
        let size = Int64(document.fields["text"]?.stringValue?.utf8.count ?? 0)
        statistics.bytesIn += size
        guard expression.keeps(document) else { statistics.drop("keep-false"); return }
        statistics.documentsOut += 1
        statistics.bytesOut += size
        try emit(document)
    }
}
