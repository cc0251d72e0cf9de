#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO

/// fastText's `quantize` without pruning (`-cutoff 0`): the input matrix of a trained `.bin` becomes a product-quantized
/// matrix (sub-vectors of `dsub` values, 256 centroids each, learnt by k-means over at most 65,536 rows with 25
/// iterations, as fastText's ProductQuantizer does), optionally with the row norms quantized apart (`qnorm`); the
/// dictionary and the output matrix are kept as they are. The result is fastText's `.ftz`, which fastText loads.
public enum FastTextQuantizer {
    /// `thresh classify quantize`'s options (fastText's names).
    public static let schema = OptionsSchema("classify-quantize", [
        OptionSpec("model", .text, required: true, help: "a trained fastText model (.bin)"),
        OptionSpec("dsub", .integer(min: 1, max: 64), default: .integer(2), help: "values per sub-vector of the product quantizer"),
        OptionSpec("qnorm", .flag, default: .flag(false), help: "quantize the row norms apart"),
    ])

    static let centroids = 256
    static let maxPoints = 256 * 256
    static let iterations = 25
    static let epsilon: Float = 1e-7

    /// Quantizes the model at `path` into `output`.
    /// - Throws: `.invalidModel` for a model that is quantized already or has fewer than 256 input rows.
    public static func quantize(path: String, output: String, dsub: Int = 2, qnorm: Bool = false, seed: UInt32 = 1234) throws {
        let bytes = try readEntireRawFile(path)
        let model = try FastTextModel(bytes: bytes, path: path)
        guard case .dense(let rows, let columns, var values) = model.input else {
            throw ThreshError(.invalidModel, "is quantized already", file: path)
        }
        guard rows >= centroids else { throw ThreshError(.invalidModel, "has \(rows) input rows; quantizing needs at least \(centroids)", file: path) }
        // The file's header and dictionary are kept byte for byte: they end where the input matrix's flag starts.
        let denseInputBytes = 1 + 16 + rows * columns * 4
        let outputStart = try inputFlagOffset(bytes, path: path) + denseInputBytes
        let headerEnd = outputStart - denseInputBytes
        var rng = MinStdRand(seed: seed)
        var out = Array(bytes[..<headerEnd])
        out.append(1)  // quantized input
        out.append(qnorm ? 1 : 0)
        func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func i32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        var norms: [Float] = []
        if qnorm {
            norms = (0..<rows).map { r in
                var s: Float = 0
                for j in 0..<columns { s += values[r * columns + j] * values[r * columns + j] }
                return sqrtf(s)
            }
            for r in 0..<rows where norms[r] > 0 { for j in 0..<columns { values[r * columns + j] /= norms[r] } }
        }
        var subquantizers = columns / dsub
        var lastDsub = columns % dsub
        if lastDsub == 0 { lastDsub = dsub } else { subquantizers += 1 }
        let centroidsTable = train(values, rows: rows, dim: columns, subquantizers: subquantizers, dsub: dsub, lastDsub: lastDsub, rng: &rng)
        let codes = encode(values, rows: rows, dim: columns, subquantizers: subquantizers, dsub: dsub, lastDsub: lastDsub, centroids: centroidsTable)
        i64(Int64(rows)); i64(Int64(columns)); i32(Int32(codes.count))
        out += codes
        i32(Int32(columns)); i32(Int32(subquantizers)); i32(Int32(dsub)); i32(Int32(lastDsub))
        centroidsTable.withUnsafeBytes { out.append(contentsOf: $0) }
        if qnorm {
            let normCentroids = train(norms, rows: rows, dim: 1, subquantizers: 1, dsub: 1, lastDsub: 1, rng: &rng)
            out += encode(norms, rows: rows, dim: 1, subquantizers: 1, dsub: 1, lastDsub: 1, centroids: normCentroids)
            i32(1); i32(1); i32(1); i32(1)
            normCentroids.withUnsafeBytes { out.append(contentsOf: $0) }
        }
        out += bytes[outputStart...]  // the output matrix's flag (not quantized) and values, as they were
        let file = try OutputFile(path: output, compression: .none)
        try file.write(out)
        try file.close()
        _ = try FastTextModel(path: output)  // what was written reads back
    }

    /// Where the input matrix's "quantized" flag lies: after the header, the arguments and the dictionary.
    static func inputFlagOffset(_ bytes: [UInt8], path: String) throws -> Int {
        var r = ModelReader(bytes: bytes, path: path)
        _ = try r.take(8 + 12 * 4 + 8)
        let size = try r.int32()
        _ = try r.take(8 + 8)
        let pruneSize = try r.int64()
        for _ in 0..<size { _ = try r.cString(); _ = try r.take(9) }
        if pruneSize > 0 { _ = try r.take(Int(pruneSize) * 8) }
        return r.offset
    }

    /// The centroid of sub-quantizer m, code i, as fastText lays the table out.
    @inline(__always) static func centroidStart(_ m: Int, _ i: Int, subquantizers: Int, dsub: Int, lastDsub: Int) -> Int {
        m == subquantizers - 1 ? m * centroids * dsub + i * lastDsub : (m * centroids + i) * dsub
    }

    static func train(_ x: [Float], rows n: Int, dim: Int, subquantizers: Int, dsub: Int, lastDsub: Int, rng: inout MinStdRand) -> [Float] {
        var table = [Float](repeating: 0, count: dim * centroids)
        var perm = Array(0..<n)
        let np = min(n, maxPoints)
        for m in 0..<subquantizers {
            let d = m == subquantizers - 1 ? lastDsub : dsub
            if np != n { shuffle(&perm, &rng) }
            var slice = [Float](repeating: 0, count: np * d)
            for j in 0..<np { for k in 0..<d { slice[j * d + k] = x[perm[j] * dim + m * dsub + k] } }
            let start = centroidStart(m, 0, subquantizers: subquantizers, dsub: dsub, lastDsub: lastDsub)
            let c = kmeans(slice, n: np, d: d, rng: &rng)
            for k in 0..<c.count { table[start + k] = c[k] }
        }
        return table
    }

    static func shuffle(_ a: inout [Int], _ rng: inout MinStdRand) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, rng.uniformIndex(i + 1)) }
    }

    /// k-means with 256 centroids started on random points; an empty cluster takes half of a populous one (fastText's
    /// `MStep`).
    static func kmeans(_ x: [Float], n: Int, d: Int, rng: inout MinStdRand) -> [Float] {
        var perm = Array(0..<n)
        shuffle(&perm, &rng)
        var c = [Float](repeating: 0, count: centroids * d)
        for i in 0..<centroids { for k in 0..<d { c[i * d + k] = x[perm[i] * d + k] } }
        var codes = [Int](repeating: 0, count: n)
        for _ in 0..<iterations {
            for i in 0..<n { codes[i] = nearest(x, i * d, c, d) }
            var counts = [Int](repeating: 0, count: centroids)
            for k in c.indices { c[k] = 0 }
            for i in 0..<n {
                counts[codes[i]] += 1
                for k in 0..<d { c[codes[i] * d + k] += x[i * d + k] }
            }
            for i in 0..<centroids where counts[i] > 0 { for k in 0..<d { c[i * d + k] /= Float(counts[i]) } }
            for k in 0..<centroids where counts[k] == 0 {
                var m = 0
                while rng.canonical() * Double(n - centroids) >= Double(counts[m] - 1) { m = (m + 1) % centroids }
                for j in 0..<d {
                    c[k * d + j] = c[m * d + j]
                    let sign: Float = (j % 2) == 1 ? 1 : -1
                    c[k * d + j] += sign * epsilon
                    c[m * d + j] -= sign * epsilon
                }
                counts[k] = counts[m] / 2
                counts[m] -= counts[k]
            }
        }
        return c
    }

    @inline(__always) static func nearest(_ x: [Float], _ offset: Int, _ c: [Float], _ d: Int) -> Int {
        var best = 0
        var bestDistance = Float.infinity
        for i in 0..<centroids {
            var dist: Float = 0
            for k in 0..<d { let t = x[offset + k] - c[i * d + k]; dist += t * t }
            if dist < bestDistance { bestDistance = dist; best = i }
        }
        return best
    }

    static func encode(_ x: [Float], rows: Int, dim: Int, subquantizers: Int, dsub: Int, lastDsub: Int, centroids table: [Float]) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: rows * subquantizers)
        for r in 0..<rows {
            for m in 0..<subquantizers {
                let d = m == subquantizers - 1 ? lastDsub : dsub
                let start = centroidStart(m, 0, subquantizers: subquantizers, dsub: dsub, lastDsub: lastDsub)
                var best = 0
                var bestDistance = Float.infinity
                for i in 0..<centroids {
                    var dist: Float = 0
                    for k in 0..<d { let t = x[r * dim + m * dsub + k] - table[start + i * d + k]; dist += t * t }
                    if dist < bestDistance { bestDistance = dist; best = i }
                }
                codes[r * subquantizers + m] = UInt8(best)
            }
        }
        return codes
    }
}
