/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, seedable generator. Used wherever Thresh needs a
/// reproducible stream of numbers from a seed (sample corpora, hash-function parameters, shard shuffles), so the
/// same seed gives the same bytes on every platform and Swift version (unlike the standard library's generators).
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` (modulo; the bias is irrelevant for the small `n` used here). `n < 1` counts as 1.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    /// One of `items`, which must not be empty.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
