#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO
import ThreshQuality

/// How documents are compared and grouped.
public struct DedupOptions: Sendable {
    public enum Family: Sendable {
        /// Spark's MinHashLSH family on feature indices (the GPT-3 preset).
        case spark(seed: Int64)
        /// The 64-bit family over xxh64 shingles.
        case minhash64(seed: UInt64)
    }

    public var shingler: Shingler
    public var family: Family
    /// LSH bands and rows per band (b·r hash functions).
    public var bands: Int
    public var rows: Int
    /// Documents whose Jaccard similarity is at least this are duplicates (pairs are verified exactly).
    public var threshold: Double
    /// Verify candidates by exact Jaccard (the GPT-3 preset always does; without, every candidate counts).
    public var verify = true
    /// Spark's rule instead of `threshold`: keep a pair when `1 − |A∩B|/|A∪B|` (computed in exactly that form)
    /// is strictly below this distance, as `approxSimilarityJoin` does.
    public var sparkDistance: Double?
    /// Buckets larger than this are not expanded into all pairs: each member is paired with the bucket's first
    /// member and with its `window` successors (by document order), which bounds the work at O(n·window).
    public var allPairsUpTo = 64
    public var window = 16
    /// Records held in memory before a sorted run is written to disk, in phase 1 and 2.
    public var runRecords = 4 << 20

    public init(shingler: Shingler, family: Family, bands: Int, rows: Int, threshold: Double) {
        self.shingler = shingler
        self.family = family
        self.bands = bands
        self.rows = rows
        self.threshold = threshold
    }

    /// GPT-3: Spark Tokenizer + HashingTF features as a set, Spark's MinHashLSH with 10 tables of one row, every
    /// candidate verified by exact Jaccard.
    public static func gpt3(threshold: Double = 0.8, seed: Int64 = SparkMinHash.scalaDefaultSeed) -> DedupOptions {
        DedupOptions(shingler: Shingler(kind: .features(FeatureHasher())), family: .spark(seed: seed), bands: 10, rows: 1, threshold: threshold)
    }

    /// Exact dedup: the whole text as one value (normalised, or as it is), one band of one row; documents with the
    /// same value are duplicates.
    public static func exact(normalised: Bool = true) -> DedupOptions {
        DedupOptions(shingler: Shingler(kind: .wholeText(normalised: normalised)), family: .minhash64(seed: 1), bands: 1, rows: 1, threshold: 1)
    }

    /// URL dedup: the canonical URL as one value, one band of one row.
    public static func url(_ canonicalizer: URLCanonicalizer = URLCanonicalizer()) -> DedupOptions {
        DedupOptions(shingler: Shingler(kind: .url(canonicalizer)), family: .minhash64(seed: 1), bands: 1, rows: 1, threshold: 1)
    }

    /// FineWeb: word 5-grams, 14 bands of 8 rows (112 permutations), 64-bit family.
    public static func fineweb(threshold: Double = 0.75, seed: UInt64 = 1) -> DedupOptions {
        DedupOptions(shingler: Shingler(kind: .words(5)), family: .minhash64(seed: seed), bands: 14, rows: 8, threshold: threshold)
    }

    /// The bands and rows (b·r ≤ permutations) minimising the weighted false-positive and false-negative areas
    /// around the threshold, as datasketch's `_optimal_param` does (equal weights).
    public static func optimalBandsAndRows(threshold: Double, permutations: Int) -> (bands: Int, rows: Int) {
        func integrate(_ f: (Double) -> Double, _ a: Double, _ b: Double) -> Double {
            let steps = 200
            let h = (b - a) / Double(steps)
            var s = 0.5 * (f(a) + f(b))
            for i in 1..<steps { s += f(a + Double(i) * h) }
            return s * h
        }
        var best = (bands: 1, rows: 1)
        var bestError = Double.infinity
        for b in 1...permutations {
            for r in 1...(permutations / b) {
                let fp = integrate({ s in 1 - pow(1 - pow(s, Double(r)), Double(b)) }, 0, threshold)
                let fn = integrate({ s in 1 - (1 - pow(1 - pow(s, Double(r)), Double(b))) }, threshold, 1)
                if fp + fn < bestError { bestError = fp + fn; best = (b, r) }
            }
        }
        return best
    }
}

/// Counters and histograms of one dedup run (written to `stats.json`).
public struct DedupStatistics: Sendable {
    public var documents = 0
    public var withoutShingles = 0
    public var candidates = 0
    public var verified = 0
    public var removed = 0
    public var clusters = 0
    public var perSource: [String: (documents: Int, removed: Int)] = [:]
    public var clusterSizes: [Int: Int] = [:]
    public var jaccardHistogram = [Int](repeating: 0, count: 20)
    public var phaseSeconds: [(String, Double)] = []
    /// Of the signatures phase, the time spent reading and parsing input documents.
    public var readSeconds = 0.0
    /// UTF-8 bytes of text of the documents that can be removed (not reference documents), and of those removed.
    public var textBytes: Int64 = 0
    public var removedTextBytes: Int64 = 0

    public var json: JSONObject {
        var o = JSONObject()
        o["documents"] = .int(documents)
        o["without_shingles"] = .int(withoutShingles)
        o["candidate_pairs"] = .int(candidates)
        o["verified_pairs"] = .int(verified)
        o["removed"] = .int(removed)
        o["clusters"] = .int(clusters)
        o["per_source"] = .object(JSONObject(perSource.sorted { $0.key < $1.key }.map {
            (key: $0.key, value: .object(["documents": .int($0.value.documents), "removed": .int($0.value.removed)]))
        }))
        o["cluster_sizes"] = .object(JSONObject(clusterSizes.sorted { $0.key < $1.key }.map { (key: String($0.key), value: .int($0.value)) }))
        o["jaccard_histogram"] = .array(jaccardHistogram.map { .int($0) })
        o["phase_seconds"] = .object(JSONObject(phaseSeconds.map { (key: $0.0, value: .double($0.1)) }))
        o["signatures_read_seconds"] = .double(readSeconds)
        o["text_bytes"] = .int(textBytes)
        o["removed_text_bytes"] = .int(removedTextBytes)
        return o
    }
}

/// One input of a dedup run: a file of documents, and whether it is a reference (index) corpus, whose documents
/// are never removed and which crawl documents are removed against.
public struct DedupInput: Sendable {
    public var path: String
    public var isIndex: Bool
    public init(path: String, isIndex: Bool = false) { self.path = path; self.isIndex = isIndex }
}

/// Deterministic fuzzy dedup as restartable phases on disk (datatrove's shape):
/// 1. signatures: shingle sets (kept for verification) and, per band, sorted runs of (band hash, document);
/// 2. candidates: per band, a k-way merge of the runs; documents sharing a bucket become candidate pairs;
/// 3. verification by exact Jaccard;
/// 4. union-find over document numbers, survivors by the stated rule;
/// 5. filter: kept documents (with `attrs.dup_cluster`, `attrs.dup_size`), the removal list, clusters, stats.
///
/// Survivor rule: reference (index) documents first, then the highest `attrs.quality`, then the lowest
/// (source, id). Memory: about 50 bytes per document at most (quality, flags, source number, the shingle-set
/// offset, and in phases 4 and 5 five `Int32` arrays for union-find, roots, sizes, survivors and clusters) and one
/// run buffer of `runRecords` 16-byte records (64 MB by default); the (source, id) keys, shingle sets and runs are
/// on disk, keys and sets read back through memory maps whose pages the kernel can drop.
public final class DedupJob {
    public let inputs: [DedupInput]
    public let output: String
    public let options: DedupOptions
    public var progress: ((String) -> Void)?
    /// Write every verified pair with its Jaccard to this file.
    public var pairsFile: String?
    public private(set) var statistics = DedupStatistics()

    private var work: String { output + "/work" }
    /// The layout of the files in `work/`; a run left by a build that wrote another layout starts afresh.
    private static let workFormat = "dedup-work-2"

    private var hashes: Int { options.bands * options.rows }

    // Per document (filled in phase 1, reloaded from work/meta.jsonl on restart).
    private var documentCount = 0
    /// Each document's source, as a number into `sourceNames` (sources are few: datasets or input files).
    private var sourceNumber: [UInt32] = []
    private var sourceNames: [String] = []
    private var sourceNumbers: [String: UInt32] = [:]
    private var quality: [Float] = []
    private var isIndex: [Bool] = []
    /// The (source, id) keys, read from `work/keys.bin` after phase 1.
    private var keys: KeyStore!

    private func sources(_ d: Int) -> String { sourceNames[Int(sourceNumber[d])] }

    private func appendSource(_ source: String) {
        if let n = sourceNumbers[source] { sourceNumber.append(n); return }
        let n = UInt32(sourceNames.count)
        sourceNames.append(source)
        sourceNumbers[source] = n
        sourceNumber.append(n)
    }

    public init(inputs: [DedupInput], output: String, options: DedupOptions) {
        // Reference corpora come first, so their documents have the lowest numbers.
        self.inputs = inputs.filter(\.isIndex) + inputs.filter { !$0.isIndex }
        self.output = output
        self.options = options
    }

    /// Where each input's kept documents go: `kept/` and the input's path relative to the deepest directory all
    /// inputs share, so inputs with the same basename (`a/p.jsonl`, `b/p.jsonl`) never collide.
    /// Reference inputs get no kept file (their slot holds an empty string) and take no part in the naming.
    public var keptPaths: [String] {
        var names = Paths.distinctRelativeNames(inputs.filter { !$0.isIndex }.map(\.path))[...]
        return inputs.map { $0.isIndex ? "" : output + "/kept/" + names.removeFirst() }
    }

    /// The kept file of the input at `path` (nil for reference inputs, whose documents are never written).
    public func keptPath(of path: String) -> String? {
        guard let i = inputs.firstIndex(where: { $0.path == path }), !inputs[i].isIndex else { return nil }
        return keptPaths[i]
    }

    /// What the outputs depend on: the options and every input's path and contents (size and modification time).
    public func fingerprint() throws -> String {
        try Fingerprint.of(parts: [Self.workFormat, String(reflecting: options)] + inputs.flatMap { [$0.path, $0.isIndex ? "index" : "input", try Paths.identity(of: $0.path)] })
    }

    public func run() throws {
        var seen = Set<String>()
        for input in inputs where !seen.insert(Paths.absolute(input.path)).inserted {
            throw ThreshError(.usage, "dedup: the input is given twice", file: input.path)
        }
        try Paths.makeDirectories(work)
        // Phases finished for other options or other inputs are not reused: their markers go.
        let fingerprint = try fingerprint()
        let stamp = work + "/fingerprint"
        if (try? readEntireRawFile(stamp)).map({ String(decoding: $0, as: UTF8.self) }) != fingerprint {
            for name in try listDirectory(work) { try Paths.removeTree(work + "/" + name) }
            try Paths.removeTree(output + "/kept")
            let out = try OutputFile(path: stamp, compression: .none)
            try out.write(fingerprint)
            try out.close()
        }
        try Paths.makeDirectories(output + "/kept")
        try phase("signatures") { try signatures() }
        if sourceNumber.isEmpty { try loadMeta() }
        keys = try KeyStore(directory: work)
        try phase("candidates") { try candidates() }
        try phase("verify") { try verify() }
        var found: Clusters?
        try phase("clusters") { found = try clusters() }
        // The clusters phase only counts; its arrays are rebuilt (from verified.bin) when it was done earlier.
        let grouped = try found ?? clusters()
        try phase("filter") { try filter(grouped) }
    }

    /// Runs a phase unless its marker says it is done. The marker holds the counters the phase made (candidate and
    /// verified pairs, the Jaccard histogram), so a resumed run reports the same statistics as an uninterrupted one.
    private func phase(_ name: String, _ body: () throws -> Void) throws {
        let marker = work + "/\(name).done"
        if access(marker, F_OK) == 0 {
            progress?("\(name): done earlier, skipped")
            let saved = try readEntireRawFile(marker)
            if !saved.isEmpty {
                let o = try saved.withUnsafeBytes { try JSONParser.parse($0) }.objectValue ?? [:]
                statistics.candidates = o["candidate_pairs"]?.intValue ?? statistics.candidates
                statistics.verified = o["verified_pairs"]?.intValue ?? statistics.verified
                if let h = o["jaccard_histogram"]?.arrayValue?.compactMap(\.intValue), h.count == statistics.jaccardHistogram.count {
                    statistics.jaccardHistogram = h
                }
                statistics.withoutShingles = o["without_shingles"]?.intValue ?? statistics.withoutShingles
                statistics.textBytes = Int64(o["text_bytes"]?.intValue ?? Int(statistics.textBytes))
                if let seconds = o["seconds"]?.doubleValue { statistics.phaseSeconds.append((name, seconds)) }
            }
            return
        }
        let started = monotonicSeconds()
        progress?("\(name)…")
        TestHooks.reach("dedup:\(name)")
        try body()
        TestHooks.reach("dedup:\(name):end")
        let seconds = monotonicSeconds() - started
        statistics.phaseSeconds.append((name, seconds))
        let done = try OutputFile(path: marker, compression: .none)
        try done.write(JSONWriter.string(.object(["candidate_pairs": .int(statistics.candidates), "verified_pairs": .int(statistics.verified),
                                                  "jaccard_histogram": .array(statistics.jaccardHistogram.map { .int($0) }),
                                                  "without_shingles": .int(statistics.withoutShingles), "text_bytes": .int(statistics.textBytes),
                                                  "seconds": .double(seconds)])))
        try done.close()
    }

    // MARK: Phase 1: signatures

    private func signatures() throws {
        let sets = try OutputFile(path: work + "/sets.bin", compression: .none)
        let index = try OutputFile(path: work + "/sets.idx", compression: .none)
        let meta = try DocumentWriter(path: work + "/meta.jsonl")
        let keyBytes = try OutputFile(path: work + "/keys.bin", compression: .none)
        let keyIndex = try OutputFile(path: work + "/keys.idx", compression: .none)
        var keyOffset: UInt64 = 0
        var runs = RunWriter(directory: work, prefix: "band", partitions: options.bands, limit: options.runRecords)
        let spark: SparkMinHash?
        let family64: MinHash64?
        switch options.family {
        case .spark(let seed): spark = SparkMinHash(tables: hashes, seed: seed); family64 = nil
        case .minhash64(let seed): spark = nil; family64 = MinHash64(permutations: hashes, seed: seed)
        }
        var offset: UInt64 = 0
        var document: UInt32 = 0
        for input in inputs {
            let reader = try DocumentReader(path: input.path)
            while true {
                let readStarted = monotonicSeconds()
                guard let doc = try reader.next() else { break }
                statistics.readSeconds += monotonicSeconds() - readStarted
                if !input.isIndex { statistics.textBytes += Int64(doc.text.utf8.count) }
                var shingles = options.shingler.shingleValues(of: doc)
                // Stored sorted and distinct, so verification reads each set in place.
                Shingler.sortAndUniqueIfNeeded(&shingles)
                let source = doc.source ?? input.path
                let key = Array((source + "\u{0}" + doc.id).utf8)
                try keyIndex.write(withUnsafeBytes(of: keyOffset.littleEndian) { Array($0) })
                try keyBytes.write(key)
                keyOffset += UInt64(key.count)
                appendSource(source)
                let q = Float(doc.attrs["quality"]?.doubleValue ?? 0)
                quality.append(q)
                isIndex.append(input.isIndex)
                try meta.write(Document(fields: ["s": .string(source), "i": .string(doc.id), "q": .double(Double(q)), "x": .bool(input.isIndex)]))
                try index.write(withUnsafeBytes(of: offset.littleEndian) { Array($0) })
                try shingles.withUnsafeBytes { try sets.write($0) }
                offset += UInt64(shingles.count)
                if !shingles.isEmpty {
                    let signature: [UInt64]
                    if let spark { signature = spark.hashes(shingles.map { Int($0) }).map { UInt64($0) } } else { signature = family64!.signature(shingles) }
                    // A band's key: xxh64 of its rows' bytes, hashed in place.
                    let rowBytes = options.rows * 8
                    try signature.withUnsafeBytes { raw in
                        for band in 0..<options.bands {
                            let bandHash = XXH64.hash(raw.baseAddress! + band * rowBytes, count: rowBytes, seed: UInt64(band))
                            try runs.append(partition: band, key: bandHash, value: UInt64(document))
                        }
                    }
                } else {
                    statistics.withoutShingles += 1
                }
                document += 1
                if document % 4096 == 0 { progress?("signatures: \(document) documents") }
            }
        }
        try index.write(withUnsafeBytes(of: offset.littleEndian) { Array($0) })
        try keyIndex.write(withUnsafeBytes(of: keyOffset.littleEndian) { Array($0) })
        try keyBytes.close()
        try keyIndex.close()
        try sets.close()
        try index.close()
        try meta.close()
        try runs.finish()
        statistics.documents = Int(document)
        documentCount = Int(document)
    }

    private func loadMeta() throws {
        let reader = try DocumentReader(path: work + "/meta.jsonl")
        while let d = try reader.next() {
            appendSource(d.fields["s"]?.stringValue ?? "")
            quality.append(Float(d.fields["q"]?.doubleValue ?? 0))
            isIndex.append(d.fields["x"] == .bool(true))
        }
        documentCount = sourceNumber.count
        statistics.documents = documentCount
    }

    // MARK: Phase 2: candidates

    private func candidates() throws {
        var pairs = RunWriter(directory: work, prefix: "pairs", partitions: 1, limit: options.runRecords)
        // Reference documents have the lowest numbers. A pair of two of them is never a candidate: references are
        // never removed, and a link between two references only joins clusters that both hold a reference, whose
        // other members are removed either way. (Their duplicates are the business of a job over that corpus.)
        let firstRemovable = UInt64(isIndex.firstIndex(of: false) ?? isIndex.count)
        func pair(_ a: UInt64, _ b: UInt64) throws {
            if b >= firstRemovable { try pairs.append(partition: 0, key: a << 32 | b, value: 0) }
        }
        for band in 0..<options.bands {
            var group: [UInt64] = []
            var groupKey: UInt64?
            func flush() throws {
                defer { group.removeAll(keepingCapacity: true) }
                guard group.count > 1 else { return }
                // A bucket's documents come in ascending order (the runs are sorted by key, then document).
                if group.count <= options.allPairsUpTo {
                    for x in 0..<group.count { for y in (x + 1)..<group.count { try pair(group[x], group[y]) } }
                } else {
                    for x in 0..<group.count {
                        if x > 0 { try pair(group[0], group[x]) }
                        for y in (x + 1)..<min(group.count, x + 1 + options.window) where x > 0 {
                            try pair(group[x], group[y])
                        }
                    }
                }
            }
            try RunWriter.merge(directory: work, prefix: "band", partition: band) { key, value in
                if key != groupKey { try flush(); groupKey = key }
                group.append(value)
            }
            try flush()
            progress?("candidates: band \(band + 1) of \(options.bands)")
        }
        try pairs.finish()
    }

    // MARK: Phase 3: verification

    private func verify() throws {
        let sets = try SetStore(directory: work)
        let out = try OutputFile(path: work + "/verified.bin", compression: .none)
        let pairsOut = try pairsFile.map { try OutputFile(path: $0) }
        var last: UInt64?
        var count = 0
        try RunWriter.merge(directory: work, prefix: "pairs", partition: 0) { key, _ in
            guard key != last else { return }
            last = key
            statistics.candidates += 1
            let a = Int(key >> 32), b = Int(key & 0xFFFF_FFFF)
            let passes: (Double) -> Bool
            if !options.verify { passes = { _ in true } }
            else if let d = options.sparkDistance { passes = { 1 - $0 < d } }
            else { passes = { [threshold = options.threshold] in $0 >= threshold } }
            // The exact similarity of a passing pair feeds the histogram and the pairs file; a pair is given up as
            // soon as it provably cannot pass (most candidates of one-row bands are far apart).
            if let similarity = try sets.withSets(a, b, { SetStore.jaccard($0, $1, unlessBelow: passes) }) {
                statistics.verified += 1
                statistics.jaccardHistogram[min(19, Int(similarity * 20))] += 1
                var record = [UInt8]()
                withUnsafeBytes(of: UInt32(a).littleEndian) { record += $0 }
                withUnsafeBytes(of: UInt32(b).littleEndian) { record += $0 }
                withUnsafeBytes(of: Float(similarity).bitPattern.littleEndian) { record += $0 }
                try out.write(record)
                try pairsOut?.write(JSONWriter.string(.object(["a": .string(keyID(a)), "b": .string(keyID(b)),
                                                               "source_a": .string(sources(a)), "source_b": .string(sources(b)),
                                                               "jaccard": .double(similarity)])) + "\n")
            }
            count += 1
            if count % 100_000 == 0 { progress?("verify: \(count) candidate pairs") }
        }
        try out.close()
        try pairsOut?.close()
    }

    private func keyID(_ d: Int) -> String {
        keys.id(d)
    }

    // MARK: Phase 4: clusters

    /// Each document's cluster (its root, or -1 outside every cluster), and per root the cluster's size and
    /// survivor.
    struct Clusters {
        var clusterOf: [Int32]
        var size: [Int32]
        var survivor: [Int32]
    }

    /// Union-find over document numbers.
    private func clusters() throws -> Clusters {
        let n = documentCount
        var parent = (0..<n).map { Int32($0) }
        func find(_ x: Int32) -> Int32 {
            var x = x
            while parent[Int(x)] != x {
                parent[Int(x)] = parent[Int(parent[Int(x)])]
                x = parent[Int(x)]
            }
            return x
        }
        let reader = try RawFileReader(path: work + "/verified.bin")
        var buffer = [UInt8](repeating: 0, count: 12 * 8192)
        var pending: [UInt8] = []
        while true {
            let got = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if got == 0 { break }
            pending += buffer[0..<got]
            let whole = pending.count / 12 * 12
            pending.withUnsafeBytes { raw in
                var o = 0
                while o < whole {
                    let a = Int32(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                    let b = Int32(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o + 4, as: UInt32.self)))
                    let ra = find(a), rb = find(b)
                    // The smaller number becomes the root, so clusters do not depend on pair order.
                    if ra != rb { if ra < rb { parent[Int(rb)] = ra } else { parent[Int(ra)] = rb } }
                    o += 12
                }
            }
            pending.removeFirst(whole)
        }
        var root = [Int32](repeating: 0, count: n)
        var size = [Int32](repeating: 0, count: n)
        for d in 0..<n { root[d] = find(Int32(d)); size[Int(root[d])] += 1 }
        // Survivor: reference documents first, then highest quality, then lowest (source, id).
        var survivor = [Int32](repeating: -1, count: n)
        func better(_ x: Int, _ y: Int) -> Bool {
            if isIndex[x] != isIndex[y] { return isIndex[x] }
            if quality[x] != quality[y] { return quality[x] > quality[y] }
            return keys.precedes(x, y)
        }
        for d in 0..<n where size[Int(root[d])] > 1 {
            let r = Int(root[d])
            if survivor[r] < 0 || better(d, Int(survivor[r])) { survivor[r] = Int32(d) }
        }
        for r in 0..<n where size[r] > 1 && root[r] == Int32(r) {
            statistics.clusters += 1
            statistics.clusterSizes[Int(size[r]), default: 0] += 1
        }
        for d in 0..<n where size[Int(root[d])] <= 1 { root[d] = -1 }
        return Clusters(clusterOf: root, size: size, survivor: survivor)
    }

    // MARK: Phase 5: filter

    private func filter(_ found: Clusters) throws {
        let clusterOf = found.clusterOf, survivor = found.survivor
        let sets = try SetStore(directory: work)
        let removed = try DocumentWriter(path: output + "/removed.jsonl")
        // The clusters' roots, largest first (then by number).
        let roots = found.size.indices.filter { found.size[$0] > 1 && clusterOf[$0] == Int32($0) }
            .sorted { (found.size[$0], -$0) > (found.size[$1], -$1) }
        // Members of the largest clusters, with snippets, for 'dedup stats'.
        let largest = Set(roots.prefix(20).map { Int32($0) })
        var members: [Int32: [JSONValue]] = [:]
        var document = 0
        let keptPaths = keptPaths
        for (n, input) in inputs.enumerated() {
            if !input.isIndex { try Paths.makeDirectories(Paths.directory(of: keptPaths[n])) }
            let kept = input.isIndex ? nil : try DocumentWriter(path: keptPaths[n])
            let reader = try DocumentReader(path: input.path)
            // Documents outside every cluster (nearly all) pass through as their input line, unparsed: phase 1
            // has read and validated every line already.
            while let parsed = try reader.nextLine({ line -> Document? in
                if clusterOf[document] >= 0 { return try reader.parse(line) }
                statistics.perSource[sources(document), default: (0, 0)].documents += 1
                try kept?.write(line: line)
                document += 1
                return nil
            }) {
                guard var doc = parsed else { continue }
                defer { document += 1 }
                let source = sources(document)
                statistics.perSource[source, default: (0, 0)].documents += 1
                let cluster = clusterOf[document]
                var isRemoved = false
                if cluster >= 0 {
                    let s = Int(survivor[Int(cluster)])
                    // Reference documents are never removed; other members lose to the survivor.
                    isRemoved = s != document && !isIndex[document]
                    var attrs = doc.attrs
                    attrs["dup_cluster"] = .int(Int(cluster))
                    attrs["dup_size"] = .int(Int(found.size[Int(cluster)]))
                    doc.attrs = attrs
                    if largest.contains(cluster) {
                        members[cluster, default: []].append(.object(["id": .string(doc.id), "source": .string(source),
                                                                      "removed": .bool(isRemoved),
                                                                      "snippet": .string(String(doc.text.prefix(240)))]))
                    }
                    if isRemoved {
                        let j = try sets.jaccard(document, s)
                        try removed.write(Document(fields: ["id": .string(doc.id), "source": .string(source), "cluster": .int(Int(cluster)),
                                                            "survivor": .string(keyID(s)), "survivor_source": .string(sources(s)),
                                                            "jaccard": .double(j)]))
                        statistics.removed += 1
                        statistics.removedTextBytes += Int64(doc.text.utf8.count)
                        statistics.perSource[source]!.removed += 1
                    }
                }
                if !isRemoved, let kept { try kept.write(doc) }
            }
            try kept?.close()
        }
        try removed.close()
        let clustersOut = try DocumentWriter(path: output + "/clusters.jsonl")
        for root in roots {
            let cluster = Int32(root)
            var o: JSONObject = ["cluster": .int(root), "size": .int(Int(found.size[root])),
                                 "survivor": .string(keyID(Int(survivor[Int(cluster)]))), "survivor_source": .string(sources(Int(survivor[Int(cluster)])))]
            if let m = members[cluster] { o["members"] = .array(m) }
            try clustersOut.write(Document(fields: o))
        }
        try clustersOut.close()
        let stats = try OutputFile(path: output + "/stats.json", compression: .none)
        var o = statistics.json
        o["index_documents"] = .int(isIndex.filter { $0 }.count)
        o["threshold"] = .double(options.threshold)
        o["bands"] = .int(options.bands)
        o["rows"] = .int(options.rows)
        try stats.write(JSONWriter.string(.object(o)) + "\n")
        try stats.close()
    }
}

/// A file mapped read-only into memory (pages belong to the file, so the kernel can drop them under pressure).
final class MappedFile {
    let base: UnsafeRawPointer?
    let count: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ThreshError(.io, "cannot open: \(errnoString())", file: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ThreshError(.io, "cannot stat: \(errnoString())", file: path) }
        count = Int(info.st_size)
        if count > 0 {
            let mapped = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let mapped, mapped != MAP_FAILED else { throw ThreshError(.io, "cannot map: \(errnoString())", file: path) }
            base = UnsafeRawPointer(mapped)
        } else {
            base = nil
        }
    }

    deinit { if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) } }

    /// The little-endian UInt64 at `index` (of the file read as an array of them), nil outside the file.
    func uint64(at index: Int) -> UInt64? {
        guard let base, index >= 0, (index + 1) * 8 <= count else { return nil }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
    }
}

/// Each document's key (its source, a NUL, its id) by document number, from the phase-1 files `keys.bin` (the
/// keys' bytes end to end) and `keys.idx` (n + 1 offsets), both mapped: no key is held in memory.
final class KeyStore {
    private let bytes: MappedFile
    private let offsets: MappedFile

    init(directory: String) throws {
        bytes = try MappedFile(path: directory + "/keys.bin")
        offsets = try MappedFile(path: directory + "/keys.idx")
    }

    private func withKey<R>(_ d: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let start = offsets.uint64(at: d), let end = offsets.uint64(at: d + 1), start <= end, end <= UInt64(bytes.count),
              let base = bytes.base else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return body(UnsafeRawBufferPointer(start: base + Int(start), count: Int(end - start)))
    }

    /// The document's id (the key after its NUL).
    func id(_ d: Int) -> String {
        withKey(d) { key in
            guard let nul = key.firstIndex(of: 0) else { return String(decoding: key, as: UTF8.self) }
            return String(decoding: UnsafeRawBufferPointer(rebasing: key[(nul + 1)...]), as: UTF8.self)
        }
    }

    /// Whether document x's key comes before document y's, byte by byte.
    func precedes(_ x: Int, _ y: Int) -> Bool {
        withKey(x) { a in withKey(y) { b in a.lexicographicallyPrecedes(b) } }
    }
}

/// Shingle sets by document number, read back from the phase-1 files through a read-only memory map (the
/// pages are the file's, so the kernel can drop them under pressure; only the sets of candidate documents are
/// touched). Phase 1 stores each document's shingle values as `Shingler.shingleValues` yields them; `set` returns
/// them sorted and distinct.
final class SetStore {
    private let mapping: UnsafeMutableRawPointer?
    private let mappedBytes: Int
    private var offsets: [UInt64] = []
    /// Per document: 0 not yet looked at, 1 stored sorted and distinct, 2 not.
    private var sortedness: [UInt8] = []

    init(directory: String) throws {
        let path = directory + "/sets.bin"
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ThreshError(.io, "cannot open: \(errnoString())", file: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ThreshError(.io, "cannot stat: \(errnoString())", file: path) }
        mappedBytes = Int(info.st_size)
        if mappedBytes > 0 {
            let mapped = mmap(nil, mappedBytes, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let mapped, mapped != MAP_FAILED else { throw ThreshError(.io, "cannot map: \(errnoString())", file: path) }
            mapping = mapped
        } else {
            mapping = nil
        }
        let index = try RawFileReader(path: directory + "/sets.idx")
        var bytes = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        while true {
            let n = try bytes.withUnsafeMutableBytes { try index.read(into: $0) }
            if n == 0 { break }
            pending += bytes[0..<n]
            let whole = pending.count / 8 * 8
            pending.withUnsafeBytes { raw in
                for o in stride(from: 0, to: whole, by: 8) { offsets.append(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))) }
            }
            pending.removeFirst(whole)
        }
        sortedness = [UInt8](repeating: 0, count: offsets.count)
    }

    deinit { if let mapping { munmap(mapping, mappedBytes) } }

    /// Calls `body` with the sets of documents `a` and `b`, sorted and distinct. Sets phase 1 stored sorted (all
    /// of them since it sorts every set) are read in place from the map on a little-endian host; others are copied
    /// and sorted for the call. Whether a set is sorted is checked once per document.
    func withSets<R>(_ a: Int, _ b: Int, _ body: (UnsafeBufferPointer<UInt64>, UnsafeBufferPointer<UInt64>) throws -> R) throws -> R {
        try withSet(a) { sa in try withSet(b) { sb in try body(sa, sb) } }
    }

    private func withSet<R>(_ d: Int, _ body: (UnsafeBufferPointer<UInt64>) throws -> R) throws -> R {
        guard d + 1 < offsets.count else { throw ThreshError(.io, "no shingle set for document \(d)", file: "sets.bin") }
        let start = Int(offsets[d]), end = Int(offsets[d + 1])
        guard end * 8 <= mappedBytes, start <= end else { throw ThreshError(.io, "shingle set \(d) lies outside the file", file: "sets.bin") }
        guard end > start, let mapping else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        #if _endian(little)
        // The map is page-aligned and every set starts at a multiple of 8 bytes, so it can be read as UInt64s.
        let inPlace = UnsafeBufferPointer(start: (mapping + start * 8).assumingMemoryBound(to: UInt64.self), count: end - start)
        if sortedness[d] == 0 { sortedness[d] = Shingler.isStrictlyAscending(inPlace) ? 1 : 2 }
        if sortedness[d] == 1 { return try body(inPlace) }
        #endif
        var values = [UInt64](unsafeUninitializedCapacity: end - start) { buffer, initialized in
            let source = UnsafeRawPointer(mapping).advanced(by: start * 8)
            for k in 0..<(end - start) { buffer[k] = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self)) }
            initialized = end - start
        }
        Shingler.sortAndUnique(&values)
        return try values.withUnsafeBufferPointer { try body($0) }
    }

    /// The Jaccard similarity of two stored sets.
    func jaccard(_ a: Int, _ b: Int) throws -> Double {
        try withSets(a, b) { Self.jaccard($0, $1) }
    }

    static func jaccard(_ a: [UInt64], _ b: [UInt64]) -> Double {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in jaccard(a, b) } }
    }

    static func jaccard(_ a: [UInt64], _ b: [UInt64], unlessBelow accepts: (Double) -> Bool) -> Double? {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in jaccard(a, b, unlessBelow: accepts) } }
    }

    /// The Jaccard similarity of two sorted sets, as `|A∩B| / |A∪B|` in doubles (1 for two empty sets).
    static func jaccard(_ a: UnsafeBufferPointer<UInt64>, _ b: UnsafeBufferPointer<UInt64>) -> Double {
        jaccard(a, b, unlessBelow: { _ in true })!
    }

    /// The exact Jaccard similarity of two sorted sets when `accepts` holds for it, else nil.
    ///
    /// `accepts` must be monotone (true for a similarity, true for every larger one). Every 64 steps of the
    /// merge, the similarity the pair would have if all of the smaller remainder matched is computed by the same
    /// formula; when `accepts` rejects even that bound, the true value (never larger, and division and
    /// subtraction round monotonically) is rejected too, so giving up early changes no decision.
    static func jaccard(_ a: UnsafeBufferPointer<UInt64>, _ b: UnsafeBufferPointer<UInt64>, unlessBelow accepts: (Double) -> Bool) -> Double? {
        func ratio(_ intersection: Int) -> Double {
            let union = a.count + b.count - intersection
            return union == 0 ? 1 : Double(intersection) / Double(union)
        }
        var i = 0, j = 0, intersection = 0
        while i < a.count && j < b.count {
            if !accepts(ratio(intersection + min(a.count - i, b.count - j))) { return nil }
            var steps = 0
            while steps < 64 && i < a.count && j < b.count {
                let x = a[i], y = b[j]
                if x == y { intersection += 1 }
                i += x <= y ? 1 : 0
                j += y <= x ? 1 : 0
                steps += 1
            }
        }
        let similarity = ratio(intersection)
        return accepts(similarity) ? similarity : nil
    }
}

/// Sorted runs of (key, value) UInt64 records per partition, spilled to disk when the buffer is full, and
/// merged back in (key, value) order: the external sort behind phases 1 and 2.
struct RunWriter {
    let directory: String
    let prefix: String
    var buffers: [[(UInt64, UInt64)]]
    let limit: Int
    var held = 0
    var runCounts: [Int]

    init(directory: String, prefix: String, partitions: Int, limit: Int) {
        self.directory = directory
        self.prefix = prefix
        self.limit = max(1024, limit)
        buffers = Array(repeating: [], count: partitions)
        runCounts = Array(repeating: 0, count: partitions)
    }

    mutating func append(partition: Int, key: UInt64, value: UInt64) throws {
        buffers[partition].append((key, value))
        held += 1
        if held >= limit { try spill() }
    }

    mutating func spill() throws {
        for p in buffers.indices where !buffers[p].isEmpty {
            buffers[p].sort { $0 < $1 }
            let out = try OutputFile(path: "\(directory)/\(prefix)-\(p).run\(runCounts[p])", compression: .none)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(buffers[p].count * 16)
            for (k, v) in buffers[p] {
                withUnsafeBytes(of: k.littleEndian) { bytes += $0 }
                withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
            }
            try out.write(bytes)
            try out.close()
            runCounts[p] += 1
            buffers[p].removeAll(keepingCapacity: false)
        }
        held = 0
    }

    mutating func finish() throws {
        try spill()
        for p in buffers.indices {
            let out = try OutputFile(path: "\(directory)/\(prefix)-\(p).runs", compression: .none)
            try out.write(String(runCounts[p]))
            try out.close()
        }
    }

    /// Calls `body` with every record of a partition in sorted order (a k-way merge of its runs).
    static func merge(directory: String, prefix: String, partition: Int, _ body: (UInt64, UInt64) throws -> Void) throws {
        let countText = String(decoding: try readEntireFile("\(directory)/\(prefix)-\(partition).runs"), as: UTF8.self)
        let runs = Int(countText) ?? 0
        var readers: [RunReader] = []
        for r in 0..<runs { readers.append(try RunReader(path: "\(directory)/\(prefix)-\(partition).run\(r)")) }
        // A small binary heap over the runs' current records.
        var heap: [(key: UInt64, value: UInt64, run: Int)] = []
        func push(_ e: (key: UInt64, value: UInt64, run: Int)) {
            heap.append(e)
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                if (heap[p].key, heap[p].value) <= (heap[i].key, heap[i].value) { break }
                heap.swapAt(p, i)
                i = p
            }
        }
        func pop() -> (key: UInt64, value: UInt64, run: Int) {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < heap.count && (heap[l].key, heap[l].value) < (heap[m].key, heap[m].value) { m = l }
                    if r < heap.count && (heap[r].key, heap[r].value) < (heap[m].key, heap[m].value) { m = r }
                    if m == i { break }
                    heap.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
        for (r, reader) in readers.enumerated() { if let (k, v) = try reader.next() { push((k, v, r)) } }
        while !heap.isEmpty {
            let e = pop()
            try body(e.key, e.value)
            if let (k, v) = try readers[e.run].next() { push((k, v, e.run)) }
        }
    }
}

final class RunReader {
    private let file: RawFileReader
    private var buffer = [UInt8](repeating: 0, count: 16 << 12)
    private var position = 0
    private var end = 0

    init(path: String) throws { file = try RawFileReader(path: path) }

    func next() throws -> (UInt64, UInt64)? {
        if end - position < 16 {
            let leftover = end - position
            if leftover > 0 { for k in 0..<leftover { buffer[k] = buffer[position + k] } }
            position = 0
            end = leftover
            while end < 16 {
                let n = try buffer.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[end...])) }
                if n == 0 { break }
                end += n
            }
            if end < 16 { return nil }
        }
        let record = buffer.withUnsafeBytes { raw in
            (UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)),
             UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self)))
        }
        position += 16
        return record
    }
}

