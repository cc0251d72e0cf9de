/// `java.util.Random`, exactly: Spark's `MinHashLSH` draws its coefficients from it.
public struct JavaRandom: Sendable {
    private var state: Int64

    public init(seed: Int64) { state = (seed ^ 0x5_DEEC_E66D) & ((1 << 48) - 1) }

    public mutating func next(_ bits: Int) -> Int32 {
        state = (state &* 0x5_DEEC_E66D &+ 0xB) & ((1 << 48) - 1)
        return Int32(truncatingIfNeeded: state >> (48 - bits))
    }

    /// `nextInt(bound)`, with Java's rejection of the biased tail.
    public mutating func nextInt(_ bound: Int32) -> Int32 {
        precondition(bound > 0)
        if bound & -bound == bound { return Int32((Int64(bound) * Int64(next(31))) >> 31) }
        while true {
            let u = next(31)
            let r = u % bound
            // Java accepts when u − r + (bound − 1) does not overflow Int32.
            if Int64(u) - Int64(r) + Int64(bound) - 1 < Int64(Int32.max) + 1 { return r }
        }
    }
}

/// Spark ML's `MinHashLSH` hash family (SEMANTICS.md §3): for table t, `h_t(S) = min_{i∈S} ((1+i)·a_t + b_t) mod p`
/// with p = 2038074743 and (a_t, b_t) drawn table by table from `java.util.Random(seed)`: a = 1 + nextInt(p−1),
/// then b = nextInt(p−1).
public struct SparkMinHash: Sendable, Equatable {
    public static let prime: Int64 = 2_038_074_743
    /// Spark's default seed, `"org.apache.spark.ml.feature.MinHashLSH".hashCode`.
    public static let scalaDefaultSeed: Int64 = 328_749_633

    public let coefficients: [(a: Int64, b: Int64)]

    public init(tables: Int, seed: Int64) {
        var random = JavaRandom(seed: seed)
        var c: [(Int64, Int64)] = []
        for _ in 0..<tables {
            let a = 1 + Int64(random.nextInt(Int32(Self.prime - 1)))
            let b = Int64(random.nextInt(Int32(Self.prime - 1)))
            c.append((a, b))
        }
        coefficients = c
    }

    /// The hash values of a set of feature indices (non-empty; Spark fails on empty vectors).
    public func hashes(_ indices: some Sequence<Int>) -> [Int64] {
        var minimum = [Int64](repeating: Int64.max, count: coefficients.count)
        for i in indices {
            let x = 1 + Int64(i)
            for (t, c) in coefficients.enumerated() {
                let h = (x &* c.a &+ c.b) % Self.prime
                if h < minimum[t] { minimum[t] = h }
            }
        }
        return minimum
    }

    public static func == (l: SparkMinHash, r: SparkMinHash) -> Bool {
        l.coefficients.count == r.coefficients.count && zip(l.coefficients, r.coefficients).allSatisfy { $0.a == $1.a && $0.b == $1.b }
    }

    /// Spark's `keyDistance`: `1 − |A∩B| / |A∪B|`, computed in exactly this form (the boundary cases depend on it).
    public static func jaccardDistance(_ a: [Int], _ b: [Int]) -> Double {
        // Both sorted and unique.
        var i = 0, j = 0, intersection = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] { intersection += 1; i += 1; j += 1 } else if a[i] < b[j] { i += 1 } else { j += 1 }
        }
        let union = a.count + b.count - intersection
        if union == 0 { return 0 }
        return 1 - (Double(intersection) / Double(union))
    }

    /// Spark's `approxSimilarityJoin(df, df, threshold)` as unordered pairs (a < b): candidates are pairs with an
    /// equal hash in the same table, kept when their exact Jaccard distance is strictly below `threshold`.
    public func selfJoin(_ sets: [[Int]], threshold: Double) -> [(a: Int, b: Int, distance: Double)] {
        let signatures = sets.map { hashes($0) }
        var candidates = Set<Int64>()
        for t in 0..<coefficients.count {
            var buckets: [Int64: [Int]] = [:]
            for (d, s) in signatures.enumerated() { buckets[s[t], default: []].append(d) }
            for (_, members) in buckets where members.count > 1 {
                for x in 0..<members.count { for y in (x + 1)..<members.count { candidates.insert(Int64(members[x]) << 32 | Int64(members[y])) } }
            }
        }
        var pairs: [(Int, Int, Double)] = []
        for c in candidates {
            let a = Int(c >> 32), b = Int(c & 0xFFFF_FFFF)
            let distance = Self.jaccardDistance(sets[a], sets[b])
            if distance < threshold { pairs.append((a, b, distance)) }
        }
        return pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }
}
