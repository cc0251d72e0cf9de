import ThreshCore
import ThreshIO

/// GPT-2's byte-level BPE (tiktoken's `r50k_base` / `gpt2`), giving the ids tiktoken's `encode_ordinary` gives.
///
/// Text is cut into pieces by GPT-2's pattern
/// `'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s` (a hand-written scanner, with an
/// ASCII fast path), and each piece is merged by rank as tiktoken's `byte_pair_merge` does. Pieces are cached:
/// natural text repeats its words, so most pieces are looked up, not merged.
///
/// A class because it owns its caches; one per thread.
public final class GPT2Tokenizer {
    /// `<|endoftext|>`.
    public static let endOfText: UInt32 = 50256

    private let ranks: RankTable
    private var cache: PieceCache? = PieceCache()

    /// Loads the ranks from `r50k_base.tiktoken` (`base64(token bytes) rank` per line), or from a directory that
    /// holds it, or from GPT-2's `encoder.json` + `vocab.bpe`.
    public init(path: String) throws {
        var p = path
        if TokenizerFiles.isDirectory(p) {
            if TokenizerFiles.exists(p + "/r50k_base.tiktoken") { p += "/r50k_base.tiktoken" }
            else if TokenizerFiles.exists(p + "/encoder.json") { p += "/encoder.json" }
            else { throw ThreshError(.io, "no r50k_base.tiktoken or encoder.json in the directory", file: path) }
        }
        if p.hasSuffix(".json") {
            ranks = try RankTable(encoderJSON: p)
        } else {
            ranks = try RankTable(tiktoken: p)
        }
        guard ranks.count == 50256 else { throw ThreshError(.invalidVocabulary, "expected 50256 ranks, found \(ranks.count)", file: p) }
    }

    /// A tokenizer with the same ranks and a cache of its own (for another thread), without reading the file again.
    public init(sharingRanksOf other: GPT2Tokenizer) {
        ranks = other.ranks
    }

    /// The token ids of `text` (special tokens are not recognised: `<|endoftext|>` in the text is ordinary text).
    public func encode(_ text: String) -> [UInt32] {
        var out: [UInt32] = []
        encode(text) { out.append($0) }
        return out
    }

    /// Calls `body` with each token id of `text`, in order.
    public func encode(_ text: String, _ body: (UInt32) -> Void) {
        // The cache is moved out for the call (and back after): a local is reached without the dynamic
        // exclusivity check that every access to a class's `var` property pays.
        var cache = self.cache.take() ?? PieceCache()
        defer { self.cache = cache }
        var text = text
        text.withUTF8 { utf8 in
            GPT2Pieces.forEach(utf8) { piece in
                encodePiece(piece, &cache, body)
            }
        }
    }

    /// The number of tokens of `text`.
    public func count(_ text: String) -> Int {
        var n = 0
        encode(text) { _ in n += 1 }
        return n
    }

    private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, _ cache: inout PieceCache, _ body: (UInt32) -> Void) {
        if let rank = ranks.rank(UnsafeRawBufferPointer(piece)) {
            body(rank)
            return
        }
        if cache.lookup(piece, body) { return }
        let tokens = bytePairMerge(piece)
        cache.insert(piece, tokens)
        for t in tokens { body(t) }
    }

    /// tiktoken's `_byte_pair_merge`: repeatedly merge the adjacent pair of lowest rank.
    private func bytePairMerge(_ piece: UnsafeBufferPointer<UInt8>) -> [UInt32] {
        let n = piece.count
        let raw = UnsafeRawBufferPointer(piece)
        // parts[i] = (start of part i, rank of the pair starting at part i)
        var starts = [Int](0...n)
        var pairRank = [UInt32](repeating: .max, count: n + 1)
        func rankOf(_ i: Int) -> UInt32 {
            // The bytes from part i to the start of part i + 2.
            guard i + 2 < starts.count else { return .max }
            return ranks.rank(UnsafeRawBufferPointer(rebasing: raw[starts[i]..<starts[i + 2]])) ?? .max
        }
        for i in 0..<(n - 1) { pairRank[i] = rankOf(i) }
        while starts.count > 2 {
            var best = UInt32.max
            var at = -1
            for i in 0..<(starts.count - 2) where pairRank[i] < best {
                best = pairRank[i]
                at = i
            }
            if at < 0 { break }
            starts.remove(at: at + 1)
            pairRank.remove(at: at + 1)
            pairRank[at] = rankOf(at)
            if at > 0 { pairRank[at - 1] = rankOf(at - 1) }
        }
        var tokens: [UInt32] = []
        tokens.reserveCapacity(starts.count - 1)
        for i in 0..<(starts.count - 1) {
            tokens.append(ranks.rank(UnsafeRawBufferPointer(rebasing: raw[starts[i]..<starts[i + 1]]))!)
        }
        return tokens
    }

    /// The bytes of a token (for decoding).
    public func bytes(of token: UInt32) -> [UInt8] { ranks.bytes(of: token) }

    /// Decodes ids back to text (invalid UTF-8 replaced).
    public func decode(_ ids: [UInt32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 5)
        for id in ids {
            if id == Self.endOfText { bytes += Array("<|endoftext|>".utf8) } else { ranks.appendBytes(of: id, to: &bytes) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

enum TokenizerFiles {
    static func exists(_ path: String) -> Bool { (try? RawFileReader(path: path)) != nil }
    static func isDirectory(_ path: String) -> Bool {
        do { _ = try RawFileReader(path: path); return false } catch let e as ThreshError { return e.message == "is a directory" } catch { return false }
    }
}

/// GPT-2's pre-tokenisation pattern, by hand.
enum GPT2Pieces {
    enum Class { case letter, number, space, other }

    @inline(__always)
    static func classify(_ scalar: Unicode.Scalar) -> Class {
        let v = scalar.value
        if v < 0x80 {
            let c = UInt8(v)
            if (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) { return .letter }
            if c >= 0x30 && c <= 0x39 { return .number }
            if c == 0x20 || (c >= 0x09 && c <= 0x0D) { return .space }
            return .other
        }
        let p = scalar.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Calls `body` with the UTF-8 bytes of each piece, in order.
    static func forEach(_ utf8: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let n = utf8.count
        guard n > 0 else { return }
        // Decode scalars with their byte offsets as we go.
        @inline(__always) func scalar(at i: Int) -> (Unicode.Scalar, Int) {
            let b0 = utf8[i]
            if b0 < 0x80 { return (Unicode.Scalar(b0), 1) }
            var length = 1
            var v: UInt32
            if b0 & 0xE0 == 0xC0 { v = UInt32(b0 & 0x1F); length = 2 }
            else if b0 & 0xF0 == 0xE0 { v = UInt32(b0 & 0x0F); length = 3 }
            else { v = UInt32(b0 & 0x07); length = 4 }
            for k in 1..<length { v = v << 6 | UInt32(utf8[i + k] & 0x3F) }
            return (Unicode.Scalar(v) ?? "\u{FFFD}", length)
        }
        @inline(__always) func classAt(_ i: Int) -> (Class, Int) {
            let (s, len) = scalar(at: i)
            return (classify(s), len)
        }
        func emit(_ a: Int, _ b: Int) { body(UnsafeBufferPointer(rebasing: utf8[a..<b])) }
        var i = 0
        while i < n {
            let c = utf8[i]
            // 1. Contractions: 's 't 'd 'm 'll 've 're (lowercase only).
            if c == 0x27, i + 1 < n {
                let d = utf8[i + 1]
                if d == 0x73 || d == 0x74 || d == 0x64 || d == 0x6D { emit(i, i + 2); i += 2; continue }
                if i + 2 < n {
                    let e = utf8[i + 2]
                    if (d == 0x6C && e == 0x6C) || (d == 0x76 && e == 0x65) || (d == 0x72 && e == 0x65) { emit(i, i + 3); i += 3; continue }
                }
            }
            // 2-4. An optional space, then letters, numbers, or other (not space/letter/number) characters.
            var start = i
            var j = i
            if c == 0x20 && i + 1 < n && classAt(i + 1).0 != .space { j = i + 1 }
            let (kind, firstLength) = classAt(j)
            if kind != .space {
                var k = j + firstLength
                while k < n {
                    let (next, len) = classAt(k)
                    if next != kind { break }
                    k += len
                }
                emit(start, k)
                i = k
                continue
            }
            // 5-7. Whitespace: the run to the end of text; or the run less its last character when something
            // follows; or a single whitespace character.
            start = i
            var k = i
            var lastLength = 0
            while k < n {
                let (next, len) = classAt(k)
                if next != .space { break }
                lastLength = len
                k += len
            }
            if k == n {
                emit(start, k); i = k
            } else if k - lastLength > start {
                emit(start, k - lastLength); i = k - lastLength
            } else {
                emit(start, k); i = k
            }
        }
    }
}

/// Token bytes → rank: an open-addressing hash table over a flat byte store (no `[UInt8]` keys).
final class RankTable {
    // Constants once built: `let` properties of a class are read without dynamic exclusivity checks, which
    // matter in a lookup made for every piece.
    private let store: [UInt8]
    private let offsets: [Int]  // token i's bytes are store[offsets[i]..<offsets[i + 1]]
    private let slots: [Int32]
    private let mask: Int

    var count: Int { offsets.count - 1 }

    init(tokens: [[UInt8]]) {
        var size = 1
        while size < tokens.count * 3 { size <<= 1 }
        var slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        var store: [UInt8] = [], offsets = [0]
        for t in tokens {
            store += t
            offsets.append(store.count)
        }
        for id in 0..<tokens.count {
            var h = Int(truncatingIfNeeded: Self.hash(UnsafeRawBufferPointer(start: nil, count: 0), tokens[id])) & mask
            while slots[h] >= 0 { h = (h + 1) & mask }
            slots[h] = Int32(id)
        }
        self.store = store
        self.offsets = offsets
        self.slots = slots
    }

    convenience init(tiktoken path: String) throws {
        let text = String(decoding: try readEntireFile(path), as: UTF8.self)
        var tokens: [[UInt8]] = []
        for (n, line) in text.split(separator: "\n").enumerated() {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let rank = Int(parts[1]), rank == tokens.count, let bytes = Base64.decode(String(parts[0])) else {
                throw ThreshError(.invalidVocabulary, "bad line", file: path, line: n + 1)
            }
            tokens.append(bytes)
        }
        self.init(tokens: tokens)
    }

    /// GPT-2's encoder.json maps token strings (bytes through GPT-2's byte-to-unicode table) to ids.
    convenience init(encoderJSON path: String) throws {
        let json = try readEntireFile(path).withUnsafeBytes { try JSONParser.parse($0) }
        guard let object = json.objectValue else { throw ThreshError(.invalidVocabulary, "not an object", file: path) }
        var byteOf: [Unicode.Scalar: UInt8] = [:]
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable { byteOf[Unicode.Scalar(UInt32(b))!] = UInt8(b) } else { byteOf[Unicode.Scalar(256 + n)!] = UInt8(b); n += 1 }
        }
        var tokens = [[UInt8]](repeating: [], count: 50256)
        for (key, value) in object {
            guard let id = value.intValue else { continue }
            if id == 50256 { continue }  // <|endoftext|> is special
            guard id < 50256 else { throw ThreshError(.invalidVocabulary, "id \(id) out of range", file: path) }
            tokens[id] = key.unicodeScalars.compactMap { byteOf[$0] }
        }
        self.init(tokens: tokens)
    }

    @inline(__always)
    static func hash(_ raw: UnsafeRawBufferPointer, _ array: [UInt8]? = nil) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        if let array { for c in array { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 } } else { for c in raw { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 } }
        return h ^ (h >> 29)
    }

    @inline(__always)
    func rank(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        var h = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
        return store.withUnsafeBufferPointer { s in
            while true {
                let id = Int(slots[h])
                if id < 0 { return nil }
                let a = offsets[id], b = offsets[id + 1]
                if b - a == bytes.count {
                    var equal = true
                    for k in 0..<bytes.count where s[a + k] != bytes[k] { equal = false; break }
                    if equal { return UInt32(id) }
                }
                h = (h + 1) & mask
            }
        }
    }

    func appendBytes(of id: UInt32, to out: inout [UInt8]) {
        let i = Int(id)
        guard i < count else { return }
        store.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[offsets[i]..<offsets[i + 1]])) }
    }

    func bytes(of id: UInt32) -> [UInt8] {
        let i = Int(id)
        guard i < count else { return [] }
        return Array(store[offsets[i]..<offsets[i + 1]])
    }
}

/// Merged pieces and their tokens, by piece bytes; cleared when it grows past its limit (memory stays bounded).
struct PieceCache {
    private var keys: [UInt8] = []
    private var entries: [(hash: UInt64, keyStart: Int, keyLength: Int, tokenStart: Int, tokenCount: Int)] = []
    private var tokens: [UInt32] = []
    private var slots = [Int32](repeating: -1, count: 1 << 16)
    private let limit = 1 << 15

    func lookup(_ piece: UnsafeBufferPointer<UInt8>, _ body: (UInt32) -> Void) -> Bool {
        let h = RankTable.hash(UnsafeRawBufferPointer(piece))
        var s = Int(truncatingIfNeeded: h) & (slots.count - 1)
        while slots[s] >= 0 {
            let e = entries[Int(slots[s])]
            if e.hash == h && e.keyLength == piece.count {
                var equal = true
                for k in 0..<piece.count where keys[e.keyStart + k] != piece[k] { equal = false; break }
                if equal {
                    for t in tokens[e.tokenStart..<(e.tokenStart + e.tokenCount)] { body(t) }
                    return true
                }
            }
            s = (s + 1) & (slots.count - 1)
        }
        return false
    }

    mutating func insert(_ piece: UnsafeBufferPointer<UInt8>, _ pieceTokens: [UInt32]) {
        if entries.count >= limit {
            keys.removeAll(keepingCapacity: true)
            entries.removeAll(keepingCapacity: true)
            tokens.removeAll(keepingCapacity: true)
            for i in slots.indices { slots[i] = -1 }
        }
        let h = RankTable.hash(UnsafeRawBufferPointer(piece))
        var s = Int(truncatingIfNeeded: h) & (slots.count - 1)
        while slots[s] >= 0 { s = (s + 1) & (slots.count - 1) }
        slots[s] = Int32(entries.count)
        entries.append((h, keys.count, piece.count, tokens.count, pieceTokens.count))
        keys.append(contentsOf: piece)
        tokens += pieceTokens
    }
}
