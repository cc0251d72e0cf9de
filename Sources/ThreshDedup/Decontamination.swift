public import ThreshCore
import ThreshIO

/// GPT-3's benchmark decontamination as EleutherAI's lm-evaluation-harness implements it
/// (`lm_eval/decontamination/janitor.py`, `Janitor.clean_python`): a document's word 13-grams (whitespace tokens,
/// lower-cased, ASCII punctuation deleted) that occur in a benchmark are removed with `window-to-remove` characters
/// either side; the document splits there, pieces of `minimum-slice-length` characters or fewer are dropped, and a
/// document with more than `too-dirty-cutoff` such n-grams is dropped whole. Characters are Unicode code points, as
/// Python counts them.
public struct DecontaminationOptions: Sendable {
    public var benchmarks: [String] = []
    public var ngram = 13
    public var window = 200
    public var tooDirtyCutoff = 10
    public var minimumSliceLength = 200

    public init() {}

    /// `thresh decontaminate`'s options (janitor.py's, under its names, hyphenated).
    public static let schema = OptionsSchema("decontaminate", [
        OptionSpec("benchmarks", .list, required: true, help: "benchmark files: JSONL with text, or plain text with one item per line"),
        OptionSpec("ngram-n", .integer(min: 1, max: 100), default: .integer(13), help: "words per n-gram"),
        OptionSpec("window-to-remove", .integer(min: 0, max: 1 << 20), default: .integer(200), help: "characters removed either side of a matching n-gram"),
        OptionSpec("too-dirty-cutoff", .integer(min: 0, max: 1 << 20), default: .integer(10), help: "a document with more matching n-grams than this is dropped whole"),
        OptionSpec("minimum-slice-length", .integer(min: 0, max: 1 << 20), default: .integer(200), help: "pieces this long or shorter are dropped"),
    ])

    public init(_ values: OptionValues) {
        self.init()
        benchmarks = values.list("benchmarks")
        ngram = values.int("ngram-n")
        window = values.int("window-to-remove")
        tooDirtyCutoff = values.int("too-dirty-cutoff")
        minimumSliceLength = values.int("minimum-slice-length")
    }
}

/// The benchmarks' n-grams (64-bit hashes of the normalised n-gram strings), with the items each comes from.
public final class ContaminationIndex: Sendable {
    public let n: Int
    public let files: [String]
    /// Items per file.
    public let itemCounts: [Int]
    /// n-gram hash → the (file, item) pairs that hold it (read only for matches).
    let owners: [UInt64: [ItemRef]]
    /// The n-gram hashes, for the membership test of every window (a Swift Dictionary's SipHash costs more).
    let keySet: HashSet64

    struct ItemRef: Sendable, Hashable { var file: Int32; var item: Int32 }

    /// Reads benchmark files: JSONL documents (their `text`), or plain text with one item per line.
    /// - Throws: `.data` naming a file that is empty or not text.
    public init(files: [String], n: Int) throws {
        self.n = n
        self.files = files
        var owners: [UInt64: [ItemRef]] = [:]
        var counts: [Int] = []
        for (f, path) in files.enumerated() {
            let bytes = try readEntireFile(path)
            guard let text = String(validating: bytes, as: UTF8.self), !text.allSatisfy(\.isWhitespace) else {
                throw ThreshError(.data, "a benchmark file must hold UTF-8 text (JSONL with \"text\", or one item per line); this one is empty or not text", file: path)
            }
            let isJSONL = text.drop(while: \.isWhitespace).first == "{"
            var items = 0
            for (lineNumber, line) in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
                var item = String(line)
                if isJSONL {
                    guard let object = try? JSONParser.parse(item).objectValue, case .string(let t)? = object["text"] else {
                        throw ThreshError(.data, "line \(lineNumber + 1) is not a JSON object with a text field", file: path)
                    }
                    item = t
                }
                let ref = ItemRef(file: Int32(f), item: Int32(items))
                for hash in Self.ngramHashes(ofNormalized: Janitor.normalize(item), n: n) {
                    if owners[hash]?.last != ref { owners[hash, default: []].append(ref) }
                }
                items += 1
            }
            counts.append(items)
        }
        self.owners = owners
        keySet = HashSet64(owners.keys)
        itemCounts = counts
    }

    /// `word_ngrams`: the n-grams of the whitespace tokens of an already normalised string. An n-gram is keyed by a
    /// polynomial over its tokens' hashes (`NGramKey`): janitor compares the n-grams joined by one space, and equal
    /// token sequences are equal strings (no token holds a space).
    static func ngramHashes(ofNormalized s: [Unicode.Scalar], n: Int) -> [UInt64] {
        let tokens = Janitor.tokens(s)
        guard tokens.count >= n else { return [] }
        var bytes: [UInt8] = []
        let tokenHashes: [UInt64] = tokens.map { t in
            bytes.removeAll(keepingCapacity: true)
            for scalar in s[t.start...t.end] { appendUTF8(scalar, &bytes) }
            return NGramKey.token(bytes)
        }
        var keys: [UInt64] = []
        NGramKey.forEachWindow(tokenHashes, n: n) { _, key in keys.append(key) }
        return keys
    }

    @inline(__always) func contains(_ hash: UInt64) -> Bool { keySet.contains(hash) }
}

/// janitor.py's string handling, on Unicode scalars.
enum Janitor {
    /// `str.translate` with janitor's table: ASCII capitals lowered, ASCII punctuation (`string.punctuation`) deleted.
    static func normalize(_ s: some StringProtocol) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if v >= 0x41 && v <= 0x5A { out.append(Unicode.Scalar(v + 32)!); continue }
            if (v >= 0x21 && v <= 0x2F) || (v >= 0x3A && v <= 0x40) || (v >= 0x5B && v <= 0x60) || (v >= 0x7B && v <= 0x7E) { continue }
            out.append(scalar)
        }
        return out
    }

    /// Python's whitespace (`str.split()` and the `\S+` of `re`): the scalars `str.isspace` accepts.
    @inline(__always) static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Tokens as (first, last) scalar index, inclusive (janitor's `split_indices`).
    static func tokens(_ s: [Unicode.Scalar]) -> [(start: Int, end: Int)] {
        var out: [(start: Int, end: Int)] = []
        var start = -1
        for (i, c) in s.enumerated() {
            if isSpace(c) {
                if start >= 0 { out.append((start, i - 1)); start = -1 }
            } else if start < 0 {
                start = i
            }
        }
        if start >= 0 { out.append((start, s.count - 1)) }
        return out
    }
}

@inline(__always) func appendUTF8(_ scalar: Unicode.Scalar, _ out: inout [UInt8]) {
    UTF8.encode(scalar) { out.append($0) }
}

/// What decontamination did to one document.
public struct DecontaminationResult: Sendable {
    /// The pieces kept (janitor's `clean_python`), or nil when nothing matched (the document is left whole).
    public var pieces: [String]?
    /// The matching n-grams' hashes, in order.
    var matches: [UInt64] = []
}

extension ContaminationIndex {
    /// janitor's `clean_python` on one document: nil when no n-gram matches, else the pieces kept (empty when the
    /// document is dropped: too dirty, or every piece too short).
    public func clean(_ text: String, options: DecontaminationOptions) -> DecontaminationResult {
        let scalars = Array(text.unicodeScalars)
        let tokens = Janitor.tokens(scalars)
        var dirty: [(start: Int, end: Int, hash: UInt64)] = []
        if tokens.count >= n {
            // Each token normalised once (ASCII capitals lowered, ASCII punctuation deleted) and hashed. janitor
            // normalises the joined n-gram; normalising each token first gives the same string, since neither the
            // joining spaces nor any token change otherwise. A token that normalises to nothing leaves two spaces
            // together, which no benchmark n-gram holds: windows with one never match.
            var bytes: [UInt8] = []
            var tokenHashes: [UInt64] = []
            var emptyBefore: [Int] = [0]  // prefix counts of empty tokens
            tokenHashes.reserveCapacity(tokens.count)
            emptyBefore.reserveCapacity(tokens.count + 1)
            for t in tokens {
                bytes.removeAll(keepingCapacity: true)
                for scalar in scalars[t.start...t.end] {
                    let v = scalar.value
                    if v >= 0x41 && v <= 0x5A { bytes.append(UInt8(v + 32)); continue }
                    if (v >= 0x21 && v <= 0x2F) || (v >= 0x3A && v <= 0x40) || (v >= 0x5B && v <= 0x60) || (v >= 0x7B && v <= 0x7E) { continue }
                    appendUTF8(scalar, &bytes)
                }
                tokenHashes.append(NGramKey.token(bytes))
                emptyBefore.append(emptyBefore.last! + (bytes.isEmpty ? 1 : 0))
            }
            NGramKey.forEachWindow(tokenHashes, n: n) { i, key in
                if emptyBefore[i + n] == emptyBefore[i] && contains(key) { dirty.append((tokens[i].start, tokens[i + n - 1].end, key)) }
            }
        }
        guard !dirty.isEmpty else { return DecontaminationResult(pieces: nil) }
        // janitor's _split_chunks, on scalar indices.
        var chunks: [String] = []
        var spliceIndex = 0
        var end = -1
        for (i, part) in dirty.enumerated() {
            if i >= options.tooDirtyCutoff { return DecontaminationResult(pieces: [], matches: dirty.map(\.hash)) }
            let start = max(0, part.start - options.window)
            end = min(scalars.count, part.end + options.window)
            if start - spliceIndex > options.minimumSliceLength {
                chunks.append(String(String.UnicodeScalarView(scalars[spliceIndex..<start])))
            }
            spliceIndex = end
        }
        if end < scalars.count - options.minimumSliceLength {
            chunks.append(String(String.UnicodeScalarView(scalars[(end + 1)...])))
        }
        return DecontaminationResult(pieces: chunks, matches: dirty.map(\.hash))
    }
}

/// `thresh decontaminate` as a stage: a document with no benchmark n-gram passes whole; a contaminated one becomes its
/// surviving pieces, documents `ID#k` with `meta.decontaminated_from`, or is dropped (`contaminated`) when too dirty
/// or when no piece is long enough. Per benchmark file it counts the matching n-grams, the documents touched and the
/// items with any overlap (GPT-3's appendix C table).
public struct DecontaminateStage: DocumentStage {
    public let index: ContaminationIndex
    public let options: DecontaminationOptions
    public private(set) var statistics = StageStatistics(stage: "decontaminate")
    /// Per benchmark file: matching n-grams, documents touched, and the items overlapped.
    public private(set) var ngramHits: [Int]
    public private(set) var documentsTouched: [Int]
    private var itemsOverlapped: Set<ContaminationIndex.ItemRef> = []

    public init(index: ContaminationIndex, options: DecontaminationOptions) {
        self.index = index
        self.options = options
        ngramHits = [Int](repeating: 0, count: index.files.count)
        documentsTouched = ngramHits
    }

    /// Items of each benchmark file with any n-gram found in the documents so far.
    public var itemsWithOverlap: [Int] {
        var counts = [Int](repeating: 0, count: index.files.count)
        for ref in itemsOverlapped { counts[Int(ref.file)] += 1 }
        return counts
    }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        guard let text = statistics.admitText(document) else { return }
        let result = index.clean(text, options: options)
        guard let pieces = result.pieces else {
            statistics.documentsOut += 1
            statistics.bytesOut += Int64(text.utf8.count)
            try emit(document)
            return
        }
        var touched = Set<Int32>()
        for hash in result.matches {
            for ref in index.owners[hash] ?? [] {
                ngramHits[Int(ref.file)] += 1
                touched.insert(ref.file)
                itemsOverlapped.insert(ref)
            }
        }
        for f in touched { documentsTouched[Int(f)] += 1 }
        statistics.count("contaminated-documents")
        statistics.count("matching-ngrams", result.matches.count)
        guard !pieces.isEmpty else {
            statistics.drop(result.matches.count > options.tooDirtyCutoff ? "contaminated" : "contaminated-pieces-too-short")
            return
        }
        statistics.count("pieces", pieces.count)
        for (k, piece) in pieces.enumerated() {
            var out = document
            out.id = document.id + "#" + String(k)
            out.text = piece
            var meta = out.meta
            meta["decontaminated_from"] = .string(document.id)
            out.meta = meta
            statistics.documentsOut += 1
            statistics.bytesOut += Int64(piece.utf8.count)
            try emit(out)
        }
    }

    /// The per-benchmark table: file, items, items with any overlap, matching n-grams, documents touched.
    public var report: JSONValue {
        let overlapped = itemsWithOverlap
        return .array(index.files.indices.map { f in
            .object(["benchmark": .string(index.files[f]), "items": .int(index.itemCounts[f]), "items_with_overlap": .int(overlapped[f]),
                     "matching_ngrams": .int(ngramHits[f]), "documents_touched": .int(documentsTouched[f])])
        })
    }
}

/// n-gram keys: each token's bytes hashed (FNV-1a, then mixed), the n-gram the polynomial Σ hᵢ·B^(n−1−i) over 2⁶⁴, so
/// each window's key follows from the previous one in constant time.
enum NGramKey {
    static let base: UInt64 = 0x9E37_79B9_7F4A_7C15 | 1

    @inline(__always) static func token(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        // splitmix64's finaliser: spreads the bits, so the polynomial's sums do not collide by structure.
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }

    /// Calls `body(i, key)` for the window of n tokens starting at each i, in order.
    @inline(__always) static func forEachWindow(_ hashes: [UInt64], n: Int, _ body: (Int, UInt64) -> Void) {
        guard n >= 1, hashes.count >= n else { return }
        var top: UInt64 = 1
        for _ in 1..<n { top = top &* base }
        var key: UInt64 = 0
        for k in 0..<n { key = key &* base &+ hashes[k] }
        body(0, key)
        var i = 1
        while i + n <= hashes.count {
            key = (key &- hashes[i - 1] &* top) &* base &+ hashes[i + n - 1]
            body(i, key)
            i += 1
        }
    }
}

/// A set of 64-bit keys: open addressing with linear probing (0 is stored apart).
struct HashSet64: Sendable {
    private var slots: [UInt64]
    private let mask: Int
    private let hasZero: Bool

    init(_ keys: some Collection<UInt64>) {
        var size = 16
        while size < keys.count * 2 { size <<= 1 }
        mask = size - 1
        slots = [UInt64](repeating: 0, count: size)
        var zero = false
        for key in keys {
            if key == 0 { zero = true; continue }
            var slot = Int(truncatingIfNeeded: key >> 7) & mask
            while slots[slot] != 0 && slots[slot] != key { slot = (slot + 1) & mask }
            slots[slot] = key
        }
        hasZero = zero
    }

    @inline(__always) func contains(_ key: UInt64) -> Bool {
        if key == 0 { return hasZero }
        var slot = Int(truncatingIfNeeded: key >> 7) & mask
        while true {
            let k = slots[slot]
            if k == key { return true }
            if k == 0 { return false }
            slot = (slot + 1) & mask
        }
    }
}
