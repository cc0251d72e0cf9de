/// Why a JSON text was rejected, and where (a byte offset within the text).
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

/// A hand-written JSON parser over UTF-8 bytes.
///
/// It is the hot path of every stage, so it works on borrowed bytes and builds `String`s straight from
/// byte ranges when a string has no escapes (the common case), with no `Codable` machinery in between.
public struct JSONParser {
    /// Most nesting a value may have, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 512

    /// Parses exactly one JSON value from `bytes` (surrounding whitespace allowed).
    /// - Throws: `JSONSyntaxError` naming the byte offset of the problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw JSONSyntaxError(message: "empty input", offset: 0)
        }
        var cursor = Cursor(base: base, end: bytes.count)
        cursor.skipWhitespace()
        let value = try cursor.parseValue(depth: 0)
        cursor.skipWhitespace()
        if cursor.position != cursor.end {
            throw JSONSyntaxError(message: "unexpected data after the JSON value", offset: cursor.position)
        }
        return value
    }

    /// Parses one JSON value from a string.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var copy = text
        let result: Result<JSONValue, JSONSyntaxError> = copy.withUTF8 { buffer in
            do throws(JSONSyntaxError) { return .success(try parse(UnsafeRawBufferPointer(buffer))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    struct Cursor {
        let base: UnsafePointer<UInt8>
        let end: Int
        var position = 0

        @inline(__always)
        mutating func skipWhitespace() {
            while position < end {
                let c = base[position]
                if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 } else { break }
            }
        }

        func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: position) }

        mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard position < end else { throw fail("unexpected end of input") }
            switch base[position] {
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw fail("unexpected character '\(Unicode.Scalar(base[position]))'")
            }
        }

        mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
            let n = literal.utf8CodeUnitCount
            guard end - position >= n, memcmpBytes(base + position, literal.utf8Start, n) else {
                throw fail("invalid literal")
            }
            position += n
        }

        mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONObject {
            guard depth <= JSONParser.maximumDepth else { throw fail("nesting too deep") }
            position += 1  // {
            var object = JSONObject()
            // Duplicate keys are looked for by scanning while objects are small, by a set once they are large
            // (a vocabulary file has 50,000 keys).
            var seen: Set<String>?
            skipWhitespace()
            if position < end, base[position] == UInt8(ascii: "}") { position += 1; return object }
            while true {
                skipWhitespace()
                guard position < end, base[position] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard position < end, base[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                position += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                // Duplicate keys: the last one wins, as in most JSON readers.
                if object.count == 32 && seen == nil { seen = Set(object.members.map(\.key)) }
                let duplicate = seen.map { $0.contains(key) } ?? (object[key] != nil)
                if duplicate { object[key] = value } else {
                    object.appendUnchecked(key, value)
                    seen?.insert(key)
                }
                skipWhitespace()
                guard position < end else { throw fail("unterminated object") }
                if base[position] == UInt8(ascii: ",") { position += 1; continue }
                if base[position] == UInt8(ascii: "}") { position += 1; return object }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else { throw fail("nesting too deep") }
            position += 1  // [
            var items: [JSONValue] = []
            skipWhitespace()
            if position < end, base[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth))
                skipWhitespace()
                guard position < end else { throw fail("unterminated array") }
                if base[position] == UInt8(ascii: ",") { position += 1; continue }
                if base[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        }

        mutating func parseNumber() throws(JSONSyntaxError) -> String {
            let start = position
            if base[position] == UInt8(ascii: "-") { position += 1 }
            func digits(_ c: inout Cursor) -> Int {
                let s = c.position
                while c.position < c.end, c.base[c.position] &- 0x30 < 10 { c.position += 1 }
                return c.position - s
            }
            guard digits(&self) > 0 else { throw fail("invalid number") }
            if position < end, base[position] == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            if position < end, base[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if position < end, base[position] == UInt8(ascii: "+") || base[position] == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            return String(decoding: UnsafeBufferPointer(start: base + start, count: position - start), as: UTF8.self)
        }

        /// Advances `position` past bytes that need no attention in a string (not a quote, backslash or control
        /// character), eight at a time: the SWAR tests below are exact "some byte is zero / below 0x20" checks.
        @inline(__always)
        mutating func skipPlainStringBytes() {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while position + 8 <= end {
                let x = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
                let quote = x ^ (ones &* 0x22), backslash = x ^ (ones &* 0x5C)
                let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((x &- ones &* 0x20) & ~x)
                if special & highs != 0 { break }
                position += 8
            }
        }

        mutating func parseString() throws(JSONSyntaxError) -> String {
            position += 1  // opening quote
            let start = position
            // Fast path: no escapes, so the string is the bytes between the quotes.
            skipPlainStringBytes()
            while position < end {
                let c = base[position]
                if c == UInt8(ascii: "\"") {
                    let s = String(decoding: UnsafeBufferPointer(start: base + start, count: position - start), as: UTF8.self)
                    position += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw fail("control character in string") }
                position += 1
            }
            guard position < end else { throw fail("unterminated string") }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(position - start + 16)
            bytes.append(contentsOf: UnsafeBufferPointer(start: base + start, count: position - start))
            while position < end {
                // Copy the run up to the next quote, backslash or control character in one go.
                let runStart = position
                skipPlainStringBytes()
                while position < end {
                    let c = base[position]
                    if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
                    position += 1
                }
                if position > runStart { bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: position - runStart)) }
                guard position < end else { break }
                let c = base[position]
                if c == UInt8(ascii: "\"") {
                    position += 1
                    return String(decoding: bytes, as: UTF8.self)
                }
                if c < 0x20 { throw fail("control character in string") }
                position += 1
                guard position < end else { break }
                let e = base[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by \u and a low surrogate; a lone one becomes U+FFFD.
                        if end - position >= 6, base[position] == UInt8(ascii: "\\"), base[position + 1] == UInt8(ascii: "u") {
                            let save = position
                            position += 2
                            let low = try hex4()
                            if (0xDC00..<0xE000).contains(low) {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                position = save
                                scalar = 0xFFFD
                            }
                        } else {
                            scalar = 0xFFFD
                        }
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        scalar = 0xFFFD
                    }
                    appendUTF8(scalar, to: &bytes)
                default:
                    position -= 1
                    throw fail("invalid escape")
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard end - position >= 4 else { throw fail("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = base[position]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - 0x30
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - 0x57
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - 0x37
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | UInt32(d)
                position += 1
            }
            return v
        }
    }
}

@inline(__always)
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// Appends the UTF-8 encoding of a scalar value.
@inline(__always)
public func appendUTF8(_ scalar: UInt32, to bytes: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        bytes.append(UInt8(scalar))
    case 0x80..<0x800:
        bytes.append(UInt8(0xC0 | scalar >> 6)); bytes.append(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
        bytes.append(UInt8(0xE0 | scalar >> 12)); bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F))
        bytes.append(UInt8(0x80 | scalar & 0x3F))
    default:
        bytes.append(UInt8(0xF0 | scalar >> 18)); bytes.append(UInt8(0x80 | scalar >> 12 & 0x3F))
        bytes.append(UInt8(0x80 | scalar >> 6 & 0x3F)); bytes.append(UInt8(0x80 | scalar & 0x3F))
    }
}

/// Serialises JSON values into a byte buffer: compact, keys in order, non-ASCII written as UTF-8.
public enum JSONWriter {
    /// Appends `value` to `out`.
    public static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): b ? out.append(contentsOf: [0x74, 0x72, 0x75, 0x65]) : out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object): write(object, to: &out)
        }
    }

    /// Appends an object.
    public static func write(_ object: JSONObject, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in object {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            write(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Serialises a value to a `String`.
    public static func string(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        write(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a quoted, escaped string. Runs of bytes that need no escape are copied in bulk.
    public static func writeString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = string
        s.withUTF8 { bytes in
            // A large string gets its room at once: growth by doubling would hold the old and the new buffer,
            // up to three times the string, while copying.
            if bytes.count > 1 << 16 && out.capacity - out.count < bytes.count + 2 {
                out.reserveCapacity(out.count + bytes.count + bytes.count / 32 + 64)
            }
            var runStart = 0
            var i = 0
            let n = bytes.count
            while i < n {
                let c = bytes[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C { i += 1; continue }
                if i > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                switch c {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                default:
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                    out.append(hexDigits[Int(c >> 4)]); out.append(hexDigits[Int(c & 0xF)])
                }
                i += 1
                runStart = i
            }
            if n > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<n])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}
