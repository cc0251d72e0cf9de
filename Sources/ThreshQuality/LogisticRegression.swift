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
        var deviation = [Double](repeating: 0, count: numFeatures)
        for j in 0..<numFeatures where sumSquares[j] > 0 {
            let variance = denominator > 0 ? max(0, (sumSquares[j] - sum[j] * sum[j] / weightSum) / denominator) : 0
            let sd = variance.squareRoot()
            deviation[j] = sd
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
        var rowStart: [Int] = [0], column: [Int32] = [], value: [Double] = [], labels: [Double] = [], weights: [Double] = []
        let inMemory = nonZeros * 12 <= memoryBudget
        if inMemory {
            column.reserveCapacity(nonZeros)
            value.reserveCapacity(nonZeros)
            try data.forEach { e in
                for (t, i) in e.indices.enumerated() {
                    let c = compact[Int(i)]
                    if c >= 0 { column.append(c); value.append(e.values[t] * compactScale[Int(c)]) }
                }
                rowStart.append(column.count)
                labels.append(e.label)
                weights.append(e.weight)
            }
        }

        // Loss and gradient of the smooth part, in the standardised, compacted space.
        func evaluate(_ x: [Double], _ gradient: inout [Double]) throws -> Double {
            for j in 0..<n { gradient[j] = 0 }
            var loss = 0.0
            let b = options.fitIntercept ? x[k] : 0
            if inMemory {
                x.withUnsafeBufferPointer { x in
                    gradient.withUnsafeMutableBufferPointer { g in
                        column.withUnsafeBufferPointer { column in
                            value.withUnsafeBufferPointer { value in
                                for r in 0..<labels.count {
                                    var margin = b
                                    for t in rowStart[r]..<rowStart[r + 1] { margin += value[t] * x[Int(column[t])] }
                                    let lossTerm = margin > 0 ? margin + log1p(exp(-margin)) : log1p(exp(margin))
                                    loss += weights[r] * (lossTerm - labels[r] * margin)
                                    let multiplier = weights[r] * (1 / (1 + exp(-margin)) - labels[r])
                                    for t in rowStart[r]..<rowStart[r + 1] { g[Int(column[t])] += multiplier * value[t] }
                                    if options.fitIntercept { g[k] += multiplier }
                                }
                            }
                        }
                    }
                }
            } else { try data.forEach { e in
                var margin = b
                for (t, i) in e.indices.enumerated() {
                    let c = Int(compact[Int(i)])
                    if c >= 0 { margin += e.values[t] * compactScale[c] * x[c] }
                }
                // log(1 + e^m) − y m, computed stably.
                let lossTerm = margin > 0 ? margin + log1p(exp(-margin)) : log1p(exp(margin))
                loss += e.weight * (lossTerm - e.label * margin)
                let multiplier = e.weight * (1 / (1 + exp(-margin)) - e.label)
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

        let history = try minimise(&x, dimension: n, penaltyL1: l1, frozen: { j in j == k && !options.fitIntercept },
                                   options: options, evaluate: evaluate, progress: progress)
        var coefficients: [Int: Double] = [:]
        for (c, j) in active.enumerated() where x[c] != 0 { coefficients[j] = x[c] * compactScale[c] }
        let intercept = options.fitIntercept ? x[k] : 0
        _ = deviation
        return (LogisticModel(intercept: intercept, coefficients: coefficients, numFeatures: numFeatures), history)
    }

    public enum TrainingError: Error, CustomStringConvertible {
        case noData
        public var description: String { "no training examples" }
    }

    /// L-BFGS, or OWL-QN (Andrew & Gao 2007) when `penaltyL1 > 0`. Stops after `maxIter` iterations, or when
    /// the objective's relative improvement falls below `tol` (as breeze's minimiser that Spark uses).
    static func minimise(_ x: inout [Double], dimension n: Int, penaltyL1: Double, frozen: (Int) -> Bool,
                         options: LogisticRegressionOptions,
                         evaluate: ([Double], inout [Double]) throws -> Double,
                         progress: ((Int, Double) -> Void)?) throws -> TrainingHistory {
        let memory = 10
        var history = TrainingHistory()
        var gradient = [Double](repeating: 0, count: n)
        var loss = try evaluate(x, &gradient)
        func l1Norm(_ v: [Double]) -> Double {
            var s = 0.0
            for j in 0..<(n - 1) { s += abs(v[j]) }
            return s
        }
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

        for iteration in 1...max(1, options.maxIter) {
            var pg = pseudoGradient(x, gradient)
            for j in 0..<n where frozen(j) { pg[j] = 0 }
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
                let gamma = Vector.dot(s, y) / Vector.dot(y, y)
                for j in 0..<n { q[j] *= gamma }
            } else {
                for j in 0..<n { q[j] /= max(gradientNorm, 1) }
            }
            for k in 0..<sList.count {
                let beta = Vector.dot(yList[k], q) * rhoList[k]
                Vector.addScaled(&q, alphas[k] - beta, sList[k])
            }
            var direction = q.map { -$0 }
            if penaltyL1 > 0 {
                // Keep the direction in the orthant the pseudo-gradient descends into.
                for j in 0..<(n - 1) where direction[j] * pg[j] >= 0 { direction[j] = 0 }
            }
            var slope = Vector.dot(direction, pg)
            if slope >= 0 {
                // Not a descent direction (curvature memory gone stale): restart from steepest descent.
                sList.removeAll(); yList.removeAll(); rhoList.removeAll()
                direction = pg.map { -$0 / max(gradientNorm, 1) }
                slope = Vector.dot(direction, pg)
            }

            // Backtracking line search (Armijo), projecting onto the orthant for OWL-QN.
            var step = 1.0
            var candidate = x
            var candidateGradient = gradient
            var candidateLoss = loss
            var candidateObjective = objective
            var accepted = false
            for _ in 0..<40 {
                for j in 0..<n {
                    var v = x[j] + step * direction[j]
                    if penaltyL1 > 0 && j < n - 1 {
                        let orthant = x[j] != 0 ? (x[j] > 0 ? 1.0 : -1.0) : (pg[j] < 0 ? 1.0 : (pg[j] > 0 ? -1.0 : 0))
                        if v * orthant <= 0 { v = 0 }
                    }
                    candidate[j] = frozen(j) ? 0 : v
                }
                candidateLoss = try evaluate(candidate, &candidateGradient)
                candidateObjective = candidateLoss + penaltyL1 * l1Norm(candidate)
                var decrease = 0.0
                for j in 0..<n { decrease += (candidate[j] - x[j]) * pg[j] }
                if candidateObjective <= objective + 1e-4 * decrease { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }

            var s = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
            var sy = 0.0
            for j in 0..<n {
                s[j] = candidate[j] - x[j]
                y[j] = candidateGradient[j] - gradient[j]
                sy += s[j] * y[j]
            }
            if sy > 1e-16 {
                sList.append(s); yList.append(y); rhoList.append(1 / sy)
                if sList.count > memory { sList.removeFirst(); yList.removeFirst(); rhoList.removeFirst() }
            }
            let previous = objective
            x = candidate
            gradient = candidateGradient
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

    /// y += a·x
    static func addScaled(_ y: inout [Double], _ a: Double, _ x: [Double]) {
        x.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { y in
                for j in 0..<min(x.count, y.count) { y[j] += a * x[j] }
            }
        }
    }
}
