#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Named points where a test can stop the process as `kill -9` would, to prove that a run resumes to the same bytes
/// from anywhere (`THRESH_KILL_AT=point`, or `point#N` for its N-th arrival). Without the variable nothing happens.
public enum TestHooks {
    /// Arrivals at the target point. Atomic because a point can be reached by several threads at once (the pipeline's
    /// dedup jobs run side by side, one per dataset): with a plain counter two arrivals could both miss the target.
    private static let arrivals = Atomic<Int>(0)
    private static let target: (name: String, arrival: Int)? = {
        guard let raw = getenv("THRESH_KILL_AT") else { return nil }
        let value = String(cString: raw)
        let parts = value.split(separator: "#", maxSplits: 1)
        guard let name = parts.first else { return nil }
        return (String(name), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()

    /// Kills the process with SIGKILL if the test asked to stop at `point`.
    @inline(__always)
    public static func reach(_ point: @autoclosure () -> String) {
        guard let target else { return }
        guard point() == target.name else { return }
        if arrivals.wrappingAdd(1, ordering: .relaxed).newValue == target.arrival { kill(getpid(), SIGKILL) }
    }
}
