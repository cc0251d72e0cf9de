#if canImport(Glibc)
import Glibc
#endif

/// Where the tests find the repository's fixtures and the shared real data beside the repository.
public enum TestPaths {
    /// The repository root (found from this file's path).
    public static let repository: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/ThreshTestSupport/TestPaths.swift
        return parts.joined(separator: "/")
    }()

    /// `Tests/Fixtures`.
    public static let fixtures = repository + "/Tests/Fixtures"

    /// `../shared/data` beside the repository (or `THRESH_SHARED_DATA`).
    public static let sharedData: String = {
        if let env = getenv("THRESH_SHARED_DATA") { return String(cString: env) }
        return repository + "/../shared/data"
    }()

    /// Whether the tests run under CI (`CI=true`), where missing shared data is a failure, not a skip.
    public static var isCI: Bool {
        guard let v = getenv("CI") else { return false }
        return String(cString: v) == "true"
    }

    /// Whether a path exists.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether the shared data is present. Tests that need it are enabled by this, except under CI,
    /// where they always run (and fail loudly when the data is missing).
    public static var sharedDataAvailable: Bool { isCI || exists(sharedData + "/warc") }

    /// The Python of the trainers' environment (`scripts/venv trainers`: megatron-core, a CPU torch, HF datasets),
    /// which scripts/test exports as `THRESH_TRAINERS_PYTHON`; nil when it is not set.
    public static var trainersPython: String? { getenv("THRESH_TRAINERS_PYTHON").map { String(cString: $0) } }

    /// The built `thresh` executable (debug build by default, as `swift test` builds it).
    public static var threshBinary: String {
        if let env = getenv("THRESH_BINARY") { return String(cString: env) }
        for config in ["debug", "release"] {
            let path = repository + "/.build/\(config)/thresh"
            if exists(path) { return path }
        }
        return repository + "/.build/debug/thresh"
    }
}
