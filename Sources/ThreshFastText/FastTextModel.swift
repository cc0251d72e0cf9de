#if canImport(Glibc)
import Glibc
#endif
import ThreshCore
import ThreshIO

/// A fastText supervised model read from its `.bin` or quantized `.ftz` file (format version 11 or 12, as fastText
/// 0.9 writes it), and prediction that reproduces fastText's: its tokens (whitespace split, `</s>` at the line's
/// end), its word and character n-gram hashing (FNV-1a over signed bytes, `minn`…`maxn`, `wordNgrams`, pruned
/// buckets), the averaged hidden vector in 32-bit floats in fastText's order, and its softmax, hierarchical softmax
/// and one-vs-all losses, with fastText's `log(p + 1e-5)` scores.
///
/// Immutable once loaded and safe to share between threads; prediction keeps its scratch space in a
/// `FastTextModel.Scratch` per thread.
public final class FastTextModel: Sendable {
    /// fastText's file magic and the newest format version it writes.
    static let magic: Int32 = 793_712_314
    static let newestVersion: Int32 = 12

    public enum Loss: Int32, Sendable { case hierarchicalSoftmax = 1, negativeSampling = 2, softmax = 3, oneVsAll = 4 }

    public let path: String
    public let dimension: Int
    public let loss: Loss
    let wordNgrams: Int
    let bucket: UInt64
    let minn: Int
    let maxn: Int
    let labelPrefix = Array("__label__".utf8)
    /// Label names without the `__label__` prefix, in the model's order.
    public let labels: [String]
    let nwords: Int32
    /// Per word: the input rows of the word and its character n-grams (as fastText's `initNgrams` makes them).
    let wordRows: [[Int32]]
    /// Open-addressing table of the dictionary (fastText's `word2int`): word id or -1.
    let table: [Int32]
    /// Entry bytes and types (0 word, 1 label).
    let entries: [[UInt8]]
    let entryTypes: [Int8]
    /// Bucket → row (pruned models keep only some n-gram buckets), or nil when every bucket has a row.
    let pruned: PruneMap?
    let input: Matrix
    let output: Matrix
    /// Hierarchical softmax tree (fastText's `buildTree` over label counts).
    let tree: [TreeNode]

    struct TreeNode: Sendable {
        var parent: Int32 = -1, left: Int32 = -1, right: Int32 = -1
        var count: Int64 = 1_000_000_000_000_000
        var binary = false
    }

    /// A dense or product-quantized matrix, as fastText stores it.
    enum Matrix: Sendable {
        case dense(rows: Int, columns: Int, values: [Float])
        case quantized(QuantizedMatrix)

        var rows: Int {
            switch self {
            case .dense(let rows, _, _): return rows
            case .quantized(let q): return q.rows
            }
        }
    }

    struct ProductQuantizer: Sendable {
        var dimension: Int, subquantizers: Int, subDimension: Int, lastSubDimension: Int
        var centroids: [Float]
        static let centroidsPerSubquantizer = 256

        /// The centroid of sub-quantizer `m` for code `i` (fastText's `get_centroids`).
        @inline(__always) func centroidStart(_ m: Int, _ i: UInt8) -> Int {
            m == subquantizers - 1 ? m * Self.centroidsPerSubquantizer * subDimension + Int(i) * lastSubDimension
                : (m * Self.centroidsPerSubquantizer + Int(i)) * subDimension
        }
    }

    struct QuantizedMatrix: Sendable {
        var rows: Int, columns: Int
        var codes: [UInt8]
        var quantizer: ProductQuantizer
        var normCodes: [UInt8]?
        var normQuantizer: ProductQuantizer?

        @inline(__always) func norm(_ row: Int) -> Float {
            guard let normCodes, let normQuantizer else { return 1 }
            return normQuantizer.centroids[normQuantizer.centroidStart(0, normCodes[row])]
        }
    }

    /// Loads a model.
    /// - Throws: `.invalidModel` naming the file and what was expected, for a file that is not a fastText model, a
    ///   truncated one, an unsupported version or an unsupervised (word vector) model.
    public convenience init(path: String) throws {
        try self.init(bytes: try readEntireRawFile(path), path: path)
    }

    /// Reads a model from its bytes (`path` names it in errors).
    init(bytes: [UInt8], path: String) throws {
        self.path = path
        var r = ModelReader(bytes: bytes, path: path)
        guard bytes.count >= 8 else { throw r.error("is not a fastText model (too short for its header)") }
        guard try r.int32() == Self.magic else { throw r.error("is not a fastText model (no fastText magic number at the start)") }
        let version = try r.int32()
        guard version == 11 || version == 12 else {
            throw r.error("is fastText format version \(version); this build reads versions 11 and 12 (fastText 0.9)")
        }
        let dim = try r.int32(), _ = try r.int32(), _ = try r.int32(), _ = try r.int32(), _ = try r.int32()
        let wordNgrams = try r.int32(), lossCode = try r.int32(), model = try r.int32(), bucket = try r.int32()
        let minn = try r.int32()
        var maxn = try r.int32()
        _ = try r.int32()
        _ = try r.float64()
        guard model == 3 else { throw r.error("is not a supervised fastText model (model \(model); classifiers are model 3)") }
        guard let loss = Loss(rawValue: lossCode), loss != .negativeSampling else {
            throw r.error("uses loss \(lossCode); supervised models use softmax (3), hierarchical softmax (1) or one-vs-all (4)")
        }
        guard (1...4096).contains(dim), wordNgrams >= 1, bucket >= 0, minn >= 0, maxn >= 0 else { throw r.error("has arguments out of range") }
        if version == 11 { maxn = 0 }  // old supervised models have no character n-grams (as fastText reads them)
        dimension = Int(dim)
        self.loss = loss
        self.wordNgrams = Int(wordNgrams)
        self.bucket = UInt64(bucket)
        self.minn = Int(minn)
        self.maxn = Int(maxn)

        // Dictionary.
        let size = try r.int32(), nwords = try r.int32(), nlabels = try r.int32()
        _ = try r.int64()
        let pruneSize = try r.int64()
        guard size >= 0, nwords >= 0, nlabels > 0, nwords + nlabels == size else { throw r.error("has an inconsistent dictionary size") }
        var entries: [[UInt8]] = []
        var types: [Int8] = []
        var counts: [Int64] = []
        entries.reserveCapacity(Int(size))
        for _ in 0..<size {
            entries.append(try r.cString())
            counts.append(try r.int64())
            types.append(try r.int8())
        }
        var pruned: PruneMap?
        if pruneSize >= 0 {
            guard pruneSize <= Int64(bucket) else { throw r.error("has more pruned buckets than buckets") }
            var pairs: [(Int32, Int32)] = []
            pairs.reserveCapacity(Int(pruneSize))
            for _ in 0..<pruneSize { pairs.append((try r.int32(), try r.int32())) }
            pruned = PruneMap(pairs)
        }
        self.entries = entries
        entryTypes = types
        self.nwords = nwords
        self.pruned = pruned
        labels = entries[Int(nwords)...].map { label in
            let prefix = Array("__label__".utf8)
            return String(decoding: label.starts(with: prefix) ? Array(label.dropFirst(prefix.count)) : label, as: UTF8.self)
        }

        // Matrices.
        let quantizedInput = try r.bool()
        input = quantizedInput ? .quantized(try r.quantizedMatrix()) : try r.denseMatrix()
        if !quantizedInput && pruned != nil {
            throw r.error("is pruned but not quantized, which fastText cannot read either")
        }
        let quantizedOutput = try r.bool()
        output = quantizedInput && quantizedOutput ? .quantized(try r.quantizedMatrix()) : try r.denseMatrix()
        guard r.atEnd else { throw r.error("has \(r.remaining) bytes after its output matrix") }
        guard output.rows == Int(nlabels) else { throw r.error("has \(output.rows) output rows for \(nlabels) labels") }
        for m in [input, output] {
            switch m {
            case .dense(_, let columns, _): guard columns == dimension else { throw r.error("has a matrix of \(columns) columns, not \(dimension)") }
            case .quantized(let q): guard q.columns == dimension, q.quantizer.dimension == dimension else { throw r.error("has a quantized matrix of the wrong width") }
            }
        }

        // The lookup table and each word's rows, as fastText builds them when it loads.
        let tableSize = Int((Double(size) / 0.7).rounded(.up))
        var table = [Int32](repeating: -1, count: max(tableSize, 1))
        for (i, entry) in entries.enumerated() {
            var slot = Int(Self.hash(entry[...]) % UInt32(table.count))
            while table[slot] != -1 && entries[Int(table[slot])] != entry { slot = (slot + 1) % table.count }
            table[slot] = Int32(i)
        }
        self.table = table
        var wordRows: [[Int32]] = []
        wordRows.reserveCapacity(Int(nwords))
        let eos = Array("</s>".utf8)
        let inputRows = input.rows
        for i in 0..<Int(nwords) {
            var rows: [Int32] = [Int32(i)]
            if entries[i] != eos && maxn > 0 {
                Self.appendSubwords(of: [0x3C] + entries[i] + [0x3E], minn: Int(minn), maxn: Int(maxn), bucket: UInt64(bucket),
                                    nwords: nwords, pruned: pruned, to: &rows)
            }
            wordRows.append(rows)
        }
        guard wordRows.allSatisfy({ $0.allSatisfy { Int($0) < inputRows } }) else { throw r.error("has fewer input rows than its dictionary needs") }
        self.wordRows = wordRows

        // Hierarchical softmax tree over label counts.
        var tree: [TreeNode] = []
        if loss == .hierarchicalSoftmax {
            let osz = Int(nlabels)
            tree = [TreeNode](repeating: TreeNode(), count: 2 * osz - 1)
            for i in 0..<osz { tree[i].count = counts[Int(nwords) + i] }
            var leaf = osz - 1, node = osz
            for i in osz..<(2 * osz - 1) {
                var mini = [0, 0]
                for j in 0..<2 {
                    if leaf >= 0 && tree[leaf].count < tree[node].count { mini[j] = leaf; leaf -= 1 } else { mini[j] = node; node += 1 }
                }
                tree[i].left = Int32(mini[0])
                tree[i].right = Int32(mini[1])
                tree[i].count = tree[mini[0]].count &+ tree[mini[1]].count
                tree[mini[0]].parent = Int32(i)
                tree[mini[1]].parent = Int32(i)
                tree[mini[1]].binary = true
            }
        }
        self.tree = tree
        // Every row an n-gram can reach must exist.
        if pruned == nil, Int(nwords) + Int(bucket) > inputRows, maxn > 0 || wordNgrams > 1 {
            throw r.error("has \(inputRows) input rows for \(nwords) words and \(bucket) buckets")
        }
        if let pruned, pruned.values.contains(where: { Int(nwords) + Int($0) >= inputRows || $0 < 0 }) {
            throw r.error("maps a pruned bucket past its input rows")
        }
    }

    /// fastText's FNV-1a over the bytes taken as signed chars.
    @inline(__always) static func hash(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { hash($0) }
    }

    /// `hash(_:)` over bytes in place.
    @inline(__always) static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes {
            h ^= UInt32(bitPattern: Int32(Int8(bitPattern: b)))
            h = h &* 16_777_619
        }
        return h
    }

    /// fastText's `computeSubwords` over `<word>`, with `pushHash`'s pruning.
    static func appendSubwords(of word: [UInt8], minn: Int, maxn: Int, bucket: UInt64, nwords: Int32, pruned: PruneMap?,
                               to rows: inout [Int32]) {
        guard bucket > 0 else { return }
        let count = word.count
        var i = 0
        while i < count {
            if word[i] & 0xC0 == 0x80 { i += 1; continue }
            var j = i
            var n = 1
            var h: UInt32 = 2_166_136_261
            while j < count && n <= maxn {
                h ^= UInt32(bitPattern: Int32(Int8(bitPattern: word[j]))); h = h &* 16_777_619
                j += 1
                while j < count && word[j] & 0xC0 == 0x80 {
                    h ^= UInt32(bitPattern: Int32(Int8(bitPattern: word[j]))); h = h &* 16_777_619
                    j += 1
                }
                if n >= minn && !(n == 1 && (i == 0 || j == count)) {
                    pushBucket(Int32(truncatingIfNeeded: UInt64(h) % bucket), nwords: nwords, pruned: pruned, to: &rows)
                }
                n += 1
            }
            i += 1
        }
    }

    /// fastText's `pushHash`: a bucket's row, through the pruning map when there is one.
    @inline(__always) static func pushBucket(_ id: Int32, nwords: Int32, pruned: PruneMap?, to rows: inout [Int32]) {
        guard id >= 0 else { return }
        if let pruned {
            guard let mapped = pruned.lookup(id) else { return }
            rows.append(nwords + mapped)
        } else {
            rows.append(nwords + id)
        }
    }

    /// The dictionary id of `word`, or -1.
    @inline(__always) func find(_ word: ArraySlice<UInt8>, hash h: UInt32) -> Int32 {
        var slot = Int(h % UInt32(table.count))
        return word.withUnsafeBufferPointer { w in
            while true {
                let id = table[slot]
                if id == -1 { return -1 }
                let matches = entries[Int(id)].withUnsafeBufferPointer { e in
                    e.count == w.count && (w.isEmpty || memcmp(e.baseAddress!, w.baseAddress!, w.count) == 0)
                }
                if matches { return id }
                slot = (slot + 1) % table.count
            }
        }
    }
}

/// A pruned model's bucket → row map: open addressing with a multiplicative hash (a Swift Dictionary's SipHash
/// costs more than the rest of a character n-gram's work).
struct PruneMap: Sendable {
    private var keys: [Int32]
    private var rows: [Int32]
    private let mask: Int
    let values: [Int32]

    init(_ pairs: [(Int32, Int32)]) {
        var size = 16
        while size < pairs.count * 2 { size <<= 1 }
        mask = size - 1
        keys = [Int32](repeating: -1, count: size)
        rows = [Int32](repeating: 0, count: size)
        values = pairs.map(\.1)
        for (key, row) in pairs where key >= 0 {
            var slot = Self.slot(key, mask)
            while keys[slot] != -1 && keys[slot] != key { slot = (slot + 1) & mask }
            keys[slot] = key
            rows[slot] = row
        }
    }

    @inline(__always) static func slot(_ key: Int32, _ mask: Int) -> Int { Int(truncatingIfNeeded: (UInt64(UInt32(bitPattern: key)) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask }

    @inline(__always) func lookup(_ key: Int32) -> Int32? {
        var slot = Self.slot(key, mask)
        while true {
            let k = keys[slot]
            if k == key { return rows[slot] }
            if k == -1 { return nil }
            slot = (slot + 1) & mask
        }
    }
}

/// Reads a model file's little-endian fields, failing with the file's name on truncation.
struct ModelReader {
    let bytes: [UInt8]
    let path: String
    var offset = 0

    init(bytes: [UInt8], path: String) { self.bytes = bytes; self.path = path }

    var atEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    func error(_ what: String) -> ThreshError { ThreshError(.invalidModel, "\(what)", file: path) }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - offset else {
            throw error("is truncated: \(n) bytes wanted at offset \(offset), \(bytes.count - offset) left (a fastText .bin or .ftz was expected)")
        }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    mutating func int8() throws -> Int8 { Int8(bitPattern: try take(1).first!) }
    mutating func bool() throws -> Bool { try take(1).first! != 0 }
    mutating func int32() throws -> Int32 { try take(4).withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) } }
    mutating func int64() throws -> Int64 { try take(8).withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) } }
    mutating func float64() throws -> Double { try take(8).withUnsafeBytes { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) } }

    mutating func floats(_ n: Int) throws -> [Float] {
        let raw = try take(n * 4)
        // Little-endian floats, as on every platform Thresh builds for: copied whole.
        return [Float](unsafeUninitializedCapacity: n) { buffer, count in
            raw.withUnsafeBytes { b in UnsafeMutableRawBufferPointer(buffer).copyMemory(from: b) }
            count = n
        }
    }

    mutating func cString() throws -> [UInt8] {
        guard let end = bytes[offset...].firstIndex(of: 0) else { throw error("is truncated inside its dictionary") }
        defer { offset = end + 1 }
        return Array(bytes[offset..<end])
    }

    mutating func denseMatrix() throws -> FastTextModel.Matrix {
        let rows = try int64(), columns = try int64()
        guard rows >= 0, columns >= 0, rows < (1 << 31), columns <= 4096, rows * columns * 4 <= Int64(remaining) else {
            throw error("has a matrix of \(rows) × \(columns) that the file cannot hold")
        }
        return .dense(rows: Int(rows), columns: Int(columns), values: try floats(Int(rows * columns)))
    }

    mutating func quantizer() throws -> FastTextModel.ProductQuantizer {
        let dim = try int32(), nsubq = try int32(), dsub = try int32(), lastdsub = try int32()
        guard dim > 0, dim <= 4096, nsubq > 0, dsub > 0, lastdsub > 0, (nsubq - 1) * dsub + lastdsub == dim else {
            throw error("has an inconsistent product quantizer")
        }
        return .init(dimension: Int(dim), subquantizers: Int(nsubq), subDimension: Int(dsub), lastSubDimension: Int(lastdsub),
                     centroids: try floats(Int(dim) * FastTextModel.ProductQuantizer.centroidsPerSubquantizer))
    }

    mutating func quantizedMatrix() throws -> FastTextModel.QuantizedMatrix {
        let qnorm = try bool()
        let rows = try int64(), columns = try int64()
        let codesize = try int32()
        guard rows >= 0, rows < (1 << 31), columns > 0, columns <= 4096, codesize >= 0, Int64(codesize) <= Int64(remaining) else {
            throw error("has a quantized matrix that the file cannot hold")
        }
        let codes = Array(try take(Int(codesize)))
        let pq = try quantizer()
        guard Int64(codes.count) >= rows * Int64(pq.subquantizers) else { throw error("has too few codes for its quantized matrix") }
        var matrix = FastTextModel.QuantizedMatrix(rows: Int(rows), columns: Int(columns), codes: codes, quantizer: pq)
        if qnorm {
            matrix.normCodes = Array(try take(Int(rows)))
            matrix.normQuantizer = try quantizer()
        }
        return matrix
    }
}
