#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO

/// fastText's supervised training options, under fastText's names and with its supervised defaults.
public struct FastTextTrainingOptions: Sendable {
    public var dimension = 100
    public var epochs = 5
    public var learningRate = 0.1
    public var wordNgrams = 1
    public var minCount = 1
    public var minCountLabel = 0
    public var minn = 0
    public var maxn = 0
    public var bucket = 2_000_000
    public var loss = FastTextModel.Loss.softmax
    public var lrUpdateRate = 100
    public var seed = 0

    public init() {}

    /// `thresh classify train`'s options, described once (fastText's names, hyphenated).
    public static let schema = OptionsSchema("classify-train", [
        OptionSpec("input", .text, required: true, help: "training data in fastText's format: one example per line, '__label__NAME … text'"),
        OptionSpec("dim", .integer(min: 1, max: 1024), default: .integer(100), help: "size of the word vectors"),
        OptionSpec("epoch", .integer(min: 1, max: 10_000), default: .integer(5), help: "passes over the data"),
        OptionSpec("lr", .real(min: 0, max: 10, minExclusive: true), default: .real(0.1), help: "learning rate (decays linearly to 0)"),
        OptionSpec("word-ngrams", .integer(min: 1, max: 10), default: .integer(1), help: "word n-grams up to this length"),
        OptionSpec("min-count", .integer(min: 1, max: 1 << 30), default: .integer(1), help: "words seen fewer times are left out"),
        OptionSpec("min-count-label", .integer(min: 0, max: 1 << 30), default: .integer(0), help: "labels seen fewer times are left out"),
        OptionSpec("minn", .integer(min: 0, max: 20), default: .integer(0), help: "shortest character n-gram (0: none)"),
        OptionSpec("maxn", .integer(min: 0, max: 20), default: .integer(0), help: "longest character n-gram (0: none)"),
        OptionSpec("bucket", .integer(min: 0, max: 1 << 28), default: .integer(2_000_000), help: "buckets of hashed n-grams"),
        OptionSpec("loss", .choice(["softmax", "hs", "ova"]), default: .text("softmax"), help: "softmax, hierarchical softmax (hs) or one-vs-all (ova)"),
        OptionSpec("lr-update-rate", .integer(min: 1, max: 1 << 30), default: .integer(100), help: "tokens between learning-rate updates"),
        OptionSpec("seed", .integer(min: 0, max: 1 << 31 - 2), default: .integer(0), help: "seed of the initial vectors"),
    ])

    public init(_ values: OptionValues) {
        self.init()
        dimension = values.int("dim")
        epochs = values.int("epoch")
        learningRate = values.double("lr")
        wordNgrams = values.int("word-ngrams")
        minCount = values.int("min-count")
        minCountLabel = values.int("min-count-label")
        minn = values.int("minn")
        maxn = values.int("maxn")
        bucket = values.int("bucket")
        loss = ["hs": .hierarchicalSoftmax, "ova": .oneVsAll][values.string("loss")] ?? .softmax
        lrUpdateRate = values.int("lr-update-rate")
        seed = values.int("seed")
    }
}

/// fastText's supervised training on one thread (its `train` with `-thread 1`): the dictionary of words and labels,
/// vectors drawn from its generator (minstd_rand, uniform in ±1/dim), and stochastic gradient descent with a
/// linearly decaying learning rate over the examples in file order, for softmax, hierarchical softmax or one-vs-all.
/// The model is written in fastText's `.bin` format, which fastText itself loads.
///
/// Memory: the examples are held as input rows (4 bytes per word and n-gram), with the two matrices.
public enum FastTextTrainer {
    /// Trains on `input` (fastText's format) and writes the model to `output`; returns the number of examples.
    /// - Throws: `.data` naming the file when it holds no labelled example.
    @discardableResult
    public static func train(input: String, output: String, options o: FastTextTrainingOptions) throws -> Int {
        let text = try readEntireRawFile(input)
        var bucket = o.bucket
        if o.wordNgrams <= 1 && o.maxn == 0 { bucket = 0 }  // as fastText: no n-grams, no buckets
        // Dictionary: every token in order of first appearance, counted (an open-addressing table keyed by fastText's
        // hash of the token's bytes in the file); then sorted (words first, most frequent first; ties in
        // first-appearance order) and thresholded.
        var words: [(start: Int, end: Int, count: Int64, type: Int8)] = []
        var slots = [Int32](repeating: -1, count: 1 << 16)
        var ntokens: Int64 = 0
        let labelPrefix = Array("__label__".utf8)
        let eos = FastTextModel.endOfSentence
        let eosHash = FastTextModel.hash(eos[...])
        text.withUnsafeBufferPointer { t in
            func hashOf(_ start: Int, _ end: Int) -> UInt32 {
                start < 0 ? eosHash : FastTextModel.hash(UnsafeBufferPointer(rebasing: t[start..<end]))
            }
            forEachToken(t) { start, end in
                ntokens += 1
                let h = hashOf(start, end)
                var slot = Int(h) & (slots.count - 1)
                while slots[slot] != -1 {
                    let w = words[Int(slots[slot])]
                    let same = start < 0 ? w.start < 0 : (w.start >= 0 && w.end - w.start == end - start
                        && memcmp(t.baseAddress! + w.start, t.baseAddress! + start, end - start) == 0)
                    if same { words[Int(slots[slot])].count += 1; return }
                    slot = (slot + 1) & (slots.count - 1)
                }
                slots[slot] = Int32(words.count)
                let isLabel = start >= 0 && UnsafeBufferPointer(rebasing: t[start..<end]).starts(with: labelPrefix)
                words.append((start, end, 1, isLabel ? 1 : 0))
                if words.count * 2 > slots.count {
                    // Grow and reinsert.
                    var bigger = [Int32](repeating: -1, count: slots.count * 2)
                    for (i, w) in words.enumerated() {
                        let hw = hashOf(w.start, w.end)
                        var s = Int(hw) & (bigger.count - 1)
                        while bigger[s] != -1 { s = (s + 1) & (bigger.count - 1) }
                        bigger[s] = Int32(i)
                    }
                    slots = bigger
                }
            }
        }
        let order = words.indices.sorted { a, b in
            if words[a].type != words[b].type { return words[a].type < words[b].type }
            if words[a].count != words[b].count { return words[a].count > words[b].count }
            return a < b
        }
        let kept: [(word: [UInt8], count: Int64, type: Int8)] = order.map { i in
            let w = words[i]
            return (w.start < 0 ? eos : Array(text[w.start..<w.end]), w.count, w.type)
        }.filter { $0.type == 0 ? $0.count >= Int64(o.minCount) : $0.count >= Int64(o.minCountLabel) }
        let nwords = kept.filter { $0.type == 0 }.count, nlabels = kept.count - nwords
        guard nlabels > 0 else { throw ThreshError(.data, "no labelled example ('__label__NAME …' lines) to train on", file: input) }

        // The model's shape, read back from its serialised form: the loader builds the lookup table, each word's
        // n-gram rows and the hierarchical-softmax tree exactly as prediction sees them.
        let rows = nwords + bucket
        var inputMatrix = [Float](repeating: 0, count: rows * o.dimension)
        var rng = MinStdRand(seed: UInt32(o.seed))
        let bound = 1.0 / Double(o.dimension)
        for i in inputMatrix.indices { inputMatrix[i] = Float(-bound + 2 * bound * rng.canonical()) }
        var outputMatrix = [Float](repeating: 0, count: nlabels * o.dimension)
        let modelBytes = { (options: FastTextTrainingOptions, inputMatrix: [Float], outputMatrix: [Float]) in
            serialize(options: options, bucket: bucket, entries: kept, nwords: nwords, nlabels: nlabels, ntokens: ntokens,
                      input: inputMatrix, output: outputMatrix)
        }
        // (The shape does not depend on the vectors' size: it is read from a one-column model, which costs nothing.)
        var shapeOptions = o
        shapeOptions.dimension = 1
        let shape = try FastTextModel(bytes: modelBytes(shapeOptions, [Float](repeating: 0, count: rows), [Float](repeating: 0, count: nlabels)), path: output)

        // The examples, as input rows and label indices.
        var examples: [(rows: [Int32], labels: [Int32], tokens: Int)] = []
        var scratch = FastTextModel.Scratch()
        var lineStart = 0
        for end in text.indices where text[end] == 0x0A || end == text.count - 1 {
            let stop = text[end] == 0x0A ? end : end + 1
            let line = text[lineStart..<stop]
            lineStart = end + 1
            var labels: [Int32] = []
            var tokens = 1  // the line's </s>
            var from = line.startIndex
            for i in line.indices where line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D || line[i] == 0x0B || line[i] == 0x0C || line[i] == 0x00 || i == line.endIndex - 1 {
                let to = (i == line.endIndex - 1 && !(line[i] == 0x20 || line[i] == 0x09 || line[i] == 0x0D || line[i] == 0x0B || line[i] == 0x0C || line[i] == 0x00)) ? i + 1 : i
                if to > from {
                    tokens += 1
                    let token = line[from..<to]
                    if token.starts(with: labelPrefix) {
                        let id = shape.find(token, hash: FastTextModel.hash(token))
                        if id >= Int32(nwords) { labels.append(id - Int32(nwords)) }
                    }
                }
                from = i + 1
            }
            shape.rowsOfLine(line, into: &scratch)
            // An exact-size copy: storing the scratch array itself would keep its whole capacity per example.
            examples.append((scratch.rows.withUnsafeBufferPointer { Array($0) }, labels, tokens))
        }

        // Stochastic gradient descent, as fastText's trainThread on one thread.
        let dim = o.dimension
        var hiddenStore = [Float](repeating: 0, count: dim), gradStore = [Float](repeating: 0, count: dim)
        var outputs = [Float](repeating: 0, count: nlabels)
        let total = Int64(o.epochs) * ntokens
        var tokenCount: Int64 = 0, localTokenCount: Int64 = 0
        var labelRNG = MinStdRand(seed: UInt32(o.seed))
        var e = 0
        let tree = shape.tree
        inputMatrix.withUnsafeMutableBufferPointer { wi in
        outputMatrix.withUnsafeMutableBufferPointer { wo in
        hiddenStore.withUnsafeMutableBufferPointer { hidden in
        gradStore.withUnsafeMutableBufferPointer { grad in
            func binaryLogistic(_ target: Int, _ positive: Bool, _ lr: Float) {
                var d: Float = 0
                let base = target * dim
                for j in 0..<dim { d += wo[base + j] * hidden[j] }
                let alpha = lr * ((positive ? 1 : 0) - FastTextModel.sigmoidTable(d))
                addScaled(grad.baseAddress!, alpha, wo.baseAddress! + base, dim)
                addScaled(wo.baseAddress! + base, alpha, hidden.baseAddress!, dim)
            }
            while tokenCount < total {
                let progress = Float(tokenCount) / Float(total)
                let lr = Float(o.learningRate * (1.0 - Double(progress)))
                let example = examples[e]
                e = (e + 1) % examples.count
                localTokenCount += Int64(example.tokens)
                if !example.labels.isEmpty && !example.rows.isEmpty {
                    for j in 0..<dim { hidden[j] = 0; grad[j] = 0 }
                    for r in example.rows { addVector(hidden.baseAddress!, wi.baseAddress! + Int(r) * dim, dim) }
                    let scale = Float(1.0 / Double(example.rows.count))
                    for j in 0..<dim { hidden[j] *= scale }
                    switch o.loss {
                    case .oneVsAll:
                        for i in 0..<nlabels { binaryLogistic(i, example.labels.contains(Int32(i)), lr) }
                    case .softmax, .negativeSampling:
                        let target = Int(example.labels[labelRNG.uniformIndex(example.labels.count)])
                        for i in 0..<nlabels {
                            var d: Float = 0
                            let base = i * dim
                            for j in 0..<dim { d += wo[base + j] * hidden[j] }
                            outputs[i] = d
                        }
                        var maximum = outputs[0]
                        for v in outputs { maximum = max(v, maximum) }
                        var z: Float = 0
                        for i in 0..<nlabels { outputs[i] = expf(outputs[i] - maximum); z += outputs[i] }
                        for i in 0..<nlabels { outputs[i] /= z }
                        for i in 0..<nlabels {
                            let alpha = lr * ((i == target ? 1 : 0) - outputs[i])
                            let base = i * dim
                            addScaled(grad.baseAddress!, alpha, wo.baseAddress! + base, dim)
                            addScaled(wo.baseAddress! + base, alpha, hidden.baseAddress!, dim)
                        }
                    case .hierarchicalSoftmax:
                        var node = Int(example.labels[labelRNG.uniformIndex(example.labels.count)])
                        while tree[node].parent != -1 {
                            let parent = Int(tree[node].parent)
                            binaryLogistic(parent - nlabels, tree[node].binary, lr)
                            node = parent
                        }
                    }
                    let normalise = Float(1.0 / Double(example.rows.count))
                    for j in 0..<dim { grad[j] *= normalise }
                    for r in example.rows { addVector(wi.baseAddress! + Int(r) * dim, grad.baseAddress!, dim) }
                }
                if localTokenCount > Int64(o.lrUpdateRate) {
                    tokenCount += localTokenCount
                    localTokenCount = 0
                }
            }
        }
        }
        }
        }
        try writeAtomically(output, modelBytes(o, inputMatrix, outputMatrix))
        return examples.count
    }

    /// fastText's `readWord` over bytes: each token's range, split at whitespace and NUL, and `</s>` (given as a
    /// negative start) at each newline.
    static func forEachToken(_ text: UnsafeBufferPointer<UInt8>, _ body: (Int, Int) -> Void) {
        var start = -1
        for (i, c) in text.enumerated() {
            switch c {
            case 0x20, 0x0D, 0x09, 0x0B, 0x0C, 0x00:
                if start >= 0 { body(start, i); start = -1 }
            case 0x0A:
                if start >= 0 { body(start, i); start = -1 }
                body(-1, -1)
            default:
                if start < 0 { start = i }
            }
        }
        if start >= 0 { body(start, text.count) }
    }

    /// A model in fastText's `.bin` layout (version 12, not quantized, not pruned).
    static func serialize(options o: FastTextTrainingOptions, bucket: Int, entries: [(word: [UInt8], count: Int64, type: Int8)],
                          nwords: Int, nlabels: Int, ntokens: Int64, input: [Float], output: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        func i32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func f64(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        // (Floats are stored little-endian, as on every platform Thresh builds for: copied whole.)
        func floats(_ v: [Float]) { v.withUnsafeBytes { out.append(contentsOf: $0) } }
        i32(FastTextModel.magic); i32(FastTextModel.newestVersion)
        // Args: dim, ws, epoch, minCount, neg, wordNgrams, loss, model (sup), bucket, minn, maxn, lrUpdateRate, t.
        for v in [o.dimension, 5, o.epochs, o.minCount, 5, o.wordNgrams, Int(o.loss.rawValue), 3, bucket, o.minn, o.maxn, o.lrUpdateRate] { i32(Int32(v)) }
        f64(1e-4)
        i32(Int32(entries.count)); i32(Int32(nwords)); i32(Int32(nlabels)); i64(ntokens); i64(-1)
        for e in entries { out += e.word; out.append(0); i64(e.count); out.append(UInt8(bitPattern: e.type)) }
        out.append(0)  // input not quantized
        i64(Int64(nwords + bucket)); i64(Int64(o.dimension)); floats(input)
        out.append(0)  // output not quantized
        i64(Int64(nlabels)); i64(Int64(o.dimension)); floats(output)
        return out
    }

    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let file = try OutputFile(path: path, compression: .none)
        try file.write(bytes)
        try file.close()
    }
}

/// x[j] += a · y[j] for j in 0..<n, eight lanes at a time (each element computed as the scalar loop computes it:
/// a product, then a sum, with no reordering).
@inline(__always) func addScaled(_ x: UnsafeMutablePointer<Float>, _ a: Float, _ y: UnsafePointer<Float>, _ n: Int) {
    var j = 0
    let a8 = SIMD8<Float>(repeating: a)
    while j + 8 <= n {
        let xv = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        let yv = UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(x + j).storeBytes(of: xv + a8 * yv, as: SIMD8<Float>.self)
        j += 8
    }
    while j < n { x[j] += a * y[j]; j += 1 }
}

/// x[j] += y[j] for j in 0..<n, eight lanes at a time.
@inline(__always) func addVector(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
    var j = 0
    while j + 8 <= n {
        let xv = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        let yv = UnsafeRawPointer(y + j).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(x + j).storeBytes(of: xv + yv, as: SIMD8<Float>.self)
        j += 8
    }
    while j < n { x[j] += y[j]; j += 1 }
}

/// The C++ standard library's `minstd_rand` (x = x·48271 mod 2³¹−1) with `generate_canonical<double, 53>` and
/// `uniform_int_distribution`, as fastText draws its initial vectors and its label choices.
struct MinStdRand {
    private var state: UInt64

    init(seed: UInt32) {
        let s = UInt64(seed) % 2_147_483_647
        state = s == 0 ? 1 : s
    }

    mutating func next() -> UInt64 {
        state = state * 48271 % 2_147_483_647
        return state
    }

    /// `generate_canonical<double, 53>`: two draws (each of 2³¹−2 values) make a double in [0, 1).
    mutating func canonical() -> Double {
        let range = 2_147_483_646.0
        let low = Double(next() - 1), high = Double(next() - 1)
        let value = (low + high * range) / (range * range)
        return value >= 1 ? Double(1).nextDown : value
    }

    /// A uniform index in 0..<count (libstdc++'s rejection by scaling).
    mutating func uniformIndex(_ count: Int) -> Int {
        guard count > 1 else { return 0 }
        let urange = UInt64(2_147_483_646), span = UInt64(count)
        let scaling = urange / span, past = span * scaling
        while true {
            let r = next() - 1
            if r < past { return Int(r / scaling) }
        }
    }
}
