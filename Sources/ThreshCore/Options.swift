/// One option of a stage: its key (hyphenated, the same on the command line and in a pipeline file), its type and
/// allowed values, its default and its help. A stage describes its options once, as an `OptionsSchema`; the
/// command-line flags, the pipeline-file table, validation and the stage's fingerprint all come from it.
public struct OptionSpec: Sendable {
    /// What values an option takes. Numbers are checked exactly: an integer option takes only integers in its range
    /// (a float spelling must be integral and in range), a real option only finite numbers in its range.
    public enum Kind: Sendable, Equatable {
        case integer(min: Int64, max: Int64)
        case real(min: Double, max: Double, minExclusive: Bool = false, maxExclusive: Bool = false)
        case flag
        case text
        case choice([String])
        /// A list of strings: a TOML array, or a comma-separated string (also on the command line).
        case list
        /// A list of integers in a range (`1,2` on the command line).
        case integerList(min: Int64, max: Int64)
    }

    public let key: String
    public let kind: Kind
    /// nil when the option has no default (then it is absent unless set, or required).
    public let defaultValue: OptionValue?
    public let help: String
    /// Whether the option shapes the stage's output (and so its fingerprint); options such as `explain` do not.
    public let shapesOutput: Bool
    /// An option that must be given.
    public let required: Bool
    /// A one-letter command-line alias (`-q`).
    public let short: Character?

    public init(_ key: String, _ kind: Kind, default defaultValue: OptionValue? = nil, required: Bool = false,
                shapesOutput: Bool = true, short: Character? = nil, help: String) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.shapesOutput = shapesOutput
        self.required = required
        self.short = short
    }

    /// What the kind allows, in words (for errors and help).
    public var allowed: String {
        switch kind {
        case .integer(let lo, let hi): return "an integer from \(lo) to \(hi)"
        case .real(let lo, let hi, let lx, let hx):
            return "a number \(lx ? ">" : "≥") \(OptionValue.spell(lo)) and \(hx ? "<" : "≤") \(OptionValue.spell(hi))"
        case .flag: return "true or false"
        case .text: return "a string"
        case .choice(let names): return names.map { "'\($0)'" }.joined(separator: ", ")
        case .list: return "a list of strings"
        case .integerList(let lo, let hi): return "a list of integers from \(lo) to \(hi)"
        }
    }
}

/// A typed option value.
public enum OptionValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case real(Double)
    case flag(Bool)
    case text(String)
    case list([String])
    case integers([Int64])

    /// The value as a user would write it on the command line.
    public var description: String {
        switch self {
        case .integer(let v): return String(v)
        case .real(let v): return Self.spell(v)
        case .flag(let v): return v ? "true" : "false"
        case .text(let v): return v
        case .list(let v): return v.joined(separator: ",")
        case .integers(let v): return v.map(String.init).joined(separator: ",")
        }
    }

    /// A canonical spelling of a double (shortest round-trip form), used for help and fingerprints.
    static func spell(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    /// An unambiguous encoding for fingerprints (type tag, then the value).
    var canonical: String {
        switch self {
        case .integer(let v): return "i:\(v)"
        case .real(let v): return "r:\(v.bitPattern)"
        case .flag(let v): return "b:\(v)"
        case .text(let v): return "s:\(v.utf8.count):\(v)"
        case .list(let v): return "l:" + v.map { "\($0.utf8.count):\($0)" }.joined(separator: ",")
        case .integers(let v): return "n:" + v.map(String.init).joined(separator: ",")
        }
    }
}

/// Where a value came from, so an error can name the file, line and key (or the flag).
public enum OptionSource: Sendable {
    /// A table of a TOML file: the document and the table's dotted path (`stage[2]`, `` for the root).
    case file(TOMLDocument, table: String)
    case commandLine
}

/// A stage's options, described once.
public struct OptionsSchema: Sendable {
    /// The stage or command the options belong to (for errors and help).
    public let name: String
    public let options: [OptionSpec]

    public init(_ name: String, _ options: [OptionSpec]) {
        self.name = name
        self.options = options
        var seen = Set<String>()
        for o in options { precondition(seen.insert(o.key).inserted, "option \(o.key) of \(name) is declared twice") }
    }

    /// The spec of `key`, if the schema has one.
    public func spec(_ key: String) -> OptionSpec? { options.first { $0.key == key } }

    /// This schema followed by another's options (a command's common flags, say).
    public func adding(_ other: [OptionSpec]) -> OptionsSchema { OptionsSchema(name, options + other) }

    /// The defaults only.
    public var defaults: OptionValues { OptionValues(schema: self, values: [:]) }

    // MARK: Pipeline files

    /// Reads a TOML table: every key must be an option of the schema (a near miss gets a "did you mean"), of the
    /// right type and in range; `ignoring` lists keys the caller handles itself (`use`, `datasets`).
    /// - Throws: `ThreshError` (`.config`) naming the file, the line and the key.
    public func parse(table: JSONObject, in document: TOMLDocument, at tablePath: String, ignoring: Set<String> = []) throws -> OptionValues {
        var values: [String: OptionValue] = [:]
        func where_(_ key: String) -> String { tablePath.isEmpty ? key : tablePath + "." + key }
        for (key, raw) in table where !ignoring.contains(key) {
            guard let spec = spec(key) else {
                throw document.error("unknown key for \(name)\(suggestion(for: key, among: options.map(\.key) + ignoring.sorted()))",
                                     at: where_(key))
            }
            do {
                values[key] = try Self.convert(raw, spec)
            } catch let problem as OptionProblem {
                throw document.error("\(problem.message) (\(spec.help))", at: where_(key))
            }
        }
        for spec in options where spec.required && values[spec.key] == nil {
            throw document.error("\(name) needs '\(spec.key)' (\(spec.help))", at: tablePath.isEmpty ? spec.key : tablePath)
        }
        return OptionValues(schema: self, values: values)
    }

    /// Checks and converts one TOML/JSON value for `spec`.
    static func convert(_ raw: JSONValue, _ spec: OptionSpec) throws -> OptionValue {
        switch spec.kind {
        case .integer(let lo, let hi):
            guard case .number(let spelling) = raw else { throw OptionProblem("must be \(spec.allowed), not \(raw.kindName)") }
            return .integer(try exactInteger(spelling, lo, hi, spec))
        case .real:
            guard case .number(let spelling) = raw, let x = Double(spelling) else { throw OptionProblem("must be \(spec.allowed), not \(raw.kindName)") }
            return .real(try checkedReal(x, spec))
        case .flag:
            guard case .bool(let b) = raw else { throw OptionProblem("must be true or false, not \(raw.kindName)") }
            return .flag(b)
        case .text:
            guard case .string(let s) = raw else { throw OptionProblem("must be a string, not \(raw.kindName)") }
            return .text(s)
        case .choice(let names):
            guard case .string(let s) = raw else { throw OptionProblem("must be one of \(spec.allowed), not \(raw.kindName)") }
            guard names.contains(s) else { throw OptionProblem("'\(s)' is not one of \(spec.allowed)\(suggestion(for: s, among: names))") }
            return .text(s)
        case .list:
            switch raw {
            case .string(let s): return .list(splitList(s))
            case .array(let items):
                var out: [String] = []
                for item in items {
                    guard case .string(let s) = item else { throw OptionProblem("must be a list of strings, and \(item.kindName) is not a string") }
                    out.append(s)
                }
                return .list(out)
            default: throw OptionProblem("must be a list of strings, not \(raw.kindName)")
            }
        case .integerList(let lo, let hi):
            var spellings: [String] = []
            switch raw {
            case .number(let s): spellings = [s]
            case .string(let s): spellings = splitList(s)
            case .array(let items):
                for item in items {
                    guard case .number(let s) = item else { throw OptionProblem("must be \(spec.allowed), and \(item.kindName) is not a number") }
                    spellings.append(s)
                }
            default: throw OptionProblem("must be \(spec.allowed), not \(raw.kindName)")
            }
            guard !spellings.isEmpty else { throw OptionProblem("must be \(spec.allowed), not an empty list") }
            return .integers(try spellings.map { try exactInteger($0, lo, hi, spec) })
        }
    }

    /// An integer from its spelling, exactly: `12`, `1_000`, or a float spelling that is integral and in range.
    static func exactInteger(_ spelling: String, _ lo: Int64, _ hi: Int64, _ spec: OptionSpec) throws -> Int64 {
        let s = spelling.filter { $0 != "_" }
        if let v = Int64(s) {
            guard v >= lo && v <= hi else { throw OptionProblem("\(spelling) is out of range: it must be \(spec.allowed)") }
            return v
        }
        // Not an Int64 spelling: a float, or an integer too large for 64 bits. Never trap on the conversion.
        guard let x = Double(s), x.isFinite else { throw OptionProblem("'\(spelling)' is not \(spec.allowed)") }
        guard x == x.rounded() else { throw OptionProblem("\(spelling) is not a whole number: it must be \(spec.allowed)") }
        guard x >= Double(lo) && x <= Double(hi), let v = Int64(exactly: x) else {
            throw OptionProblem("\(spelling) is out of range: it must be \(spec.allowed)")
        }
        return v
    }

    static func checkedReal(_ x: Double, _ spec: OptionSpec) throws -> Double {
        guard case .real(let lo, let hi, let lx, let hx) = spec.kind else { return x }
        guard x.isFinite else { throw OptionProblem("must be a finite number (\(spec.allowed))") }
        let ok = (lx ? x > lo : x >= lo) && (hx ? x < hi : x <= hi)
        guard ok else { throw OptionProblem("\(OptionValue.spell(x)) is out of range: it must be \(spec.allowed)") }
        return x
    }

    static func splitList(_ s: String) -> [String] {
        s.split(separator: ",").map { part in
            var t = Substring(part)
            while t.first == " " { t.removeFirst() }
            while t.last == " " { t.removeLast() }
            return String(t)
        }.filter { !$0.isEmpty }
    }

    // MARK: Command lines

    /// Parses command-line arguments: `--key value`, `--key=value`, `--flag`, `--no-flag`, `-q`; everything else is a
    /// positional argument (`-` included); `--` ends the options.
    /// - Returns: the values and the positional arguments in order.
    /// - Throws: `ThreshError` (`.usage`) naming the flag.
    public func parse(arguments: [String]) throws -> (values: OptionValues, positionals: [String]) {
        var values: [String: OptionValue] = [:]
        var positionals: [String] = []
        var i = 0
        var optionsEnded = false
        func fail(_ message: String) -> ThreshError { ThreshError(.usage, message) }
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") { positionals.append(argument); continue }
            if argument == "--" { optionsEnded = true; continue }
            var name: String
            var inline: String?
            if argument.hasPrefix("--") {
                name = String(argument.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
            } else {
                guard argument.count == 2, let letter = argument.last, let spec = options.first(where: { $0.short == letter }) else {
                    throw fail("unknown option '\(argument)' for \(self.name)")
                }
                name = spec.key
            }
            var negated = false
            var found = spec(name)
            if found == nil, name.hasPrefix("no-"), let s = spec(String(name.dropFirst(3))), s.kind == .flag {
                found = s
                negated = true
            }
            guard let spec = found else {
                throw fail("unknown option '--\(name)' for \(self.name)\(suggestion(for: name, among: options.map(\.key), prefix: "--"))")
            }
            if spec.kind == .flag {
                if let inline {
                    guard let b = ["true": true, "false": false][inline] else { throw fail("--\(spec.key) takes true or false, not '\(inline)'") }
                    values[spec.key] = .flag(negated ? !b : b)
                } else {
                    values[spec.key] = .flag(!negated)
                }
                continue
            }
            let text: String
            if let inline { text = inline } else {
                guard i < arguments.count else { throw fail("--\(spec.key) needs a value (\(spec.allowed))") }
                text = arguments[i]
                i += 1
            }
            do {
                let value = try Self.convert(commandLine: text, spec)
                // A list option given twice gathers both (`--index a --index b`).
                if case .list(let more) = value, case .list(let earlier)? = values[spec.key] { values[spec.key] = .list(earlier + more) }
                else { values[spec.key] = value }
            } catch let problem as OptionProblem {
                throw fail("--\(spec.key): \(problem.message)")
            }
        }
        for spec in options where spec.required && values[spec.key] == nil {
            throw fail("\(name) needs --\(spec.key) (\(spec.help))")
        }
        return (OptionValues(schema: self, values: values), positionals)
    }

    /// Converts a command-line word for `spec`.
    static func convert(commandLine text: String, _ spec: OptionSpec) throws -> OptionValue {
        switch spec.kind {
        case .integer, .integerList: return try convert(.number(text), spec).normalisedList(spec, text)
        case .real:
            guard let x = Double(text.filter { $0 != "_" }) else { throw OptionProblem("'\(text)' is not \(spec.allowed)") }
            return .real(try checkedReal(x, spec))
        case .flag: return .flag(true)
        case .text, .choice: return try convert(.string(text), spec)
        case .list: return .list(splitList(text))
        }
    }

    // MARK: Help

    /// The options as help text, one per line: flag, what it takes, the default, the help.
    public var help: String {
        options.map { o in
            var line = "  --\(o.key)"
            if let s = o.short { line = "  -\(s), --\(o.key)" }
            switch o.kind {
            case .flag: line += " (--no-\(o.key))"
            case .choice(let names): line += " <\(names.joined(separator: "|"))>"
            case .integer, .integerList: line += " <n>"
            case .real: line += " <x>"
            case .text: line += " <s>"
            case .list: line += " <a,b,…>"
            }
            line += "\n      " + o.help
            if let d = o.defaultValue { line += " (default: \(d))" } else if o.required { line += " (required)" }
            return line
        }.joined(separator: "\n")
    }
}

extension OptionValue {
    /// A command-line integer list comes in as one comma-separated word.
    fileprivate func normalisedList(_ spec: OptionSpec, _ text: String) throws -> OptionValue {
        if case .integerList = spec.kind, case .integers = self { return self }
        if case .integerList = spec.kind { return try OptionsSchema.convert(.string(text), spec) }
        return self
    }
}

/// A value that does not fit its option (internal: the callers add file, line and key).
struct OptionProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// " (did you mean 'x'?)" for a near miss among `candidates` (edit distance at most 2, or the same key with `_`
/// for `-`), or nothing.
public func suggestion(for word: String, among candidates: [String], prefix: String = "") -> String {
    let normalised = word.replacingUnderscores()
    if let same = candidates.first(where: { $0 == normalised && $0 != word }) { return " (did you mean '\(prefix)\(same)'?)" }
    let scored = candidates.map { (c: $0, d: editDistance(Array(normalised.utf8), Array($0.utf8))) }
    guard let best = scored.min(by: { $0.d < $1.d || ($0.d == $1.d && $0.c < $1.c) }),
          best.d <= max(1, min(2, best.c.count / 3)) else {
        return candidates.isEmpty ? "" : " (known: \(candidates.map { prefix + $0 }.joined(separator: ", ")))"
    }
    return " (did you mean '\(prefix)\(best.c)'?)"
}

/// Levenshtein distance (insertions, deletions, substitutions, and transpositions of neighbours).
func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous2 = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], previous2[j - 2] + 1) }
        }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[b.count]
}

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

extension JSONValue {
    /// What kind of value this is, in words (for errors).
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "a table"
        }
    }
}

/// The options of one stage as set (by a pipeline file or a command line) over the schema's defaults.
public struct OptionValues: Sendable {
    public let schema: OptionsSchema
    /// The values set explicitly.
    public private(set) var explicit: [String: OptionValue]

    public init(schema: OptionsSchema, values: [String: OptionValue]) {
        self.schema = schema
        explicit = values
    }

    /// The value of `key`: the one set, else the default; nil when neither.
    public subscript(key: String) -> OptionValue? {
        precondition(schema.spec(key) != nil, "\(schema.name) has no option \(key)")
        return explicit[key] ?? schema.spec(key)?.defaultValue
    }

    /// Whether `key` was set explicitly.
    public func isSet(_ key: String) -> Bool { explicit[key] != nil }

    /// Sets a value (checked against the schema by the caller's construction).
    public mutating func set(_ key: String, _ value: OptionValue) {
        precondition(schema.spec(key) != nil, "\(schema.name) has no option \(key)")
        explicit[key] = value
    }

    public func int(_ key: String) -> Int {
        guard case .integer(let v)? = self[key] else { preconditionFailure("\(schema.name).\(key) is not an integer option with a value") }
        // Schemas bound integer options well within Int's range on 64-bit platforms.
        return Int(v)
    }

    public func optionalInt(_ key: String) -> Int? {
        guard case .integer(let v)? = self[key] else { return nil }
        return Int(v)
    }

    public func uint64(_ key: String) -> UInt64 {
        guard case .integer(let v)? = self[key], v >= 0 else { preconditionFailure("\(schema.name).\(key) is not a non-negative integer option") }
        return UInt64(v)
    }

    public func double(_ key: String) -> Double {
        switch self[key] {
        case .real(let v)?: return v
        case .integer(let v)?: return Double(v)
        default: preconditionFailure("\(schema.name).\(key) is not a number option with a value")
        }
    }

    public func optionalDouble(_ key: String) -> Double? {
        switch self[key] {
        case .real(let v)?: return v
        case .integer(let v)?: return Double(v)
        default: return nil
        }
    }

    public func bool(_ key: String) -> Bool {
        guard case .flag(let v)? = self[key] else { return false }
        return v
    }

    public func string(_ key: String) -> String {
        guard case .text(let v)? = self[key] else { preconditionFailure("\(schema.name).\(key) is not a string option with a value") }
        return v
    }

    public func optionalString(_ key: String) -> String? {
        guard case .text(let v)? = self[key] else { return nil }
        return v
    }

    public func list(_ key: String) -> [String] {
        switch self[key] {
        case .list(let v)?: return v
        case .text(let v)?: return [v]
        default: return []
        }
    }

    public func integers(_ key: String) -> [Int] {
        guard case .integers(let v)? = self[key] else { return [] }
        return v.map { Int($0) }
    }

    /// Every option that shapes the output, defaults included, in key order: what the fingerprint is made of.
    public var canonical: String {
        schema.options.filter(\.shapesOutput).sorted { $0.key < $1.key }.map { spec in
            "\(spec.key)=\((self[spec.key]?.canonical) ?? "-")"
        }.joined(separator: ";")
    }

    /// A hash of every option that shapes the output (defaults included): equal fingerprints, equal outputs.
    public var fingerprint: String { Fingerprint.of(schema.name + "{" + canonical + "}") }
}

/// Short content fingerprints for naming outputs: the first 16 hex digits of SHA-256.
public enum Fingerprint {
    public static func of(_ text: String) -> String {
        var t = text
        let digest = t.withUTF8 { SHA256.hash(UnsafeRawBufferPointer($0)) }
        return String(hexString(digest).prefix(16))
    }

    /// A fingerprint of several parts, each length-prefixed so that no two lists of parts collide.
    public static func of(parts: [String]) -> String {
        of(parts.map { "\($0.utf8.count):\($0)" }.joined(separator: "|"))
    }
}
