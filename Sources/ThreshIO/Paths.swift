#if canImport(Glibc)
import Glibc
#endif
import ThreshCore

/// File-system helpers shared by the stages and the runner: one of each, so that every caller names, creates and
/// identifies files the same way.
public enum Paths {
    /// A path with `.` segments, repeated slashes and `dir/..` pairs removed, lexically (`Pipelines/../out` is `out`).
    /// Leading `..` segments of a relative path stay.
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if part == "..", absolute { continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// `path` joined to `base` unless absolute, normalised.
    public static func resolve(_ path: String, relativeTo base: String) -> String {
        normalize(path.hasPrefix("/") || base == "." ? path : base + "/" + path)
    }

    /// The directory of a path (`.` for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path.
    public static func basename(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    /// The working directory.
    public static var currentDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The absolute, normalised form of a path.
    public static func absolute(_ path: String) -> String {
        normalize(path.hasPrefix("/") ? path : currentDirectory + "/" + path)
    }

    /// Whether something exists at `path`.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// An environment variable's value, or nil when it is unset or empty.
    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let s = String(cString: value)
        return s.isEmpty ? nil : s
    }

    /// Whether `path` is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates a directory and its missing parents.
    /// - Throws: `.io` naming the directory that could not be made.
    public static func makeDirectories(_ path: String) throws {
        if isDirectory(path) { return }
        let parent = directory(of: path)
        if parent != path && parent != "." && parent != "/" { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw ThreshError(.io, "cannot create directory: \(errnoString())", file: path) }
    }

    /// Removes a file or a directory tree (nothing if absent).
    public static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try listDirectory(path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw ThreshError(.io, "cannot remove directory: \(errnoString())", file: path) }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw ThreshError(.io, "cannot remove: \(errnoString())", file: path) }
        }
    }

    /// What identifies a file's contents cheaply: its size and modification time (nanoseconds), as make does. An
    /// edited file gets a new identity, so outputs made from the old contents are not reused.
    /// - Throws: `.io` when the file cannot be examined.
    public static func identity(of path: String) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ThreshError(.io, "cannot read: \(errnoString())", file: path) }
        return "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    /// The size of a file in bytes (0 when it cannot be examined).
    public static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// For each path, its path relative to the deepest directory all of them share (`a/p.jsonl`, `b/p.jsonl` for
    /// `/x/a/p.jsonl`, `/x/b/p.jsonl`): names under which inputs of the same basename do not collide.
    public static func distinctRelativeNames(_ paths: [String]) -> [String] {
        let split = paths.map { absolute($0).split(separator: "/").map(String.init) }
        guard var common = split.first.map({ Array($0.dropLast()) }) else { return [] }
        for parts in split.dropFirst() {
            let directory = parts.dropLast()
            var n = 0
            while n < common.count && n < directory.count && common[n] == directory[n] { n += 1 }
            common = Array(common.prefix(n))
        }
        return split.map { $0.dropFirst(common.count).joined(separator: "/") }
    }

    /// Temporary files left by a process that no longer runs (`NAME.tmp-PID-N`) in a directory tree are removed.
    public static func removeStaleTemporaries(under root: String) {
        guard let names = try? listDirectory(root) else { return }
        for name in names {
            let path = root + "/" + name
            if isDirectory(path) { removeStaleTemporaries(under: path); continue }
            let pieces = name.components(separatedByMarker: ".tmp-")
            guard pieces.count >= 2, let last = pieces.last else { continue }
            let pid = last.prefix { $0.isNumber }
            if let p = Int32(pid), p != getpid(), kill(p, 0) != 0 && errno == ESRCH { unlink(path) }
        }
    }
}

extension String {
    /// The pieces between occurrences of `marker` (no Foundation here).
    func components(separatedByMarker marker: String) -> [Substring] {
        let m = Array(marker.utf8)
        let bytes = Array(utf8)
        var pieces: [Substring] = []
        var start = 0, i = 0
        while i + m.count <= bytes.count {
            if Array(bytes[i..<(i + m.count)]) == m {
                pieces.append(Substring(String(decoding: bytes[start..<i], as: UTF8.self)))
                i += m.count
                start = i
            } else {
                i += 1
            }
        }
        pieces.append(Substring(String(decoding: bytes[start...], as: UTF8.self)))
        return pieces
    }
}
