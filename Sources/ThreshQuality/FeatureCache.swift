#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO

/// A compact on-disk cache of hashed examples, so training can make many passes over corpora larger than
/// memory without tokenising again: per example, label (Float32), weight (Float32), term count (UInt32), then
/// (index UInt32, value Float32) pairs, little-endian.
public final class FeatureCache: ExampleSource {
    public let path: String
    private var output: OutputFile?
    private var buffer: [UInt8] = []
    /// Examples written.
    public private(set) var count = 0
    /// Weight per label (0, 1).
    public private(set) var labelWeights: [Double] = [0, 0]

    /// Creates (overwrites) a cache file.
    public init(path: String) throws {
        self.path = path
        output = try OutputFile(path: path, compression: .none)
    }

    /// Opens a finished cache file for reading (its label weights are counted in a first pass).
    public init(existing path: String) throws {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else { throw ThreshError(.io, "cannot open: \(errnoString())", file: path) }
        bytesWritten = Int(info.st_size)
        let reader = try Reader(path: path)
        while let e = try reader.next() {
            count += 1
            labelWeights[e.label > 0.5 ? 1 : 0] += e.weight
        }
    }

    /// The size of the cache file in bytes.
    public var byteCount: Int { bytesWritten }

    /// Appends an example.
    public func append(_ e: TrainingExample) throws {
        buffer.removeAll(keepingCapacity: true)
        func put32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
        put32(Float(e.label).bitPattern)
        put32(Float(e.weight).bitPattern)
        put32(UInt32(e.indices.count))
        for (k, i) in e.indices.enumerated() {
            put32(UInt32(i))
            put32(Float(e.values[k]).bitPattern)
        }
        try output?.write(buffer)
        bytesWritten += buffer.count
        count += 1
        labelWeights[e.label > 0.5 ? 1 : 0] += e.weight
    }

    /// Finishes writing (the file is renamed into place).
    public func close() throws {
        try output?.close()
        output = nil
    }

    /// Examples held in memory after the first pass, when the cache is small enough (see `memoryBudget`).
    private var loaded: [TrainingExample]?
    /// Caches up to this many bytes are read into memory once; larger ones are streamed from disk on every pass.
    public var memoryBudget = 1 << 30
    private var bytesWritten = 0

    /// Reads every example, in order.
    public func forEach(_ body: (TrainingExample) throws -> Void) throws {
        if let loaded {
            for e in loaded { try body(e) }
            return
        }
        if bytesWritten <= memoryBudget / 4 {
            // Decoded examples take about four times the cached bytes.
            var all: [TrainingExample] = []
            try stream { all.append($0) }
            loaded = all
            for e in all { try body(e) }
            return
        }
        try stream(body)
    }

    private func stream(_ body: (TrainingExample) throws -> Void) throws {
        let reader = try Reader(path: path)
        while let e = try reader.next() { try body(e) }
    }

    /// Reads a cache file's examples one at a time, in order.
    public final class Reader {
        private let reader: DecompressingReader
        private let path: String
        private var pending: [UInt8] = []
        private var position = 0
        private var chunk = [UInt8](repeating: 0, count: 1 << 20)
        private var eof = false
        private var example = TrainingExample(indices: [], values: [], label: 0)

        public init(path: String) throws {
            self.path = path
            reader = try DecompressingReader(path: path)
        }

        private func fill(_ needed: Int) throws -> Bool {
            while pending.count - position < needed && !eof {
                if position > 0 { pending.removeFirst(position); position = 0 }
                let n = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
                if n == 0 { eof = true } else { pending += chunk[0..<n] }
            }
            return pending.count - position >= needed
        }

        private func get32() -> UInt32 {
            let v = pending.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: UInt32.self) }
            position += 4
            return UInt32(littleEndian: v)
        }

        /// The next example, or nil at the end of the file.
        public func next() throws -> TrainingExample? {
            guard try fill(12) else {
                if pending.count > position { throw ThreshError(.io, "feature cache cut short", file: path) }
                return nil
            }
            example.label = Double(Float(bitPattern: get32()))
            example.weight = Double(Float(bitPattern: get32()))
            let terms = Int(get32())
            guard try fill(terms * 8) else { throw ThreshError(.io, "feature cache cut short", file: path) }
            example.indices.removeAll(keepingCapacity: true)
            example.values.removeAll(keepingCapacity: true)
            for _ in 0..<terms {
                example.indices.append(Int32(bitPattern: get32()))
                example.values.append(Double(Float(bitPattern: get32())))
            }
            return example
        }
    }

    /// Rewrites the weights in a pass (for class balancing by weight).
    public func reweighted(_ weightForLabel: @escaping (Double) -> Double) -> some ExampleSource {
        ReweightedExamples(base: self, weight: weightForLabel)
    }
}

/// Examples of another source with each weight multiplied by a factor of its label.
struct ReweightedExamples<Base: ExampleSource>: ExampleSource {
    let base: Base
    let weight: (Double) -> Double
    func forEach(_ body: (TrainingExample) throws -> Void) throws {
        try base.forEach { e in
            var e = e
            e.weight *= weight(e.label)
            try body(e)
        }
    }
}

/// Several feature caches read as one, in order. When they are small enough together (a quarter of
/// `memoryBudget`, as one cache), each is held in memory after the first pass; otherwise every pass streams them.
public final class ChainedFeatureCaches: ExampleSource {
    public let parts: [FeatureCache]

    public init(_ parts: [FeatureCache], memoryBudget: Int = 1 << 30) {
        self.parts = parts
        let total = parts.reduce(0) { $0 + $1.byteCount }
        if total > memoryBudget / 4 { for p in parts { p.memoryBudget = 0 } }
    }

    /// Weight per label (0, 1), over all parts.
    public var labelWeights: [Double] { parts.reduce([0, 0]) { [$0[0] + $1.labelWeights[0], $0[1] + $1.labelWeights[1]] } }

    public func forEach(_ body: (TrainingExample) throws -> Void) throws {
        for p in parts { try p.forEach(body) }
    }

    /// Rewrites the weights in a pass (for class balancing by weight).
    public func reweighted(_ weightForLabel: @escaping (Double) -> Double) -> some ExampleSource {
        ReweightedExamples(base: self, weight: weightForLabel)
    }
}

/// Binary classification metrics over (score, label) pairs.
public struct ClassificationMetrics: Sendable {
    public var auc: Double
    public var logLoss: Double
    public var precision: Double
    public var recall: Double
    public var accuracy: Double
    public var count: Int
    /// ROC curve points (false positive rate, true positive rate), at most ~100.
    public var roc: [(Double, Double)]

    public init(scores: [Double], labels: [Double]) {
        count = scores.count
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let positives = labels.filter { $0 > 0.5 }.count
        let negatives = labels.count - positives
        // AUC by the rank-sum statistic, ties counted half.
        var auc = 0.0
        var tp = 0.0, fp = 0.0
        var i = 0
        var points: [(Double, Double)] = [(0, 0)]
        while i < order.count {
            var j = i
            var tiePositive = 0.0, tieNegative = 0.0
            while j < order.count && scores[order[j]] == scores[order[i]] {
                if labels[order[j]] > 0.5 { tiePositive += 1 } else { tieNegative += 1 }
                j += 1
            }
            auc += tieNegative * (tp + tiePositive / 2)
            tp += tiePositive
            fp += tieNegative
            points.append((negatives > 0 ? fp / Double(negatives) : 0, positives > 0 ? tp / Double(positives) : 0))
            i = j
        }
        self.auc = positives > 0 && negatives > 0 ? auc / (Double(positives) * Double(negatives)) : .nan
        let stride = max(1, points.count / 100)
        roc = points.enumerated().filter { $0.offset % stride == 0 || $0.offset == points.count - 1 }.map(\.element)
        var loss = 0.0, truePositive = 0.0, predictedPositive = 0.0, correct = 0.0
        for (s, y) in zip(scores, labels) {
            let p = min(max(s, 1e-15), 1 - 1e-15)
            loss -= y > 0.5 ? log(p) : log(1 - p)
            if s > 0.5 { predictedPositive += 1; if y > 0.5 { truePositive += 1 } }
            if (s > 0.5) == (y > 0.5) { correct += 1 }
        }
        logLoss = scores.isEmpty ? .nan : loss / Double(scores.count)
        precision = predictedPositive > 0 ? truePositive / predictedPositive : 0
        recall = positives > 0 ? truePositive / Double(positives) : 0
        accuracy = scores.isEmpty ? .nan : correct / Double(scores.count)
    }

    public var json: JSONObject {
        ["auc": .double(auc), "log_loss": .double(logLoss), "precision_at_0.5": .double(precision),
         "recall_at_0.5": .double(recall), "accuracy_at_0.5": .double(accuracy), "documents": .int(count)]
    }
}
