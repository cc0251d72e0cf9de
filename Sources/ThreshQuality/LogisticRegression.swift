import Foundation

/// One training example: sparse features, label (0 or 1), instance weight.
public struct TrainingExample: Sendable {
    public var indices: [Int32]
    public var values: [Double]
    public var label: Double
    public var weight: Double

    public init(indices: [Int32], values: [Double], label: Double, weight: Double = 1) {
        self.indices = indices
        self.values = values
        self.label = label
        self.weight = weight
    }
}

/// Training data read in passes (memory, or an on-disk feature cache for corpora larger than memory).
public protocol ExampleSource {
    /// Calls `body` with every example, in a fixed order.
    func forEach(_ body: (TrainingExample) throws -> Void) throws
}

/// Examples held in memory.
public struct InMemoryExamples: ExampleSource {
    public var examples: [TrainingExample]
    public init(_ examples: [TrainingExample]) { self.examples = examples }
    public func forEach(_ body: (TrainingExample) throws -> Void) throws { for e in examples { try body(e) } }
}

/// Parameters of Spark's binary `LogisticRegression`, with Spark's defaults.
public struct LogisticRegressionOptions: Sendable, Codable, Equatable {
    public var regParam = 0.0
    public var elasticNetParam = 0.0
    public var maxIter = 100
    public var tol = 1e-6
    public var fitIntercept = true
    public var standardization = true

    public init() {}
}

/// What training did: iterations and the objective after each.
public struct TrainingHistory: Sendable, Codable {
    public var iterations = 0
    public var objective: [Double] = []
}

/// Binary logistic regression with the objective of Spark ML (SEMANTICS.md §4):
/// `(1/Σω) Σ ω_i [log(1+e^{m_i}) − y_i m_i] + λ[(1−α)/2 Σ (s_j w_j)² + α Σ |s_j w_j|]`, where `s_j` is the
/// feature's sample standard deviation with `standardization` (else 1) and the intercept is not penalised.
///
/// It is minimised in the standardised space by L-BFGS (m = 10), or by OWL-QN when the L1 part is non-zero,
/// starting from w = 0 and b = log(p̂/(1−p̂)), as Spark does. Each iteration is one pass over the examples,
/// so the data can live on disk. Memory: a few vectors of `numFeatures` doubles.
public enum LogisticRegressionTrainer {
    /// - Parameter memoryBudget: bytes the compacted training matrix may take in memory (above, passes stream).
    public static func train(_ data: some ExampleSource, numFeatures: Int, options: LogisticRegressionOptions,
                             memoryBudget: Int = 1 << 30,
                             progress: ((Int, Double) -> Void)? = nil) throws -> (model: LogisticModel, history: TrainingHistory) {
        // Pass 1: weights, label balance, per-feature mean and standard deviation.
        var weightSum = 0.0, weightSquareSum = 0.0, positive = 0.0
        var nonZeros = 0
        var sum = [Double](repeating: 0, count: numFeatures)
        var sumSquares = [Double](repeating: 0, count: numFeatures)
        try data.forEach { e in
            weightSum += e.weight
            weightSquareSum += e.weight * e.weight
            positive += e.weight * e.label
            nonZeros += e.indices.count
            for (k, i) in e.indices.enumerated() {
                let v = e.values[k] * e.weight
                sum[Int(i)] += v
                sumSquares[Int(i)] += v * e.values[k]
            }
        }
        guard weightSum > 0 else { throw TrainingError.noData }
        // Spark's unbiased weighted variance: (Σw x² − (Σw x)²/Σw) / (Σw − Σw²/Σw).
        let denominator = weightSum - weightSquareSum / weightSum
        var scale = [Double](repeating: 0, count: numFeatures)  // 1/σ_j in the standardised space (0: unused)
        for j in 0..<numFeatures where sumSquares[j] > 0 {
            let variance = denominator > 0 ? max(0, (sumSquares[j] - sum[j] * sum[j] / weightSum) / denominator) : 0
            let sd = variance.squareRoot()
            if sd > 0 { scale[j] = options.standardization ? 1 / sd : 1 }
        }
        let p = positive / weightSum
        if p == 0 || p == 1 {
            // All labels equal: Spark returns zero coefficients and an infinite intercept.
            return (LogisticModel(intercept: p == 1 ? .infinity : -.infinity, coefficients: [:], numFeatures: numFeatures), TrainingHistory())
        }

        let l2 = options.regParam * (1 - options.elasticNetParam)
        let l1 = options.regParam * options.elasticNetParam
        // Only features that occur (σ_j > 0) take part: optimise over those, compacted, which makes every vector
        // operation of the optimiser proportional to the vocabulary seen, not to numFeatures.
        var compact = [Int32](repeating: -1, count: numFeatures)
        var active: [Int] = []
        for j in 0..<numFeatures where scale[j] > 0 {
            compact[j] = Int32(active.count)
            active.append(j)
        }
        let k = active.count
        let n = k + 1  // the last slot is the intercept
        var compactScale = [Double](repeating: 0, count: k)
        for (c, j) in active.enumerated() { compactScale[c] = scale[j] }
        var x = [Double](repeating: 0, count: n)
        if options.fitIntercept { x[k] = log(p / (1 - p)) }

        // When the examples fit the memory budget, they are compacted and scaled once into flat arrays (CSR), and
        // every pass runs over those; otherwise each pass streams from the source.
        let inMemory = nonZeros * 12 <= memoryBudget
        var matrix = CompactMatrix()
        if inMemory {
            matrix.column.reserveCapacity(nonZeros)
            matrix.value.reserveCapacity(nonZeros)
            try data.forEach { e in
                for (t, i) in e.indices.enumerated() {
                    let c = compact[Int(i)]
                    if c >= 0 { matrix.column.append(c); matrix.value.append(e.values[t] * compactScale[Int(c)]) }
                }
                matrix.rowStart.append(matrix.column.count)
                matrix.labels.append(e.label)
                matrix.weights.append(e.weight)
            }
        }
        let rows = matrix  // immutable from here: the closure below reads it without access checks

        // Loss and gradient of the smooth part, in the standardised, compacted space.
        func evaluate(_ x: [Double], _ gradient: inout [Double]) throws -> Double {
            for j in 0..<n { gradient[j] = 0 }
            var loss = 0.0
            let b = options.fitIntercept ? x[k] : 0
            if inMemory {
                loss = rows.accumulate(x, &gradient, intercept: b, fitIntercept: options.fitIntercept, interceptSlot: k)
            } else { try data.forEach { e in
                var margin = b
                for (t, i) in e.indices.enumerated() {
                    let c = Int(compact[Int(i)])
                    if c >= 0 { margin += e.values[t] * compactScale[c] * x[c] }
                }
                let (lossTerm, probability) = Self.logistic(margin)
                loss += e.weight * (lossTerm - e.label * margin)
                let multiplier = e.weight * (probability - e.label)
                for (t, i) in e.indices.enumerated() {
                    let c = Int(compact[Int(i)])
                    if c >= 0 { gradient[c] += multiplier * e.values[t] * compactScale[c] }
                }
                if options.fitIntercept { gradient[k] += multiplier }
            } }
            loss /= weightSum
            for j in 0..<n { gradient[j] /= weightSum }
            if l2 > 0 {
                for j in 0..<k {
                    loss += 0.5 * l2 * x[j] * x[j]
                    gradient[j] += l2 * x[j]
                }
            }
            return loss
        }

        let history = try minimise(&x, dimension: n, penaltyL1: l1, frozen: options.fitIntercept ? nil : k,
                                   options: options, evaluate: evaluate, progress: progress)
        var coefficients: [Int: Double] = [:]
        for (c, j) in active.enumerated() where x[c] != 0 { coefficients[j] = x[c] * compactScale[c] }
        let intercept = options.fitIntercept ? x[k] : 0
        return (LogisticModel(intercept: intercept, coefficients: coefficients, numFeatures: numFeatures), history)
    }

    /// `log(1 + e^m)` and the sigmoid `1 / (1 + e^−m)`, computed stably from one exponential of `−|m|`.
    @inline(__always)
    static func logistic(_ margin: Double) -> (loss: Double, probability: Double) {
        let e = exp(-abs(margin))
        let loss = (margin > 0 ? margin : 0) + log1p(e)
        let probability = margin > 0 ? 1 / (1 + e) : e / (1 + e)
        return (loss, probability)
    }

    /// The training examples compacted and scaled, in compressed sparse rows.
    struct CompactMatrix {
        var rowStart: [Int] = [0]
        var column: [Int32] = []
        var value: [Double] = []
        var labels: [Double] = []
        var weights: [Double] = []

        /// Adds every row's weighted loss gradient into `gradient`; returns the summed weighted loss.
        func accumulate(_ x: [Double], _ gradient: inout [Double], intercept b: Double, fitIntercept: Bool, interceptSlot k: Int) -> Double {
            var loss = 0.0
            x.withUnsafeBufferPointer { x in
                gradient.withUnsafeMutableBufferPointer { g in
                    column.withUnsafeBufferPointer { column in
                        value.withUnsafeBufferPointer { value in
                            rowStart.withUnsafeBufferPointer { rowStart in
                                for r in 0..<labels.count {
                                    let start = rowStart[r], end = rowStart[r + 1]
                                    var margin = b
                                    for t in start..<end { margin += value[t] * x[Int(column[t])] }
                                    let (lossTerm, probability) = LogisticRegressionTrainer.logistic(margin)
                                    loss += weights[r] * (lossTerm - labels[r] * margin)
                                    let multiplier = weights[r] * (probability - labels[r])
                                    for t in start..<end { g[Int(column[t])] += multiplier * value[t] }
                                    if fitIntercept { g[k] += multiplier }
                                }
                            }
                        }
                    }
                }
            }
            return loss
        }
    }

    public enum TrainingError: Error, CustomStringConvertible {
        case noData
        public var description: String { "no training examples" }
    }

    /// L-BFGS, or OWL-QN (Andrew & Gao 2007) when `penaltyL1 > 0`. Stops after `maxIter` iterations, or when
    /// the objective's relative improvement falls below `tol` (as breeze's minimiser that Spark uses).
    /// - Parameter frozen: a coordinate held at 0 (the intercept when it is not fitted), if any.
    static func minimise(_ x: inout [Double], dimension n: Int, penaltyL1: Double, frozen: Int?,
                         options: LogisticRegressionOptions,
                         evaluate: ([Double], inout [Double]) throws -> Double,
                         progress: ((Int, Double) -> Void)?) throws -> TrainingHistory {
        let memory = 10
        var history = TrainingHistory()
        var gradient = [Double](repeating: 0, count: n)
        var loss = try evaluate(x, &gradient)
        // The last coordinate (the intercept) is not penalised.
        func l1Norm(_ v: [Double]) -> Double { penaltyL1 > 0 ? Vector.absoluteSum(v, count: n - 1) : 0 }
        var objective = loss + penaltyL1 * l1Norm(x)
        history.objective.append(objective)
        var sList: [[Double]] = [], yList: [[Double]] = [], rhoList: [Double] = []

        // The pseudo-gradient of OWL-QN (the gradient itself without L1); the intercept is not penalised.
        func pseudoGradient(_ x: [Double], _ g: [Double]) -> [Double] {
            guard penaltyL1 > 0 else { return g }
            var pg = g
            for j in 0..<(n - 1) {
                if x[j] > 0 { pg[j] = g[j] + penaltyL1 }
                else if x[j] < 0 { pg[j] = g[j] - penaltyL1 }
                else if g[j] + penaltyL1 < 0 { pg[j] = g[j] + penaltyL1 }
                else if g[j] - penaltyL1 > 0 { pg[j] = g[j] - penaltyL1 }
                else { pg[j] = 0 }
            }
            return pg
        }

        var candidate = x
        var candidateGradient = gradient
        for iteration in 1...max(1, options.maxIter) {
            var pg = pseudoGradient(x, gradient)
            if let frozen { pg[frozen] = 0 }
            let gradientNorm = Vector.dot(pg, pg).squareRoot()
            if gradientNorm < 1e-12 { break }

            // Two-loop recursion: direction = −H·pg.
            var q = pg
            var alphas = [Double](repeating: 0, count: sList.count)
            for k in stride(from: sList.count - 1, through: 0, by: -1) {
                let a = Vector.dot(sList[k], q) * rhoList[k]
                alphas[k] = a
                Vector.addScaled(&q, -a, yList[k])
            }
            if let s = sList.last, let y = yList.last {
                Vector.scale(&q, by: Vector.dot(s, y) / Vector.dot(y, y))
            } else {
                Vector.scale(&q, by: 1 / max(gradientNorm, 1))
            }
            for k in 0..<sList.count {
                let beta = Vector.dot(yList[k], q) * rhoList[k]
                Vector.addScaled(&q, alphas[k] - beta, sList[k])
            }
            var direction = q
            Vector.scale(&direction, by: -1)
            if penaltyL1 > 0 {
                // Keep the direction in the orthant the pseudo-gradient descends into.
                for j in 0..<(n - 1) where direction[j] * pg[j] >= 0 { direction[j] = 0 }
            }
            var slope = Vector.dot(direction, pg)
            if slope >= 0 {
                // Not a descent direction (curvature memory gone stale): restart from steepest descent.
                sList.removeAll(); yList.removeAll(); rhoList.removeAll()
                direction = pg
                Vector.scale(&direction, by: -1 / max(gradientNorm, 1))
                slope = Vector.dot(direction, pg)
            }

            // Backtracking line search (Armijo), projecting onto the orthant for OWL-QN.
            var step = 1.0
            var candidateLoss = loss
            var candidateObjective = objective
            var accepted = false
            for _ in 0..<40 {
                if penaltyL1 > 0 {
                    for j in 0..<n {
                        var v = x[j] + step * direction[j]
                        if j < n - 1 {
                            let orthant = x[j] != 0 ? (x[j] > 0 ? 1.0 : -1.0) : (pg[j] < 0 ? 1.0 : (pg[j] > 0 ? -1.0 : 0))
                            if v * orthant <= 0 { v = 0 }
                        }
                        candidate[j] = v
                    }
                } else {
                    Vector.step(&candidate, from: x, by: step, along: direction)
                }
                if let frozen { candidate[frozen] = 0 }
                candidateLoss = try evaluate(candidate, &candidateGradient)
                candidateObjective = candidateLoss + penaltyL1 * l1Norm(candidate)
                let decrease = Vector.differenceDot(candidate, x, pg)
                if candidateObjective <= objective + 1e-4 * decrease { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }

            var s = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
            let sy = Vector.differences(&s, candidate, x, &y, candidateGradient, gradient)
            if sy > 1e-16 {
                sList.append(s); yList.append(y); rhoList.append(1 / sy)
                if sList.count > memory { sList.removeFirst(); yList.removeFirst(); rhoList.removeFirst() }
            }
            let previous = objective
            swap(&x, &candidate)
            swap(&gradient, &candidateGradient)
            loss = candidateLoss
            objective = candidateObjective
            history.iterations = iteration
            history.objective.append(objective)
            progress?(iteration, objective)
            // Breeze's Strong-Wolfe L-BFGS (Spark's optimiser) is within about 1e-6 of the optimum when it
            // stops at `tol`; this backtracking line search gains less per iteration, so it asks for 1e-5 of
            // `tol` in relative improvement before stopping, which lands at least as close to the optimum as
            // Spark does (checked against logreg.json). `maxIter` still caps the work.
            if abs(previous - objective) / max(abs(objective), 1e-12) < options.tol * 1e-5 { break }
        }
        return history
    }
}

/// Dense vector kernels for the optimiser. Sums run in four interleaved partial sums: a single running sum is a
/// chain of dependent additions that leaves the core idle most of each cycle. (The order of additions is fixed,
/// so results are the same on every run and machine.)
enum Vector {
    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                let n = min(a.count, b.count)
                var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                var j = 0
                while j + 4 <= n {
                    s0 += a[j] * b[j]; s1 += a[j + 1] * b[j + 1]; s2 += a[j + 2] * b[j + 2]; s3 += a[j + 3] * b[j + 3]
                    j += 4
                }
                while j < n { s0 += a[j] * b[j]; j += 1 }
                return (s0 + s1) + (s2 + s3)
            }
        }
    }

    /// v *= a
    static func scale(_ v: inout [Double], by a: Double) {
        v.withUnsafeMutableBufferPointer { v in for j in v.indices { v[j] *= a } }
    }

    /// Σ |v_j| over the first `count` entries.
    static func absoluteSum(_ v: [Double], count: Int) -> Double {
        v.withUnsafeBufferPointer { v in
            var s = 0.0
            for j in 0..<min(count, v.count) { s += abs(v[j]) }
            return s
        }
    }

    /// out = x + step·d
    static func step(_ out: inout [Double], from x: [Double], by step: Double, along d: [Double]) {
        x.withUnsafeBufferPointer { x in
            d.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { out in
                    for j in 0..<min(out.count, x.count, d.count) { out[j] = x[j] + step * d[j] }
                }
            }
        }
    }

    /// Σ (a_j − b_j) c_j, summed in order.
    static func differenceDot(_ a: [Double], _ b: [Double], _ c: [Double]) -> Double {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeBufferPointer { c in
                    var s = 0.0
                    for j in 0..<min(a.count, b.count, c.count) { s += (a[j] - b[j]) * c[j] }
                    return s
                }
            }
        }
    }

    /// s = x1 − x0, y = g1 − g0; returns Σ s_j y_j (summed in order).
    static func differences(_ s: inout [Double], _ x1: [Double], _ x0: [Double],
                            _ y: inout [Double], _ g1: [Double], _ g0: [Double]) -> Double {
        var sy = 0.0
        s.withUnsafeMutableBufferPointer { s in
            y.withUnsafeMutableBufferPointer { y in
                x1.withUnsafeBufferPointer { x1 in
                    x0.withUnsafeBufferPointer { x0 in
                        g1.withUnsafeBufferPointer { g1 in
                            g0.withUnsafeBufferPointer { g0 in
                                for j in 0..<s.count {
                                    s[j] = x1[j] - x0[j]
                                    y[j] = g1[j] - g0[j]
                                    sy += s[j] * y[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        return sy
    }

    /// y += a·x
    static func addScaled(_ y: inout [Double], _ a: Double, _ x: [Double]) {
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                for j in 0..<min(x.count, y.count) { y[j] += a * x[j] }
            }
        }
    }
}
