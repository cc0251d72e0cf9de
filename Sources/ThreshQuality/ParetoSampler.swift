import Foundation
public import ThreshCore

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

    /// A uniform in (0, 1] from SHA-256 of the seed, source and id (53 bits).
    public func uniform(source: String, id: String) -> Double {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: seed.littleEndian) { bytes.append(contentsOf: $0) }
        bytes += Array(source.utf8) + [0] + Array(id.utf8)
        let digest = bytes.withUnsafeBytes { SHA256.hash($0) }
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(digest[k]) }
        return Double((v >> 11) + 1) / 9007199254740992.0  // (0, 1]
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
