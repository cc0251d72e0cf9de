#if canImport(Glibc)
import Glibc
#endif

extension FastTextModel {
    /// One label and its probability, as fastText's `predict` returns them (`exp` of its `log(p + 1e-5)` score).
    public struct Prediction: Sendable, Equatable {
        public var label: String
        public var probability: Double
    }

    /// Buffers one thread reuses across predictions.
    public struct Scratch {
        var rows: [Int32] = []
        var wordHashes: [Int32] = []
        var hidden: [Float] = []
        var output: [Float] = []
        var subword: [UInt8] = []
        public init() {}
    }

    /// The `k` most probable labels of one line of text (fastText's `predict(text, k, threshold)`): the text is
    /// split as fastText splits a line and ends with `</s>`. A newline inside ends the line there, as in fastText.
    public func predict(_ text: some Collection<UInt8>, k: Int = 1, threshold: Float = 0, scratch: inout Scratch) -> [Prediction] {
        guard k >= 1 else { return [] }
        rowsOfLine(text, into: &scratch)
        guard !scratch.rows.isEmpty else { return [] }
        averageRows(&scratch)
        var heap: [(score: Float, label: Int)] = []
        heap.reserveCapacity(k + 1)
        switch loss {
        case .hierarchicalSoftmax:
            depthFirst(k: k, threshold: threshold, node: tree.count - 1, score: 0, heap: &heap, hidden: scratch.hidden)
        case .softmax, .oneVsAll, .negativeSampling:
            computeOutput(&scratch)
            for (i, value) in scratch.output.enumerated() where value >= threshold {
                let score = Self.stdLog(value)
                if heap.count == k, let least = heap.last, score < least.score { continue }
                insert((score, i), into: &heap, k: k)
            }
        }
        return heap.map { Prediction(label: labels[$0.label], probability: Double(expf($0.score))) }
    }

    /// fastText's `std_log`: `log(x + 1e-5)` with the sum in double, the result in float.
    @inline(__always) static func stdLog(_ x: Float) -> Float { Float(log(Double(x) + 1e-5)) }

    /// Keeps `heap` sorted by score, best first, at most `k` long.
    @inline(__always) private func insert(_ item: (score: Float, label: Int), into heap: inout [(score: Float, label: Int)], k: Int) {
        var i = heap.count
        heap.append(item)
        while i > 0 && heap[i - 1].score < item.score { heap[i] = heap[i - 1]; i -= 1 }
        heap[i] = item
        if heap.count > k { heap.removeLast() }
    }

    /// The input rows of a line: each word's rows (or an unknown word's character n-grams), then word n-grams.
    func rowsOfLine(_ text: some Collection<UInt8>, into scratch: inout Scratch) {
        scratch.rows.removeAll(keepingCapacity: true)
        scratch.wordHashes.removeAll(keepingCapacity: true)
        var token: [UInt8] = []
        token.reserveCapacity(64)
        var ended = false
        func endToken() {
            guard !token.isEmpty else { return }
            addToken(token[...], into: &scratch)
            token.removeAll(keepingCapacity: true)
        }
        for c in text {
            if c == 0x20 || c == 0x0D || c == 0x09 || c == 0x0B || c == 0x0C || c == 0x00 { endToken(); continue }
            if c == 0x0A { endToken(); ended = true; break }
            token.append(c)
        }
        if !ended { endToken() }
        addToken(Self.endOfSentence[...], into: &scratch)
        addWordNgrams(&scratch)
    }

    static let endOfSentence = Array("</s>".utf8)

    private func addToken(_ token: ArraySlice<UInt8>, into scratch: inout Scratch) {
        let h = Self.hash(token)
        let id = find(token, hash: h)
        let isLabel = id >= 0 ? entryTypes[Int(id)] == 1 : token.starts(with: labelPrefix)
        guard !isLabel else { return }
        if id >= 0 {
            if maxn <= 0 { scratch.rows.append(id) } else { scratch.rows.append(contentsOf: wordRows[Int(id)]) }
        } else if !token.elementsEqual(Self.endOfSentence) {
            scratch.subword.removeAll(keepingCapacity: true)
            scratch.subword.append(0x3C)
            scratch.subword.append(contentsOf: token)
            scratch.subword.append(0x3E)
            Self.appendSubwords(of: scratch.subword, minn: minn, maxn: maxn, bucket: bucket, nwords: nwords, pruned: pruned, to: &scratch.rows)
        }
        scratch.wordHashes.append(Int32(bitPattern: h))
    }

    /// fastText's `addWordNgrams`: the 64-bit hash chain over sign-extended word hashes.
    private func addWordNgrams(_ scratch: inout Scratch) {
        guard wordNgrams > 1, bucket > 0 else { return }
        let hashes = scratch.wordHashes
        for i in hashes.indices {
            var h = UInt64(bitPattern: Int64(hashes[i]))
            var j = i + 1
            while j < hashes.count && j < i + wordNgrams {
                h = h &* 116_049_371 &+ UInt64(bitPattern: Int64(hashes[j]))
                Self.pushBucket(Int32(truncatingIfNeeded: h % bucket), nwords: nwords, pruned: pruned, to: &scratch.rows)
                j += 1
            }
        }
    }

    /// The hidden vector: the rows summed in order in 32-bit floats, times 1/count (fastText's `averageRowsToVector`).
    private func averageRows(_ scratch: inout Scratch) {
        if scratch.hidden.count != dimension { scratch.hidden = [Float](repeating: 0, count: dimension) }
        scratch.hidden.withUnsafeMutableBufferPointer { x in
            for i in 0..<dimension { x[i] = 0 }
            switch input {
            case .dense(_, let columns, let values):
                values.withUnsafeBufferPointer { v in
                    for row in scratch.rows {
                        let base = Int(row) * columns
                        for j in 0..<columns { x[j] += v[base + j] }
                    }
                }
            case .quantized(let q):
                let pq = q.quantizer
                q.codes.withUnsafeBufferPointer { codes in
                    pq.centroids.withUnsafeBufferPointer { c in
                        for row in scratch.rows {
                            let alpha = q.norm(Int(row))
                            let code = Int(row) * pq.subquantizers
                            for m in 0..<pq.subquantizers {
                                let start = pq.centroidStart(m, codes[code + m])
                                let d = m == pq.subquantizers - 1 ? pq.lastSubDimension : pq.subDimension
                                let base = m * pq.subDimension
                                for n in 0..<d { x[base + n] += alpha * c[start + n] }
                            }
                        }
                    }
                }
            }
            let scale = Float(1.0 / Double(scratch.rows.count))
            for i in 0..<dimension { x[i] *= scale }
        }
    }

    /// Row `i` of `matrix` dotted with `vector`, as fastText sums it (dense: in order; quantized: per sub-quantizer,
    /// then times the row's norm).
    @inline(__always) func dotRow(_ matrix: Matrix, _ i: Int, _ vector: UnsafeBufferPointer<Float>) -> Float {
        switch matrix {
        case .dense(_, let columns, let values):
            return values.withUnsafeBufferPointer { v in
                var d: Float = 0
                let base = i * columns
                for j in 0..<columns { d += v[base + j] * vector[j] }
                return d
            }
        case .quantized(let q):
            let pq = q.quantizer
            var res: Float = 0
            let code = i * pq.subquantizers
            for m in 0..<pq.subquantizers {
                let start = pq.centroidStart(m, q.codes[code + m])
                let d = m == pq.subquantizers - 1 ? pq.lastSubDimension : pq.subDimension
                for n in 0..<d { res += vector[m * pq.subDimension + n] * pq.centroids[start + n] }
            }
            return res * q.norm(i)
        }
    }

    /// Softmax or one-vs-all outputs (fastText's `computeOutput`).
    private func computeOutput(_ scratch: inout Scratch) {
        let rows = output.rows
        if scratch.output.count != rows { scratch.output = [Float](repeating: 0, count: rows) }
        scratch.hidden.withUnsafeBufferPointer { hidden in
            for i in 0..<rows { scratch.output[i] = dotRow(output, i, hidden) }
        }
        switch loss {
        case .softmax:
            var maximum = scratch.output[0]
            for v in scratch.output { maximum = max(v, maximum) }
            var z: Float = 0
            for i in 0..<rows { scratch.output[i] = expf(scratch.output[i] - maximum); z += scratch.output[i] }
            for i in 0..<rows { scratch.output[i] /= z }
        default:
            for i in 0..<rows { scratch.output[i] = Self.sigmoidTable(scratch.output[i]) }
        }
    }

    /// fastText's table sigmoid (512 steps over [-8, 8]), which one-vs-all prediction uses.
    static let sigmoidValues: [Float] = (0...512).map { i in
        let x = Float(i * 2 * 8) / 512 - 8
        return Float(1.0 / (1.0 + Double(expf(-x))))
    }

    @inline(__always) static func sigmoidTable(_ x: Float) -> Float {
        if x < -8 { return 0 }
        if x > 8 { return 1 }
        return sigmoidValues[Int((x + 8) * 512 / 8 / 2)]
    }

    /// fastText's hierarchical-softmax search (`dfs`): branches under the threshold, or under the k-th best score
    /// found so far, are not followed.
    private func depthFirst(k: Int, threshold: Float, node: Int, score: Float, heap: inout [(score: Float, label: Int)], hidden: [Float]) {
        if score < Self.stdLog(threshold) { return }
        if heap.count == k, let least = heap.last, score < least.score { return }
        let n = tree[node]
        if n.left == -1 && n.right == -1 {
            insert((score, node), into: &heap, k: k)
            return
        }
        let osz = output.rows
        var f = hidden.withUnsafeBufferPointer { dotRow(output, node - osz, $0) }
        f = Float(1.0 / Double(1 + expf(-f)))
        depthFirst(k: k, threshold: threshold, node: Int(n.left), score: score + Self.stdLog(Float(1.0 - Double(f))), heap: &heap, hidden: hidden)
        depthFirst(k: k, threshold: threshold, node: Int(n.right), score: score + Self.stdLog(f), heap: &heap, hidden: hidden)
    }
}
