#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import ThreshCore

/// Something bytes are read from: a file, standard input, or a test's drip feed.
public protocol ByteSource: AnyObject {
    /// The name used in messages.
    var name: String { get }
    /// Reads up to `buffer.count` bytes; 0 means the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A readable file descriptor: a path, or standard input for `-`. Closes what it opened.
public final class RawFileReader: ByteSource {
    /// The name used in messages (`-` for standard input).
    public let name: String
    private let fd: Int32
    private let owned: Bool
    /// Bytes read so far.
    public private(set) var position: Int64 = 0

    /// Opens `path` for reading, or standard input for `-`.
    /// - Throws: `ThreshError(.io)` naming the path.
    public init(path: String) throws {
        name = path
        if path == "-" {
            fd = 0
            owned = false
        } else {
            let f = open(path, O_RDONLY | O_CLOEXEC)
            guard f >= 0 else { throw ThreshError(.io, "cannot open: \(errnoString())", file: path) }
            var info = stat()
            if fstat(f, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(f)
                throw ThreshError(.io, "is a directory", file: path)
            }
            fd = f
            owned = true
            #if canImport(Glibc)
            _ = posix_fadvise(f, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
            #endif
        }
    }

    deinit { if owned { close(fd) } }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 {
                position += Int64(n)
                return n
            }
            if errno == EINTR { continue }
            throw ThreshError(.io, "read failed: \(errnoString())", file: name, offset: position)
        }
    }
}

/// The whole content of a file (or stdin for `-`), decompressed if it is gzip or zstd.
public func readEntireFile(_ path: String) throws -> [UInt8] {
    let reader = try DecompressingReader(path: path)
    return try readAll { try reader.read(into: $0) }
}

/// The whole content of a file as it is on disk (not decompressed).
public func readEntireRawFile(_ path: String) throws -> [UInt8] {
    let file = try RawFileReader(path: path)
    return try readAll { try file.read(into: $0) }
}

/// Everything `read` gives (bytes read into the buffer, 0 at the end), concatenated.
private func readAll(_ read: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try chunk.withUnsafeMutableBytes { try read($0) }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

/// The message for the current `errno`.
public func errnoString() -> String { String(cString: strerror(errno)) }

/// Compression of a byte stream, recognised from its first bytes (never from the file name).
public enum StreamCompression: String, Sendable {
    case none, gzip, zstd, lz4

    /// Recognises gzip (1f 8b), zstd (a frame, or a skippable frame as used for WARC dictionaries) and lz4 frames
    /// (04 22 4d 18).
    public static func detect(_ prefix: UnsafeRawBufferPointer) -> StreamCompression {
        if prefix.count >= 2, prefix[0] == 0x1F, prefix[1] == 0x8B { return .gzip }
        if prefix.count >= 4 {
            let magic = UInt32(prefix[0]) | UInt32(prefix[1]) << 8 | UInt32(prefix[2]) << 16 | UInt32(prefix[3]) << 24
            if magic == 0xFD2F_B528 || magic & 0xFFFF_FFF0 == 0x184D_2A50 { return .zstd }
            if magic == 0x184D_2204 { return .lz4 }
        }
        return .none
    }
}

/// A byte stream read from a file or stdin and decompressed on the fly (gzip members or zstd frames,
/// concatenated; detected from the content). Used for JSONL inputs.
public final class DecompressingReader {
    public let name: String
    private let file: RawFileReader
    public private(set) var compression: StreamCompression = .none
    private var raw: UnsafeMutableRawBufferPointer
    private var rawStart = 0
    private var rawEnd = 0
    private var rawEOF = false
    private var gzip: ZlibInflater?
    private var zstd: ZstdDecoder?
    private var lz4: Lz4Decoder?
    private var memberFinished = false
    /// Called before each read of the underlying file, which may block on a pipe: stages flush their output
    /// here, so a pipeline's documents flow on while a slow producer is still working.
    public var beforeRead: (() -> Void)?
    /// Bytes read from the file itself (compressed), for progress against the file's size.
    public var fileBytesRead: Int64 { file.position }

    /// Opens `path` (or `-`) and detects its compression.
    public init(path: String, bufferSize: Int = 1 << 20) throws {
        name = path
        file = try RawFileReader(path: path)
        raw = .allocate(byteCount: bufferSize, alignment: 16)
        try refill()
        compression = StreamCompression.detect(UnsafeRawBufferPointer(rebasing: raw[rawStart..<rawEnd]))
        switch compression {
        case .gzip: gzip = ZlibInflater(.gzip)
        case .zstd: zstd = ZstdDecoder()
        case .lz4: lz4 = Lz4Decoder()
        case .none: break
        }
    }

    deinit { raw.deallocate() }

    private func refill() throws {
        if rawStart > 0 {
            let n = rawEnd - rawStart
            if n > 0 { raw.baseAddress!.copyMemory(from: raw.baseAddress! + rawStart, byteCount: n) }
            rawStart = 0
            rawEnd = n
        }
        while rawEnd < raw.count && !rawEOF {
            beforeRead?()
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[rawEnd...]))
            if n == 0 { rawEOF = true } else { rawEnd += n }
            if n > 0 { break }
        }
    }

    /// Reads decompressed bytes; 0 means end of stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            if rawStart == rawEnd {
                if rawEOF { return try finishAtEOF() }
                try refill()
                continue
            }
            let input = UnsafeRawBufferPointer(rebasing: raw[rawStart..<rawEnd])
            switch compression {
            case .none:
                let n = min(buffer.count, input.count)
                buffer.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: n)
                rawStart += n
                return n
            case .gzip, .zstd, .lz4:
                if memberFinished {
                    // Another member may follow; trailing zero padding is tolerated.
                    if compression == .gzip && input[0] == 0 { rawStart += 1; continue }
                    gzip?.reset()
                    memberFinished = false
                }
                let step: DecodeStep
                do {
                    step = try gzip?.decode(input, into: buffer) ?? zstd?.decode(input, into: buffer) ?? lz4!.decode(input, into: buffer)
                } catch var error as ThreshError {
                    error.file = name
                    error.offset = file.position - Int64(rawEnd - rawStart)
                    throw error
                }
                rawStart += step.consumed
                if step.memberEnded { memberFinished = true }
                if step.produced > 0 { return step.produced }
                if step.consumed == 0 && !step.memberEnded {
                    if rawEOF { return try finishAtEOF() }
                    try refill()
                }
            }
        }
    }

    private func finishAtEOF() throws -> Int {
        if compression != .none && !memberFinished && (gzip != nil || zstd != nil) && file.position > 0 {
            throw ThreshError(.compression, "truncated \(compression.rawValue) stream", file: name, offset: file.position)
        }
        return 0
    }
}

/// Reads lines (split on `\n`, a trailing `\r` removed) from a decompressing reader into a reused buffer.
public final class LineReader {
    private let reader: DecompressingReader
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var eof = false
    /// The 1-based number of the line last returned.
    public private(set) var lineNumber = 0
    /// Bytes of input consumed (decompressed).
    public private(set) var bytesRead: Int64 = 0
    /// Bytes read from the file itself (compressed), for progress against the file's size.
    public var fileBytesRead: Int64 { reader.fileBytesRead }
    /// Longest line accepted, so one corrupt file cannot exhaust memory.
    public let maximumLineLength: Int

    public var name: String { reader.name }

    /// See `DecompressingReader.beforeRead`.
    public var beforeRead: (() -> Void)? {
        get { reader.beforeRead }
        set { reader.beforeRead = newValue }
    }

    public init(_ reader: DecompressingReader, maximumLineLength: Int = 1 << 30) {
        self.reader = reader
        self.maximumLineLength = maximumLineLength
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with the next line's bytes (valid only inside `body`); returns nil at end of input.
    public func nextLine<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        var scanFrom = start
        while true {
            if let nl = findNewline(from: scanFrom) {
                var lineEnd = nl
                if lineEnd > start, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd])
                lineNumber += 1
                bytesRead += Int64(nl + 1 - start)
                start = nl + 1
                return try body(line)
            }
            if eof {
                guard start < end else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                lineNumber += 1
                bytesRead += Int64(end - start)
                start = end
                return try body(line)
            }
            let scanned = end - start
            try fill()
            scanFrom = start + scanned
        }
    }

    private func findNewline(from: Int) -> Int? {
        guard from < end else { return nil }
        let base = buffer.baseAddress!
        if let p = memchr(base + from, 0x0A, end - from) { return base.distance(to: UnsafeMutableRawPointer(p)) }
        return nil
    }

    private func fill() throws {
        if start > 0 {
            let n = end - start
            if n > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: n) }
            end = n
            start = 0
        }
        if end == buffer.count {
            guard buffer.count < maximumLineLength else {
                throw ThreshError(.invalidJSON, "line longer than \(maximumLineLength) bytes", file: name, line: lineNumber + 1)
            }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
            buffer.deallocate()
            buffer = bigger
        }
        let n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { eof = true } else { end += n }
    }
}

/// The names in a directory (without `.` and `..`), sorted bytewise so every caller sees the same order.
public func listDirectory(_ path: String) throws -> [String] {
    guard let dir = opendir(path) else { throw ThreshError(.io, "cannot list", file: path) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// Reads a JSON file; a syntax error names the file.
/// - Throws: `.io` when it cannot be read, `.invalidJSON` (with the path) when it is not JSON.
public func readJSONFile(_ path: String) throws -> JSONValue {
    let bytes = try readEntireFile(path)
    do {
        return try bytes.withUnsafeBytes { try JSONParser.parse($0) }
    } catch let error as JSONSyntaxError {
        throw ThreshError(.invalidJSON, "not valid JSON: \(error)", file: path, underlying: error)
    }
}
