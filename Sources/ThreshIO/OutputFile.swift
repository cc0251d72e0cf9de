#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ThreshCore
import Synchronization

/// A buffered output: standard output for `-`, else a file written atomically (to a temporary name beside it,
/// renamed into place by `close()`), so a killed run never leaves a half-written file under the final name.
/// Compression follows the extension: `.gz` (gzip), `.zst` (zstd), anything else plain.
public final class OutputFile {
    public let path: String
    private let fd: Int32
    private let temporaryPath: String?
    private var pending: [UInt8] = []
    private let flushThreshold: Int
    private let gzip: ZlibDeflater?
    private let zstd: ZstdEncoder?
    private var compressed: [UInt8] = []
    private var closed = false
    /// Uncompressed bytes written.
    public private(set) var bytesWritten: Int64 = 0

    /// How the bytes are compressed on their way to the file.
    public enum Compression: Sendable {
        /// From the name: `.gz` gzip, `.zst` zstd, else none.
        case fromName
        /// From the name, at the codec's fastest level: for intermediate files, written once and read back once.
        case fastestFromName
        /// Written as given (for writers that compress themselves).
        case none
    }

    /// Extensions of formats and compressions Thresh does not write: naming one is an error, not plain bytes under a
    /// name that promises something else.
    static let unwritableExtensions = [".bz2", ".xz", ".lzma", ".lz4", ".br", ".zip", ".7z", ".tar", ".snappy",
                                       ".parquet", ".arrow", ".feather", ".avro", ".orc", ".csv", ".tsv"]

    /// Opens `path` for writing (`-` is standard output).
    /// - Throws: `.usage` when the name (for an output compressed by name) ends with an extension of a format
    ///   Thresh does not write (`.parquet`, `.bz2`, …).
    public init(path: String, bufferSize: Int = 1 << 20, compression: Compression = .fromName) throws {
        if compression != .none, let ext = Self.unwritableExtensions.first(where: { path.lowercased().hasSuffix($0) }) {
            throw ThreshError(.usage, "cannot write '\(ext)': outputs are JSON lines, plain, .gz (gzip) or .zst (zstd)", file: path)
        }
        self.path = path
        flushThreshold = bufferSize
        pending.reserveCapacity(bufferSize + (1 << 16))
        if path == "-" {
            fd = 1
            temporaryPath = nil
            gzip = nil
            zstd = nil
        } else if OutputFile.isSpecialFile(path) {
            // A device or pipe (/dev/null, /dev/stdout, a FIFO) is written in place: renaming a temporary
            // file over it would replace the device with a regular file.
            let f = open(path, O_WRONLY | O_CLOEXEC)
            guard f >= 0 else { throw ThreshError(.io, "cannot open for writing: \(errnoString())", file: path) }
            fd = f
            temporaryPath = nil
            (gzip, zstd) = Self.encoders(for: path, compression)
        } else {
            // Unique per process and per output, so two tasks (or threads) writing one name never share a temporary.
            let tmp = path + ".tmp-\(getpid())-\(TemporaryFiles.nextNumber())"
            let f = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard f >= 0 else { throw ThreshError(.io, "cannot create: \(errnoString())", file: path) }
            TemporaryFiles.register(tmp)
            fd = f
            temporaryPath = tmp
            (gzip, zstd) = Self.encoders(for: path, compression)
        }
    }

    /// The encoder the name and the compression choice call for, if any.
    private static func encoders(for path: String, _ compression: Compression) -> (ZlibDeflater?, ZstdEncoder?) {
        guard compression != .none else { return (nil, nil) }
        let fastest = compression == .fastestFromName
        if path.hasSuffix(".gz") { return (fastest ? ZlibDeflater(level: 1) : ZlibDeflater(), nil) }
        if path.hasSuffix(".zst") { return (nil, fastest ? ZstdEncoder(level: 1) : ZstdEncoder()) }
        return (nil, nil)
    }

    /// Whether `path` exists and is not a regular file (following links).
    static func isSpecialFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) != S_IFREG
    }

    deinit {
        // An output never closed (an error path) is removed, not left half-written.
        if !closed, let temporaryPath {
            Glibc.close(fd)
            unlink(temporaryPath)
            TemporaryFiles.unregister(temporaryPath)
        }
    }

    /// Appends bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: bytes)
        bytesWritten += Int64(bytes.count)
        if pending.count >= flushThreshold { try flush() }
    }

    /// Appends bytes.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends a string's UTF-8.
    public func write(_ string: String) throws {
        var s = string
        try s.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Gives direct access to the pending buffer, for writers that serialise in place (no extra copy).
    public func append(_ body: (inout [UInt8]) -> Void) throws {
        let before = pending.count
        body(&pending)
        bytesWritten += Int64(pending.count - before)
        if pending.count >= flushThreshold { try flush() }
    }

    /// Writes buffered bytes through to the file (compressing them if needed).
    public func flush() throws {
        try pushPending(finish: false)
    }

    private func pushPending(finish: Bool) throws {
        if gzip != nil || zstd != nil {
            compressed.removeAll(keepingCapacity: true)
            pending.withUnsafeBytes { input in
                if let gzip { gzip.compress(input, finish: finish, into: &compressed) }
                if let zstd { zstd.compress(input, finish: finish, into: &compressed) }
            }
            try writeAll(compressed)
        } else {
            try writeAll(pending)
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE { throw ThreshError(.brokenPipe, "output closed (broken pipe)", file: path) }
                    throw ThreshError(.io, "write failed: \(errnoString())", file: path)
                }
                offset += n
            }
        }
    }

    /// Flushes, finishes compression, and (for files) syncs and renames the temporary file into place.
    public func close() throws {
        guard !closed else { return }
        try pushPending(finish: true)
        closed = true
        if temporaryPath == nil && fd > 2 { Glibc.close(fd) }
        if let temporaryPath {
            guard fsync(fd) == 0 || errno == EINVAL else { throw ThreshError(.io, "fsync failed: \(errnoString())", file: path) }
            Glibc.close(fd)
            defer { TemporaryFiles.unregister(temporaryPath) }
            guard rename(temporaryPath, path) == 0 else {
                let reason = errnoString()
                unlink(temporaryPath)
                throw ThreshError(.io, "cannot rename into place: \(reason)", file: path)
            }
        }
    }
}

/// The temporary files this process has open, so that SIGINT and SIGTERM remove them instead of leaving them behind.
public enum TemporaryFiles {
    private static let open = Mutex<Set<String>>([])
    private static let counter = Atomic<Int>(0)

    static func nextNumber() -> Int { counter.add(1, ordering: .relaxed).newValue }
    static func register(_ path: String) { open.withLock { _ = $0.insert(path) } }
    static func unregister(_ path: String) { open.withLock { _ = $0.remove(path) } }

    /// Removes every temporary file still open (called on SIGINT/SIGTERM, off the signal context).
    public static func removeAll() {
        open.withLock { paths in
            for p in paths { unlink(p) }
            paths.removeAll()
        }
    }
}
