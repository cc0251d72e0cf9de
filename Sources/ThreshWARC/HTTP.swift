import ThreshCore
public import ThreshIO

/// The head of an HTTP message stored in a WARC block: first line and header fields.
public struct HTTPHead: Sendable {
    /// The first line, e.g. `HTTP/1.1 200 OK` or `GET / HTTP/1.1`.
    public var firstLine: String
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// Bytes of the head including the blank line; the body starts here.
    public var length: Int

    /// The status code of a response (nil for requests and unparsable lines).
    public var status: Int? {
        guard firstLine.hasPrefix("HTTP") else { return nil }
        let parts = firstLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let code = Int(parts[1]), (100...999).contains(code) else { return nil }
        return code
    }

    /// The second token of the first line: the status code of a response, the target of a request
    /// (what warcio reports as `get_statuscode()`).
    public var secondToken: String? {
        let parts = firstLine.split(separator: " ", maxSplits: 2)
        return parts.count >= 2 ? String(parts[1]) : nil
    }

    /// The first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        for h in headers where headerNameEquals(h.name, name) { return h.value }
        return nil
    }

    /// The media type of `Content-Type`, lowercased, without parameters.
    public var mimeType: String? {
        guard let ct = header("Content-Type") else { return nil }
        let main = ct.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces().lowercased() } ?? ""
        return main.isEmpty ? nil : main
    }

    /// The `charset` parameter of `Content-Type`, if any.
    public var charsetParameter: String? { header("Content-Type").flatMap(charsetParameter(of:)) }

    /// Parses the head at the start of `block`; nil when the block does not start with an HTTP message.
    public static func parse(_ block: UnsafeRawBufferPointer) -> HTTPHead? {
        // The head ends at the first blank line ("\r\n\r\n", or "\n\n" from lenient writers).
        var end: Int?
        var i = 0
        let n = block.count
        let base = block.baseAddress.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) }
        guard let base, n > 0 else { return nil }
        while i < n {
            guard let p = memchrByte(base + i, 0x0A, n - i) else { break }
            let nl = base.distance(to: p)
            if let blankEnd = blankLineEnd(block, afterNewline: nl, limit: n) { end = blankEnd; break }
            i = nl + 1
        }
        let headLength = end ?? n
        let block = parseFieldBlock(UnsafeRawBufferPointer(rebasing: block[0..<headLength]))
        let firstLine = block.firstLine
        guard !firstLine.isEmpty else { return nil }
        // "HTTP/1.1 200 OK", and lenient with misspelt versions ("HTTPX/1.1") as warcio is.
        let isResponse = firstLine.hasPrefix("HTTP")
        let tokens = firstLine.split(separator: " ")
        let isRequest = tokens.count >= 3 && tokens[tokens.count - 1].hasPrefix("HTTP/")
        guard isResponse || isRequest else { return nil }
        let headers = block.fields
        return HTTPHead(firstLine: firstLine, headers: headers, length: headLength)
    }
}

@inline(__always)
func memchrByte(_ p: UnsafePointer<UInt8>, _ byte: UInt8, _ count: Int) -> UnsafePointer<UInt8>? {
    var i = 0
    while i < count {
        if p[i] == byte { return p + i }
        i += 1
    }
    return nil
}

/// The `charset=` parameter of a Content-Type value.
func charsetParameter(of contentType: String) -> String? {
    for part in contentType.split(separator: ";").dropFirst() {
        let kv = part.split(separator: "=", maxSplits: 1)
        if kv.count == 2, kv[0].trimmingSpaces().lowercased() == "charset" {
            var v = kv[1].trimmingSpaces()
            v = v.trimmingCharacters(in: "\"'")
            return v.isEmpty ? nil : v
        }
    }
    return nil
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

/// An HTTP body after transfer and content decoding.
public struct DecodedBody {
    /// The decoded body; nil when no coding had to be undone and the body is the input as it was (not copied).
    public var bytes: [UInt8]?
    /// Content codings undone, in order (`gzip`, `deflate`, `br`).
    public var contentCodings: [String] = []
    /// Problems met (bad chunking, damaged compression); the bytes are what could be recovered.
    public var problems: [(reason: String, message: String)] = []
    /// Set when a content coding decodes past the limit: the body is then unusable (`bytes` is nil) and the record
    /// is dropped as `decoded-too-large`, never emitted with the encoded or a cut decoded body.
    public var tooLarge: DecodedTooLarge?
}

/// Undoing transfer coding (chunked) and content coding (gzip, deflate, brotli) of HTTP bodies.
public enum HTTPBody {
    /// Decodes `body` per the head's Transfer-Encoding and Content-Encoding, within `limit` output bytes.
    public static func decode(_ body: UnsafeRawBufferPointer, head: HTTPHead, limit: Int) -> DecodedBody {
        var result = DecodedBody(bytes: nil)
        // nil while the body is still the input as given: most bodies need no decoding, and a copy of a large
        // page would double the memory it takes.
        var current: [UInt8]? = nil
        if let te = head.header("Transfer-Encoding")?.lowercased(), te.contains("chunked") {
            switch dechunk(body) {
            case .success(let bytes, let complete):
                current = bytes
                if !complete { result.problems.append(("bad-chunking", "chunked body cut short or malformed")) }
            case .notChunked:
                break  // Many archives store the body already de-chunked but keep the header; use it as it is.
            }
        }
        func withCurrent<R>(_ use: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            if let current { return try current.withUnsafeBytes(use) }
            return try use(body)
        }
        let codings = (head.header("Content-Encoding") ?? "").lowercased()
            .split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty && $0 != "identity" }
        for coding in codings.reversed() {
            do {
                switch coding {
                case "gzip", "x-gzip":
                    let isGzip = withCurrent { $0.count >= 2 && $0[0] == 0x1F && $0[1] == 0x8B }
                    guard isGzip else { continue }  // already decoded
                    let (bytes, error) = try withCurrent { try InflateAll.decompress($0, wrapper: .gzip, limit: limit) }
                    if let error { result.problems.append(("bad-content-encoding", "gzip body: \(error)")) }
                    if !bytes.isEmpty || error == nil { current = bytes; result.contentCodings.append("gzip") }
                case "deflate":
                    let (bytes, error) = try withCurrent { try InflateAll.decompress($0, wrapper: .zlibOrRaw, limit: limit) }
                    if let error { result.problems.append(("bad-content-encoding", "deflate body: \(error)")) }
                    if !bytes.isEmpty || error == nil { current = bytes; result.contentCodings.append("deflate") }
                case "br":
                    do {
                        current = try withCurrent { try BrotliDecoding.decompress($0, limit: limit) }
                        result.contentCodings.append("br")
                    } catch let error as ThreshError {
                        result.problems.append(("bad-content-encoding", "brotli body: \(error.message)"))
                    }
                default:
                    result.problems.append(("unsupported-content-encoding", "content coding '\(coding)' left as is"))
                }
            } catch let error as DecodedTooLarge {
                result.tooLarge = error
                return result
            } catch {
                result.problems.append(("bad-content-encoding", "\(coding) body: \(error)"))
            }
        }
        result.bytes = current
        return result
    }

    enum Dechunked {
        case success([UInt8], complete: Bool)
        case notChunked
    }

    /// Removes chunked transfer coding. A body whose first chunk header is not valid is reported as not
    /// chunked; one that goes wrong later keeps what was decoded.
    static func dechunk(_ body: UnsafeRawBufferPointer) -> Dechunked {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var i = 0
        var first = true
        while i < body.count {
            // Size line: hex digits, optional extensions, CRLF.
            var size = 0
            var digits = 0
            var j = i
            while j < body.count, let d = hexValue(body[j]) {
                size = size &* 16 &+ d
                digits += 1
                j += 1
                if digits > 15 { return first ? .notChunked : .success(out, complete: false) }
            }
            guard digits > 0 else { return first ? .notChunked : .success(out, complete: false) }
            while j < body.count && body[j] != 0x0A { j += 1 }
            guard j < body.count else { return first ? .notChunked : .success(out, complete: false) }
            j += 1
            if size == 0 { return .success(out, complete: true) }
            let available = min(size, body.count - j)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[j..<(j + available)]))
            if available < size { return .success(out, complete: false) }
            j += size
            if j < body.count && body[j] == 0x0D { j += 1 }
            if j < body.count && body[j] == 0x0A { j += 1 }
            i = j
            first = false
        }
        return first ? .notChunked : .success(out, complete: false)
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 0x30...0x39: return Int(c - 0x30)
        case 0x61...0x66: return Int(c - 0x57)
        case 0x41...0x46: return Int(c - 0x37)
        default: return nil
        }
    }
}
