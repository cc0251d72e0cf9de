/// A TOML reader for Thresh's pipeline and mix files: tables, arrays of tables, dotted table names, strings
/// (basic and literal), integers (with `_`), floats, booleans, arrays (across lines) and inline tables. Values
/// become `JSONValue`s; every key remembers its line, so a mistake can be reported by file, line and key.
public struct TOMLDocument: Sendable {
    /// The document as nested objects (arrays of tables are arrays of objects).
    public var root: JSONObject
    /// The line of each key, by its dotted path (array-of-table elements as `name[index]`).
    public var lines: [String: Int]
    public var file: String

    /// An error naming the file, the line of `path` (when known) and the key.
    public func error(_ message: String, at path: String) -> ThreshError {
        ThreshError(.config, "\(path): \(message)", file: file, line: lines[path])
    }

    /// Parses TOML text.
    /// - Throws: `ThreshError` with file and line for syntax errors.
    public static func parse(_ text: String, file: String) throws -> TOMLDocument {
        var parser = Parser(scalars: Array(text.unicodeScalars), file: file)
        try parser.parseDocument()
        return TOMLDocument(root: parser.root, lines: parser.lines, file: file)
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        let file: String
        var i = 0
        var line = 1
        var root = JSONObject()
        var lines: [String: Int] = [:]
        var currentPath: [PathElement] = []

        enum PathElement { case key(String), index(Int) }

        init(scalars: [Unicode.Scalar], file: String) {
            self.scalars = scalars
            self.file = file
        }

        func fail(_ message: String) -> ThreshError {
            ThreshError(.config, "TOML: \(message)", file: file, line: line)
        }

        var atEnd: Bool { i >= scalars.count }
        var current: Unicode.Scalar { scalars[i] }

        mutating func skipSpaces() { while !atEnd && (current == " " || current == "\t") { i += 1 } }

        mutating func skipComment() {
            if !atEnd && current == "#" { while !atEnd && current != "\n" { i += 1 } }
        }

        /// Skips blank lines, comments and whitespace, counting lines.
        mutating func skipTrivia() {
            while !atEnd {
                skipSpaces()
                skipComment()
                if !atEnd && (current == "\n" || current == "\r") {
                    if current == "\n" { line += 1 }
                    i += 1
                } else {
                    break
                }
            }
        }

        mutating func expectLineEnd() throws {
            skipSpaces()
            skipComment()
            if atEnd { return }
            if current == "\r" { i += 1 }
            guard !atEnd, current == "\n" else { throw fail("expected the end of the line") }
        }

        static func pathString(_ path: [PathElement]) -> String {
            var s = ""
            for e in path {
                switch e {
                case .key(let k): s += (s.isEmpty ? "" : ".") + k
                case .index(let n): s += "[\(n)]"
                }
            }
            return s
        }

        mutating func parseDocument() throws {
            while true {
                skipTrivia()
                if atEnd { return }
                if current == "[" {
                    let isArray = i + 1 < scalars.count && scalars[i + 1] == "["
                    i += isArray ? 2 : 1
                    skipSpaces()
                    let keys = try parseDottedKey()
                    skipSpaces()
                    guard !atEnd, current == "]" else { throw fail("expected ']'") }
                    i += 1
                    if isArray {
                        guard !atEnd, current == "]" else { throw fail("expected ']]'") }
                        i += 1
                    }
                    try expectLineEnd()
                    currentPath = try openTable(keys, arrayElement: isArray)
                    lines[Self.pathString(currentPath)] = line
                } else {
                    try parseKeyValue(into: currentPath)
                    try expectLineEnd()
                }
            }
        }

        mutating func parseDottedKey() throws -> [String] {
            var keys = [try parseKey()]
            skipSpaces()
            while !atEnd && current == "." {
                i += 1
                skipSpaces()
                keys.append(try parseKey())
                skipSpaces()
            }
            return keys
        }

        mutating func parseKey() throws -> String {
            guard !atEnd else { throw fail("expected a key") }
            if current == "\"" || current == "'" {
                guard case .string(let s) = try parseValue() else { throw fail("bad quoted key") }
                return s
            }
            var key = String.UnicodeScalarView()
            while !atEnd, current.properties.isAlphabetic || ("0"..."9").contains(current) || current == "_" || current == "-" {
                key.append(current)
                i += 1
            }
            guard !key.isEmpty else { throw fail("expected a key") }
            return String(key)
        }

        mutating func parseKeyValue(into path: [PathElement]) throws {
            let keys = try parseDottedKey()
            skipSpaces()
            guard !atEnd, current == "=" else { throw fail("expected '=' after key '\(keys.joined(separator: "."))'") }
            i += 1
            skipSpaces()
            let keyLine = line
            let value = try parseValue()
            let full = path + keys.map { PathElement.key($0) }
            try set(value, at: full)
            lines[Self.pathString(full)] = keyLine
        }

        mutating func parseValue() throws -> JSONValue {
            guard !atEnd else { throw fail("expected a value") }
            let c = current
            if c == "\"" {
                i += 1
                var s = String.UnicodeScalarView()
                while true {
                    guard !atEnd, current != "\n" else { throw fail("unterminated string") }
                    let d = current
                    i += 1
                    if d == "\"" { break }
                    if d == "\\" {
                        guard !atEnd else { throw fail("bad escape") }
                        let e = current
                        i += 1
                        switch e {
                        case "n": s.append("\n")
                        case "t": s.append("\t")
                        case "r": s.append("\r")
                        case "\\": s.append("\\")
                        case "\"": s.append("\"")
                        case "u", "U":
                            let n = e == "u" ? 4 : 8
                            guard i + n <= scalars.count, let v = UInt32(String(String.UnicodeScalarView(scalars[i..<(i + n)])), radix: 16),
                                  let u = Unicode.Scalar(v) else { throw fail("bad \\u escape") }
                            s.append(u)
                            i += n
                        default: throw fail("bad escape \\\(e)")
                        }
                        continue
                    }
                    s.append(d)
                }
                return .string(String(s))
            }
            if c == "'" {
                i += 1
                var s = String.UnicodeScalarView()
                while true {
                    guard !atEnd, current != "\n" else { throw fail("unterminated string") }
                    let d = current
                    i += 1
                    if d == "'" { break }
                    s.append(d)
                }
                return .string(String(s))
            }
            if c == "[" {
                i += 1
                var items: [JSONValue] = []
                while true {
                    skipTrivia()
                    guard !atEnd else { throw fail("unterminated array") }
                    if current == "]" { i += 1; break }
                    items.append(try parseValue())
                    skipTrivia()
                    guard !atEnd else { throw fail("unterminated array") }
                    if current == "," { i += 1; continue }
                    if current == "]" { i += 1; break }
                    throw fail("expected ',' or ']' in array")
                }
                return .array(items)
            }
            if c == "{" {
                i += 1
                var object = JSONObject()
                skipSpaces()
                if !atEnd && current == "}" { i += 1; return .object(object) }
                while true {
                    skipSpaces()
                    let key = try parseKey()
                    skipSpaces()
                    guard !atEnd, current == "=" else { throw fail("expected '=' in inline table") }
                    i += 1
                    skipSpaces()
                    object[key] = try parseValue()
                    skipSpaces()
                    guard !atEnd else { throw fail("unterminated inline table") }
                    if current == "," { i += 1; continue }
                    if current == "}" { i += 1; break }
                    throw fail("expected ',' or '}' in inline table")
                }
                return .object(object)
            }
            var word = ""
            while !atEnd, !(current == " " || current == "\t" || current == "\n" || current == "\r" || current == "," || current == "]" || current == "}" || current == "#") {
                word.unicodeScalars.append(current)
                i += 1
            }
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default:
                let number = word.filter { $0 != "_" }
                if Int(number) != nil { return .number(number) }
                if let d = Double(number), d.isFinite { return .number(number.hasPrefix("+") ? String(number.dropFirst()) : number) }
                throw fail("'\(word)' is not a value (strings need quotes)")
            }
        }

        /// Creates (or enters) the table at `keys`; an array-of-tables header appends a new element.
        mutating func openTable(_ keys: [String], arrayElement: Bool) throws -> [PathElement] {
            var path: [PathElement] = []
            for (n, key) in keys.enumerated() {
                let last = n == keys.count - 1
                path.append(.key(key))
                let existing = get(path)
                if last && arrayElement {
                    var items = existing?.arrayValue ?? []
                    if existing != nil && existing?.arrayValue == nil { throw fail("'\(key)' is not an array of tables") }
                    items.append(.object([:]))
                    try set(.array(items), at: path)
                    path.append(.index(items.count - 1))
                } else if existing == nil {
                    try set(.object([:]), at: path)
                } else if case .array(let items)? = existing, !items.isEmpty {
                    path.append(.index(items.count - 1))
                } else if existing?.objectValue == nil {
                    throw fail("'\(key)' is already a value")
                }
            }
            return path
        }

        func get(_ path: [PathElement]) -> JSONValue? {
            var value: JSONValue = .object(root)
            for e in path {
                switch (e, value) {
                case (.key(let k), .object(let o)): guard let v = o[k] else { return nil }; value = v
                case (.index(let n), .array(let a)): guard n < a.count else { return nil }; value = a[n]
                default: return nil
                }
            }
            return value
        }

        mutating func set(_ newValue: JSONValue, at path: [PathElement]) throws {
            func update(_ value: JSONValue, _ rest: ArraySlice<PathElement>) throws -> JSONValue {
                guard let first = rest.first else { return newValue }
                switch (first, value) {
                case (.key(let k), .object(var o)):
                    let child = o[k] ?? .object([:])
                    if rest.count == 1, o[k] != nil, case .object = newValue {} else if rest.count == 1, o[k] != nil, case .array = newValue {} else if rest.count == 1, o[k] != nil {
                        throw fail("key '\(k)' is defined twice")
                    }
                    o[k] = try update(child, rest.dropFirst())
                    return .object(o)
                case (.index(let n), .array(var a)):
                    a[n] = try update(a[n], rest.dropFirst())
                    return .array(a)
                default:
                    throw fail("key conflicts with an earlier value")
                }
            }
            guard case .object(let o) = try update(.object(root), path[...]) else { return }
            root = o
        }
    }
}
