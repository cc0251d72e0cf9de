#if canImport(Glibc)
import Glibc
#endif
public import ThreshIO
public import ThreshCore

/// A fresh temporary directory for one test.
public func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/thresh-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    return path
}

/// Writes bytes to a file (plainly: no compression by name).
public func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let out = try OutputFile(path: path, compression: .none)
    try out.write(bytes)
    try out.close()
}

/// Reads a whole file (raw bytes, not decompressed).
public func readFile(_ path: String) throws -> [UInt8] { try readEntireRawFile(path) }

/// Serves bytes in pieces of a fixed size, to test that parsers do not depend on how input arrives.
public final class DripSource: ByteSource {
    public let name: String
    private let bytes: [UInt8]
    private let piece: Int
    private var position = 0

    public init(_ bytes: [UInt8], piece: Int, name: String = "drip") {
        self.bytes = bytes
        self.piece = piece
        self.name = name
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(piece, buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// Every line of a JSONL file as an object (a line that is not a JSON object is an error naming the file).
public func readJSONLines(_ path: String) throws -> [JSONObject] {
    let reader = try DocumentReader(path: path)
    var rows: [JSONObject] = []
    while let d = try reader.next() { rows.append(d.fields) }
    return rows
}
