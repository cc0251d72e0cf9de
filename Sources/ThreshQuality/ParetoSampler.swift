import Foundation
import ThreshCore

/// GPT-3's keep rule: keep a document when a Lomax(α) draw exceeds `1 − score` (numpy's `pareto(α)`), i.e.
/// with probability `(2 − score)^−α`. The draw comes from a uniform derived from (seed, source, id) alone, so
/// the same documents are kept whatever the order, sharding or thread count.
public struct ParetoSampler: Sendable {
    public var alpha: Double
    public var seed: UInt64

    public init(alpha: Double = 9, seed: UInt64 = 0) {
        precondition(alpha > 0, "alpha must be positive")
        self.alpha = alpha
        self.seed = seed
    }

    /// A uniform in (0, 1] from the seed, source and id alone: FNV-1a over the bytes, then two rounds of the
    /// SplitMix64 finaliser keyed by the seed (53 bits). Never Swift's `Hasher`, which is seeded per process.
    public func uniform(source: String, id: String) -> Double {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in source.utf8 { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        h = (h ^ 0xFF) &* 0x100_0000_01b3  // separator: ("ab","c") and ("a","bc") differ
        for c in id.utf8 { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        var z = h ^ seed &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2 {
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
        }
        return Double((z >> 11) + 1) / 9007199254740992.0
    }

    /// The Lomax(α) draw for a document: `U^(−1/α) − 1`, which has P(X > t) = (1 + t)^−α.
    public func draw(source: String, id: String) -> Double {
        pow(uniform(source: source, id: id), -1 / alpha) - 1
    }

    /// Whether a document with this score is kept, and its draw.
    public func decide(score: Double, source: String, id: String) -> (keep: Bool, draw: Double) {
        let x = draw(source: source, id: id)
        return (x > 1 - score, x)
    }

    /// The probability of keeping a document with this score.
    public func keepProbability(score: Double) -> Double {
        let t = 1 - score
        return t < 0 ? 1 : pow(1 + t, -alpha)
    }
}
