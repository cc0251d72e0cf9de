#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
public import ThreshCore
import ThreshIO

/// A source of the mix: documents, and its share of the tokens.
public struct MixSource: Sendable {
    public var name: String
    /// JSONL files (a directory in the mix file stands for all its .jsonl, .jsonl.gz and .jsonl.zst files).
    public var files: [String]
    public var weight: Double
    public init(name: String, files: [String], weight: Double) { self.name = name; self.files = files; self.weight = weight }

    /// Why `name` cannot name a source (it names files), or nil: letters, digits, '.', '_' and '-', not starting with '.'.
    public static func problem(withName name: String) -> String? {
        let allowed = name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
        guard !name.isEmpty, allowed, !name.hasPrefix(".") else {
            return "'\(name)' cannot be a name: use letters, digits, '.', '_' and '-' (no path separators, not starting with '.')"
        }
        return nil
    }
}

/// What to build: sources with token weights, a token budget, sequences and shards.
public struct MixPlan: Sendable {
    public var sources: [MixSource]
    /// Tokens in all (documents plus their `<|endoftext|>` separators).
    public var budgetTokens: Int
    public var seed: UInt64 = 0
    public var sequenceLength = 2048
    public var sequencesPerShard = 16384
    /// Also write the documents of each shard as text (`.jsonl.zst`), for trainers that tokenise themselves.
    public var textShards = true
    /// What one entry of the Megatron `.idx` holds.
    public var megatronEntries = MegatronLayout.document
    /// Recorded in the manifest: what the shards were made from (the runner reuses shards whose fingerprint matches).
    public var fingerprint: String?

    public init(sources: [MixSource], budgetTokens: Int) { self.sources = sources; self.budgetTokens = budgetTokens }

    /// The options of a mix, described once: the top level of a mix file, the `[[stage]] use = "shard"` table of a
    /// pipeline, and `thresh shard`'s flags.
    public static let schema = OptionsSchema("shard", [
        OptionSpec("budget-tokens", .integer(min: 2, max: 1 << 50), default: .integer(1_000_000),
                   help: "tokens in all (documents plus their <|endoftext|> separators)"),
        OptionSpec("seed", .integer(min: 0, max: .max), default: .integer(0), help: "seed of the epoch orders"),
        OptionSpec("sequence-length", .integer(min: 2, max: 1 << 24), default: .integer(2048), help: "tokens per training sequence"),
        OptionSpec("sequences-per-shard", .integer(min: 1, max: 1 << 32), default: .integer(16384), help: "sequences in each shard file"),
        OptionSpec("text-shards", .flag, default: .flag(true), help: "also write each shard's documents as text (.jsonl.zst)"),
        OptionSpec("megatron-entries", .choice(MegatronLayout.allCases.map(\.rawValue)), default: .text(MegatronLayout.document.rawValue),
                   help: "entries of the Megatron .idx: 'document' (one per document, as Megatron's preprocess_data.py writes; GPTDataset packs) or 'sequence' (one per pre-packed sequence)"),
        OptionSpec("max-epochs", .real(min: 0, max: 1e6, minExclusive: true), default: .real(10),
                   help: "most epochs any source may be repeated (GPT-3's largest was 3.4); a plan over it is an error"),
        OptionSpec("allow-epochs", .flag, default: .flag(false), help: "allow sources beyond max-epochs"),
    ])

    /// The options of one `[[source]]` table of a mix file.
    public static let sourceSchema = OptionsSchema("source", [
        OptionSpec("name", .text, required: true, help: "the source's name (letters, digits, '.', '_' and '-')"),
        OptionSpec("path", .list, required: true, help: "a file, a directory (read recursively) or a list of them"),
        OptionSpec("weight", .real(min: 0, max: 1e12, minExclusive: true), required: true, help: "the source's share of the tokens (normalised)"),
    ])

    /// Files in the sources' directories that are not JSONL (by name), which `load` left out; the caller names them.
    public var skippedFiles: [String] = []

    /// Most epochs a source may be repeated (see `allowEpochs`).
    public var maxEpochs = 10.0
    /// Allow sources beyond `maxEpochs`.
    public var allowEpochs = false

    /// Sets the plan's options from a schema-checked table or command line.
    public mutating func apply(_ values: OptionValues) {
        budgetTokens = values.int("budget-tokens")
        seed = values.uint64("seed")
        sequenceLength = values.int("sequence-length")
        sequencesPerShard = values.int("sequences-per-shard")
        textShards = values.bool("text-shards")
        megatronEntries = MegatronLayout(rawValue: values.string("megatron-entries")) ?? .document
        maxEpochs = values.double("max-epochs")
        allowEpochs = values.bool("allow-epochs")
    }

    /// Reads a mix file (TOML): the keys of `schema`, and `[[source]]` tables with `name`, `path` (file, directory
    /// or list of them) and `weight` (shares are normalised). Relative paths are relative to the mix file's directory.
    /// - Throws: `.config` naming the file, line and key of any unknown key, wrong type or out-of-range number.
    public static func load(_ path: String) throws -> MixPlan {
        let doc = try TOMLDocument.parse(String(decoding: try readEntireFile(path), as: UTF8.self), file: path)
        let base = Paths.directory(of: path)
        let values = try schema.parse(table: doc.root, in: doc, at: "", ignoring: ["source"])
        guard case .array(let sources)? = doc.root["source"], !sources.isEmpty else { throw doc.error("at least one [[source]] is required", at: "source") }
        var mixSources: [MixSource] = []
        var skippedFiles: [String] = []
        for (n, s) in sources.enumerated() {
            let key = "source[\(n)]"
            guard case .object(let table) = s else { throw doc.error("must be a table", at: key) }
            let v = try sourceSchema.parse(table: table, in: doc, at: key)
            let name = v.string("name")
            if let problem = MixSource.problem(withName: name) { throw doc.error(problem, at: key + ".name") }
            guard !mixSources.contains(where: { $0.name == name }) else { throw doc.error("a second source named '\(name)'", at: key + ".name") }
            var files: [String] = []
            for p in v.list("path") {
                let full = Paths.resolve(p, relativeTo: base)
                let listed = try documentFiles(full) { skippedFiles.append($0) }
                guard !listed.isEmpty else { throw doc.error("no documents at \(full)", at: key + ".path") }
                files += listed
            }
            mixSources.append(MixSource(name: name, files: files, weight: v.double("weight")))
        }
        var plan = MixPlan(sources: mixSources, budgetTokens: 1)
        plan.skippedFiles = skippedFiles
        plan.apply(values)
        try plan.check()
        return plan
    }

    /// Checks what can be checked before any work: the budget must fill at least one sequence.
    /// - Throws: `.config` when the plan would yield no shard.
    public func check() throws {
        guard budgetTokens >= sequenceLength else {
            throw ThreshError(.config, "shard: budget-tokens (\(budgetTokens)) is less than one sequence (sequence-length \(sequenceLength)): the plan yields no shard")
        }
    }

    /// A file, or a directory's document files (every JSONL spelling, in subfolders too) sorted by path.
    /// Other files in a directory are named on stderr by the caller through `skipped`.
    static func documentFiles(_ path: String, skipped: ((String) -> Void)? = nil) throws -> [String] {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ThreshError(.io, "no such file or directory", file: path) }
        if (info.st_mode & S_IFMT) != S_IFDIR { return [path] }
        var files: [String] = []
        for name in try listDirectory(path) {
            let full = path + "/" + name
            if Paths.isDirectory(full) { files += try documentFiles(full, skipped: skipped); continue }
            let lower = name.lowercased()
            if [".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".json.gz", ".json.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst"].contains(where: { lower.hasSuffix($0) }) {
                files.append(full)
            } else {
                skipped?(full)
            }
        }
        return files
    }
}

/// Builds training shards from a mix: GPT-2 tokens, token-weighted mixing with epochs, documents joined by
/// `<|endoftext|>` and packed into fixed-length sequences.
///
/// 1. Tokenise each source once into `OUT/work/<source>.tokens` (uint16) with document offsets (on disk).
/// 2. Per source, epochs = weight × budget / tokens. Each epoch draws every document once, in an order shuffled by
///    (seed, source, epoch); the last, partial epoch takes that order's prefix. So a source repeats beyond one epoch
///    and is subsampled below one, and no document repeats within an epoch.
/// 3. Sources are interleaved by tokens: the next document comes from the source furthest below its share.
/// 4. Documents, each followed by `<|endoftext|>`, are packed into sequences of `sequenceLength` tokens; the tokens
///    after the last full sequence are dropped (counted in the manifest as `dropped_tail_tokens`).
/// 5. Shards of `sequencesPerShard` sequences (a remainder under half a shard joins the last full shard):
///    `shard-NNNNN.bin` (flat little-endian uint16: nanoGPT's format, and Megatron's data file), `shard-NNNNN.idx`
///    (Megatron-LM MMIDIDX version 1, one entry per document, or per sequence with `megatronEntries`), and with
///    text shards `shard-NNNNN.jsonl.zst` (exactly the documents whose first token is in the shard, decoded, with
///    their origin and token span). `manifest.json`
///    lists per shard tokens, documents, sequences, tokens per source and sha256 of every file.
///
/// Memory: per source, 16 bytes per document for token and origin offsets and 4 for the epoch order; tokens and
/// origins (id, URL) stay on disk. Shards are written as their sequences complete: one sequence, the documents
/// started in it and one Megatron entry length per document of the open shard are held.
public final class Sharder {
    public let plan: MixPlan
    public let output: String
    private let tokenizer: GPT2Tokenizer
    public var progress: ((String) -> Void)?
    /// Threads that tokenise (each document is still written in order, so the output does not depend on it).
    public var workers = 1

    public init(plan: MixPlan, vocabulary: String, output: String) throws {
        self.plan = plan
        self.output = output
        tokenizer = try GPT2Tokenizer(path: vocabulary)
    }

    struct TokenizedSource {
        var name: String
        var offsets: [UInt64]   // document i is tokens[offsets[i]..<offsets[i+1]]
        var fd: Int32
        /// The cache files' common path (`OUT/work/NAME.FINGERPRINT`), for messages.
        var base: String
        /// Each document's origin (`{"id":…,"url":…}`, one JSON object), for text shards: document i is
        /// meta[metaOffsets[i]..<metaOffsets[i+1]].
        var metaOffsets: [UInt64]
        var metaFD: Int32
        var tokens: Int { Int(offsets.last ?? 0) }
        var documents: Int { offsets.count - 1 }

        func close() {
            Glibc.close(fd)
            Glibc.close(metaFD)
        }

        /// The origin of document `i`, as written when tokenising.
        func origin(of i: Int) throws -> JSONObject {
            let start = Int(metaOffsets[i]), end = Int(metaOffsets[i + 1])
            var bytes = [UInt8](repeating: 0, count: end - start)
            let got = bytes.withUnsafeMutableBytes { pread(metaFD, $0.baseAddress, end - start, off_t(start)) }
            guard got == end - start, let o = try? bytes.withUnsafeBytes({ try JSONParser.parse($0) }).objectValue else {
                throw ThreshError(.invalidOutput, "document \(i)'s origin cannot be read back; delete the file to tokenise again", file: base + ".meta")
            }
            return o
        }
    }

    /// Runs everything and returns the manifest.
    @discardableResult
    public func run() throws -> JSONObject {
        try Paths.makeDirectories(output + "/work")
        var sources: [TokenizedSource] = []
        var planSources: [MixSource] = []
        for s in plan.sources {
            let t = try tokenize(s)
            // A source left empty upstream (everything filtered out) gets no share; the others are renormalised.
            if t.documents == 0 { progress?("source '\(s.name)' has no documents; its weight goes to the others"); t.close(); continue }
            sources.append(t)
            planSources.append(s)
        }
        guard !sources.isEmpty else { throw ThreshError(.usage, "no source has any documents") }
        defer { for s in sources { s.close() } }
        let totalWeight = planSources.reduce(0) { $0 + $1.weight }
        var targets: [Double] = []
        var epochs: [Double] = []
        for (k, s) in sources.enumerated() {
            let target = planSources[k].weight / totalWeight * Double(plan.budgetTokens)
            targets.append(target)
            let withSeparators = Double(s.tokens + s.documents)
            guard withSeparators > 0 else { throw ThreshError(.usage, "source '\(s.name)' has no tokens") }
            epochs.append(target / withSeparators)
            if target / withSeparators > plan.maxEpochs && !plan.allowEpochs {
                throw ThreshError(.data, "shard: source '\(s.name)' has \(s.tokens + s.documents) tokens (with separators) in \(s.documents) documents; its weight would need \(format3(target / withSeparators)) epochs, more than max-epochs \(OptionValue.real(plan.maxEpochs)) (lower its weight or the budget, or set allow-epochs)")
            }
        }
        var streams = sources.enumerated().map { EpochStream(documents: $0.element.documents, seed: plan.seed, source: $0.element.name) }
        var emitted = [Double](repeating: 0, count: sources.count)
        var packer = try Packer(output: output, plan: plan, sourceNames: sources.map(\.name), tokenizer: tokenizer)
        var buffer = [UInt16]()
        var drawn = [Int](repeating: 0, count: sources.count)
        while true {
            // The source furthest below its share (by name on ties, for determinism).
            var best = -1
            var bestRatio = Double.infinity
            for k in sources.indices where emitted[k] < targets[k] {
                let ratio = emitted[k] / targets[k]
                if ratio < bestRatio { bestRatio = ratio; best = k }
            }
            guard best >= 0 else { break }
            let doc = streams[best].next()
            let s = sources[best]
            let start = Int(s.offsets[doc]), end = Int(s.offsets[doc + 1])
            buffer = [UInt16](repeating: 0, count: end - start)
            if end > start {
                let want = (end - start) * 2
                let got = buffer.withUnsafeMutableBytes { pread(s.fd, $0.baseAddress, want, off_t(start * 2)) }
                guard got == want else { throw ThreshError(.io, "short read of tokens", file: s.base + ".tokens") }
            }
            let origin = plan.textShards ? try s.origin(of: doc) : [:]
            // The budget holds for long documents too: the document that reaches it is cut there (no separator).
            let room = plan.budgetTokens - Int(emitted.reduce(0, +))
            if buffer.count + 1 > room {
                buffer.removeLast(max(0, buffer.count - room))
                try packer.add(document: buffer, source: best, origin: origin, separator: false)
                emitted[best] += Double(buffer.count)
                drawn[best] += 1
                break
            }
            try packer.add(document: buffer, source: best, origin: origin)
            emitted[best] += Double(end - start + 1)
            drawn[best] += 1
            if drawn.reduce(0, +) % 10_000 == 0 { progress?("packing: \(Int(emitted.reduce(0, +))) of \(plan.budgetTokens) tokens") }
        }
        var manifest = try packer.finish()
        var sourcesInfo: [JSONValue] = []
        for (k, s) in sources.enumerated() {
            sourcesInfo.append(.object([
                "name": .string(s.name), "weight": .double(planSources[k].weight / totalWeight),
                "documents": .int(s.documents), "tokens_with_separators": .int(s.tokens + s.documents),
                "epochs": .double(epochs[k]), "documents_drawn": .int(drawn[k]),
                "tokens_emitted": .int(Int(emitted[k])),
                "realised_share": .double(emitted[k] / max(1, emitted.reduce(0, +))),
            ]))
        }
        manifest["sources"] = .array(sourcesInfo)
        manifest["budget_tokens"] = .int(plan.budgetTokens)
        if let fingerprint = plan.fingerprint { manifest["fingerprint"] = .string(fingerprint) }
        manifest["seed"] = .number(String(plan.seed))
        manifest["tokenizer"] = .string("gpt2 (r50k_base), <|endoftext|> = 50256 after every document")
        manifest["last_partial_sequence"] = .string("dropped (dropped_tail_tokens)")
        let out = try OutputFile(path: output + "/manifest.json", compression: .none)
        try out.write(JSONWriter.string(.object(manifest)) + "\n")
        try out.close()
        return manifest
    }

    /// Tokenises a source into OUT/work (skipped when done earlier).
    private func tokenize(_ source: MixSource) throws -> TokenizedSource {
        // Named by the source's files (paths, sizes, modification times), so changed inputs are tokenised again.
        let key = try Fingerprint.of(parts: source.files.flatMap { [$0, try Paths.identity(of: $0)] })
        let base = output + "/work/\(source.name).\(key)"
        let tokensPath = base + ".tokens", offsetsPath = base + ".offsets", metaPath = base + ".meta", metaOffsetsPath = base + ".metaoffsets"
        if ![tokensPath, offsetsPath, metaPath, metaOffsetsPath].allSatisfy(Paths.exists) {
            let tokens = try OutputFile(path: tokensPath, compression: .none)
            let offsets = try OutputFile(path: offsetsPath, compression: .none)
            let meta = try OutputFile(path: metaPath, compression: .none)
            let metaOffsets = try OutputFile(path: metaOffsetsPath, compression: .none)
            var position: UInt64 = 0, metaPosition: UInt64 = 0
            try offsets.write(withUnsafeBytes(of: position.littleEndian) { Array($0) })
            try metaOffsets.write(withUnsafeBytes(of: metaPosition.littleEndian) { Array($0) })
            var documents = 0
            // Documents are read in batches; each worker tokenises a contiguous slice of the batch with its own
            // tokenizer (their piece caches are not shared), and the batch is written in document order.
            // Each tokenizer is used by one slice's thread only (a batch's slices run at once, one per tokenizer).
            nonisolated(unsafe) let tokenizers = [tokenizer] + (1..<max(1, workers)).map { _ in GPT2Tokenizer(sharingRanksOf: tokenizer) }
            let batchSize = 256
            var batch: [String] = []
            var origins: [[UInt8]] = []
            func flush() throws {
                guard !batch.isEmpty else { return }
                let texts = batch
                let slices = min(tokenizers.count, texts.count)
                let results = Mutex<[[[UInt16]]]>(Array(repeating: [], count: slices))
                let run = { @Sendable (slice: Int) in
                    let tokenizer = tokenizers[slice]
                    let range = (texts.count * slice / slices)..<(texts.count * (slice + 1) / slices)
                    var encoded: [[UInt16]] = []
                    encoded.reserveCapacity(range.count)
                    for text in texts[range] {
                        var ids: [UInt16] = []
                        tokenizer.encode(text) { ids.append(UInt16($0).littleEndian) }
                        encoded.append(ids)
                    }
                    results.withLock { $0[slice] = encoded }
                }
                if slices == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: slices, execute: run) }
                for (ids, origin) in zip(results.withLock({ $0 }).joined(), origins) {
                    try ids.withUnsafeBytes { try tokens.write($0) }
                    position += UInt64(ids.count)
                    try offsets.write(withUnsafeBytes(of: position.littleEndian) { Array($0) })
                    try meta.write(origin)
                    metaPosition += UInt64(origin.count)
                    try metaOffsets.write(withUnsafeBytes(of: metaPosition.littleEndian) { Array($0) })
                    documents += 1
                    if documents % 10_000 == 0 { progress?("tokenizing \(source.name): \(documents) documents") }
                }
                batch.removeAll(keepingCapacity: true)
                origins.removeAll(keepingCapacity: true)
            }
            for file in source.files {
                let reader = try DocumentReader(path: file)
                while let d = try reader.next() {
                    batch.append(d.text)
                    var origin: JSONObject = ["id": .string(d.id)]
                    if let url = d.url { origin["url"] = .string(url) }
                    origins.append(Array(JSONWriter.string(.object(origin)).utf8))
                    if batch.count == batchSize { try flush() }
                }
            }
            try flush()
            try tokens.close()
            try meta.close()
            try metaOffsets.close()
            try offsets.close()
        }
        func readOffsets(_ path: String) throws -> [UInt64] {
            let raw = try readEntireFile(path)
            var offsets: [UInt64] = []
            offsets.reserveCapacity(raw.count / 8)
            raw.withUnsafeBytes { r in for o in stride(from: 0, to: raw.count / 8 * 8, by: 8) { offsets.append(UInt64(littleEndian: r.loadUnaligned(fromByteOffset: o, as: UInt64.self))) } }
            return offsets
        }
        let offsets = try readOffsets(offsetsPath), metaOffsets = try readOffsets(metaOffsetsPath)
        guard metaOffsets.count == offsets.count else {
            throw ThreshError(.invalidOutput, "\(metaOffsets.count - 1) origins for \(offsets.count - 1) documents; delete the file to tokenise again", file: metaOffsetsPath)
        }
        let fd = open(tokensPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ThreshError(.io, "cannot open", file: tokensPath) }
        let metaFD = open(metaPath, O_RDONLY | O_CLOEXEC)
        guard metaFD >= 0 else { close(fd); throw ThreshError(.io, "cannot open", file: metaPath) }
        return TokenizedSource(name: source.name, offsets: offsets, fd: fd, base: base, metaOffsets: metaOffsets, metaFD: metaFD)
    }
}

/// Document order of one source across epochs: each epoch a permutation seeded by (seed, source, epoch).
struct EpochStream {
    let documents: Int
    let seed: UInt64
    let source: String
    var epoch = 0
    var order: [UInt32] = []
    var position = 0

    init(documents: Int, seed: UInt64, source: String) {
        self.documents = documents
        self.seed = seed
        self.source = source
    }

    mutating func next() -> Int {
        if position >= order.count { shuffle() }
        defer { position += 1 }
        return Int(order[position])
    }

    private mutating func shuffle() {
        var state = seed ^ 0x7368_6172_6473  // "shards"
        for c in source.utf8 { state = (state ^ UInt64(c)) &* 0x100_0000_01b3 }
        state ^= UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15
        var random = SplitMix64(state: state)
        func next() -> UInt64 { random.next() }
        order = (0..<documents).map { UInt32($0) }
        if documents > 1 {
            for i in stride(from: documents - 1, to: 0, by: -1) {
                let j = Int(next() % UInt64(i + 1))
                order.swapAt(i, j)
            }
        }
        position = 0
        epoch += 1
    }
}

/// Packs documents into sequences and sequences into shard files, streaming: each sequence goes to its shard's
/// `.bin` (and digest, and Megatron entries) as it completes, and the documents that start in it to the shard's
/// text file. Held in memory: the sequence being filled, the documents started in it (with their tokens, for their
/// text), and one Megatron entry length per document of the open shard.
struct Packer {
    let output: String
    let plan: MixPlan
    let sourceNames: [String]
    let tokenizer: GPT2Tokenizer
    var shardIndex = 0
    var sequence: [UInt16] = []
    /// Per-source tokens of the sequence being filled (they join the shard's counts when it is complete).
    var sequenceSourceTokens: [Int]
    /// Documents started in the sequence being filled, each with where it starts in the token stream. They join
    /// their shard's text when the sequence completes; those still here at the end started in the dropped tail.
    var pending: [StartedDocument] = []
    /// Tokens in the shards closed so far (the stream position where the open shard begins).
    var tokensWritten = 0
    var shards: [JSONValue] = []
    var open: OpenShard?

    /// The shard being written.
    struct OpenShard {
        var bin: OutputFile
        var binDigest = SHA256()
        var text: DocumentWriter?
        var sequences = 0
        var tokens = 0
        var documentsStarted = 0
        var sourceTokens: [Int]
        /// Megatron entry lengths so far, and the tokens of the entry still open (a document not yet ended).
        var entries: [Int] = []
        var openEntry = 0
    }

    /// A document as placed in the token stream: its source, origin, first token's position and token count
    /// (with the separator).
    struct StartedDocument {
        var source: Int
        var origin: JSONObject
        var tokens: [UInt16]
        var start: Int
        var count: Int
        /// Cut at the token budget (no separator; its text may end inside a character).
        var cut: Bool
    }

    init(output: String, plan: MixPlan, sourceNames: [String], tokenizer: GPT2Tokenizer) throws {
        self.output = output
        self.plan = plan
        self.sourceNames = sourceNames
        self.tokenizer = tokenizer
        sequenceSourceTokens = [Int](repeating: 0, count: sourceNames.count)
        sequence.reserveCapacity(plan.sequenceLength)
    }

    /// Sequences the plan yields in all: the budget's full sequences.
    var plannedSequences: Int { plan.budgetTokens / plan.sequenceLength }

    /// Sequences of shard `index`: `sequencesPerShard`, except that a remainder under half a shard joins the shard
    /// before it. So no shard but a lone one is tiny: Megatron's split of a tiny dataset (`split = "90,10,0"` over a
    /// few documents) leaves a split with no document, and its epoch count then never ends.
    func sequencesInShard(_ index: Int) -> Int {
        let perShard = plan.sequencesPerShard
        let fullShards = plannedSequences / perShard, remainder = plannedSequences % perShard
        if fullShards >= 1, remainder > 0, remainder * 2 < perShard, index == fullShards - 1 { return perShard + remainder }
        return perShard
    }

    var shardBase: String { output + "/shard-" + format6(shardIndex) }

    mutating func add(document: [UInt16], source: Int, origin: JSONObject = [:], separator: Bool = true) throws {
        let total = document.count + (separator ? 1 : 0)
        guard total > 0 else { return }  // a document cut to nothing at the budget
        let start = tokensWritten + (open?.tokens ?? 0) + sequence.count
        pending.append(StartedDocument(source: source, origin: origin, tokens: plan.textShards ? document : [], start: start,
                                       count: document.count + (separator ? 1 : 0), cut: !separator))
        let endOfText = UInt16(GPT2Tokenizer.endOfText).littleEndian
        var position = 0
        while position < total {
            // Copy as much of the document as fits in the sequence being filled.
            let take = min(total - position, plan.sequenceLength - sequence.count)
            let fromDocument = min(take, document.count - min(position, document.count))
            if fromDocument > 0 { sequence += document[position..<(position + fromDocument)] }
            if take > fromDocument { sequence.append(endOfText) }
            sequenceSourceTokens[source] += take
            position += take
            if sequence.count == plan.sequenceLength { try completeSequence() }
        }
    }

    /// Writes the full sequence to the open shard (opening one if needed), lists the documents started in it, and
    /// closes the shard when it has its sequences.
    private mutating func completeSequence() throws {
        if open == nil {
            open = OpenShard(bin: try OutputFile(path: shardBase + ".bin", compression: .none),
                             text: plan.textShards ? try DocumentWriter(path: shardBase + ".jsonl.zst") : nil,
                             sourceTokens: [Int](repeating: 0, count: sourceNames.count))
        }
        try sequence.withUnsafeBytes { bytes in
            try open!.bin.write(bytes)
            open!.binDigest.update(bytes)
        }
        switch plan.megatronEntries {
        case .sequence:
            open!.entries.append(plan.sequenceLength)
        case .document:
            // As MegatronIndex.entryLengths cuts the .bin: after each separator (long pieces split at int32's end).
            let separator = UInt16(GPT2Tokenizer.endOfText).littleEndian
            for token in sequence {
                open!.openEntry += 1
                if open!.openEntry == MegatronIndex.mostEntryTokens { open!.entries.append(open!.openEntry); open!.openEntry = 0 }
                if token == separator { open!.entries.append(open!.openEntry); open!.openEntry = 0 }
            }
        }
        for k in sequenceSourceTokens.indices { open!.sourceTokens[k] += sequenceSourceTokens[k]; sequenceSourceTokens[k] = 0 }
        // Each document keeps its source document's id and URL (an id may recur in later epochs); attrs give its span
        // in this shard's .bin: tokens [shard_token_start, shard_token_start + shard_tokens), the separator included,
        // running into the next shard when it passes this one's end. Every line has the same keys (`url` null when
        // unknown, `cut_at_budget` always), as loaders that infer one schema from the first rows (Hugging Face
        // datasets, pandas) need.
        for d in pending {
            open!.documentsStarted += 1
            guard let text = open!.text else { continue }
            var document = Document(id: d.origin["id"]?.stringValue ?? "", source: sourceNames[d.source],
                                    text: tokenizer.decode(d.tokens.map { UInt32(UInt16(littleEndian: $0)) }))
            document.fields["url"] = d.origin["url"] ?? .null
            document.attrs = ["shard_token_start": .int(d.start - tokensWritten), "shard_tokens": .int(d.count),
                              "cut_at_budget": .bool(d.cut)]
            try text.write(document)
        }
        pending.removeAll(keepingCapacity: true)
        open!.sequences += 1
        open!.tokens += sequence.count
        sequence.removeAll(keepingCapacity: true)
        if open!.sequences == sequencesInShard(shardIndex) { try closeShard() }
    }

    /// Closes the open shard: its .bin and text, its Megatron index, and its manifest entry.
    private mutating func closeShard() throws {
        guard var shard = open else { return }
        open = nil
        if shard.openEntry > 0 { shard.entries.append(shard.openEntry) }  // a document running into the next shard
        let name = "shard-" + format6(shardIndex)
        var entry = JSONObject()
        entry["name"] = .string(name)
        entry["sequences"] = .int(shard.sequences)
        entry["tokens"] = .int(shard.tokens)
        entry["documents_started"] = .int(shard.documentsStarted)
        entry["megatron_entries"] = .int(shard.entries.count)
        entry["tokens_per_source"] = .object(JSONObject(sourceNames.enumerated().map { (key: $0.element, value: .int(shard.sourceTokens[$0.offset])) }))
        // Digests are keyed by the files' own names (`shard-00000.bin`), as they lie beside the manifest.
        var files = JSONObject()
        try shard.bin.close()
        files[name + ".bin"] = .string(hexString(shard.binDigest.finalize()))
        let index = MegatronIndex.bytes(entryLengths: shard.entries)
        let idx = try OutputFile(path: shardBase + ".idx", compression: .none)
        try idx.write(index)
        try idx.close()
        files[name + ".idx"] = .string(index.withUnsafeBytes { hexString(SHA256.hash($0)) })
        if let text = shard.text {
            try text.close()
            files[name + ".jsonl.zst"] = .string(hexString(try readFileDigest(shardBase + ".jsonl.zst")))
        }
        entry["sha256"] = .object(files)
        shards.append(.object(entry))
        shardIndex += 1
        tokensWritten += shard.tokens
    }

    mutating func finish() throws -> JSONObject {
        // The tokens of an unfinished last sequence are dropped, and the documents that started in it.
        let tail = sequence.count
        let droppedTailDocuments = pending.count
        try closeShard()
        var manifest = JSONObject()
        manifest["format"] = .string("thresh-shards")
        manifest["version"] = .int(ShardVerifier.manifestVersion)
        manifest["sequence_length"] = .int(plan.sequenceLength)
        manifest["dtype"] = .string("uint16 little-endian")
        manifest["megatron_entries"] = .string(plan.megatronEntries.rawValue)
        manifest["dropped_tail_tokens"] = .int(tail)
        manifest["dropped_tail_documents"] = .int(droppedTailDocuments)
        manifest["shards"] = .array(shards)
        return manifest
    }
}

func format6(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 5 - s.count)) + s
}

func readFileDigest(_ path: String) throws -> [UInt8] {
    let bytes = try RawFileReader(path: path)
    var sha = SHA256()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try chunk.withUnsafeMutableBytes { try bytes.read(into: $0) }
        if n == 0 { break }
        chunk[0..<n].withUnsafeBytes { sha.update($0) }
    }
    return sha.finalize()
}

/// What one entry of a shard's Megatron `.idx` holds.
public enum MegatronLayout: String, CaseIterable, Sendable {
    /// One entry per document: its tokens and its `<|endoftext|>` (as Megatron's `preprocess_data.py --append-eod`
    /// writes them), so `GPTDataset` sees document boundaries, shuffles documents and packs its own samples. A
    /// document running over a shard's end is two entries, one in each shard.
    case document
    /// One entry per pre-packed sequence of `sequence-length` tokens (documents inside joined by `<|endoftext|>`),
    /// for trainers that want the samples exactly as Thresh packed them.
    case sequence
}

/// Megatron-LM's indexed dataset index (`MMIDIDX`, version 1): a header, then the entry lengths (int32), the
/// byte offsets of the entries in the .bin (int64), and the document index (int64: where each document's entries
/// begin, here one entry per document).
public enum MegatronIndex {
    /// dtype code 8 = uint16 in Megatron's `DType`.
    public static let uint16Code: UInt8 = 8
    /// The largest entry an int32 length holds; a longer document piece (over 2^31 tokens) is split.
    static let mostEntryTokens = Int(Int32.max)

    /// The index of entries with these lengths, laid out one after another in the .bin.
    public static func bytes(entryLengths: [Int]) -> [UInt8] {
        let count = entryLengths.count
        var out: [UInt8] = Array("MMIDIDX\u{0}\u{0}".utf8)
        out.reserveCapacity(out.count + 17 + count * 20 + 8)
        func put64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        func put32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        put64(1)
        out.append(uint16Code)
        put64(UInt64(count))
        put64(UInt64(count + 1))
        for length in entryLengths { put32(Int32(length)) }
        var offset: UInt64 = 0
        for length in entryLengths { put64(offset); offset += UInt64(length) * 2 }
        for i in 0...count { put64(UInt64(i)) }
        return out
    }

    /// Entry lengths of a shard's tokens (little-endian uint16, as in the .bin) in `layout`. Documents are found by
    /// their separators: the tokenizer never makes `<|endoftext|>` from text, so each one ends a document, and what
    /// follows the last one is the start of a document running into the next shard (or cut at the budget).
    public static func entryLengths(of tokens: [UInt16], layout: MegatronLayout, sequenceLength: Int) -> [Int] {
        switch layout {
        case .sequence:
            return Array(repeating: sequenceLength, count: tokens.count / sequenceLength)
        case .document:
            let separator = UInt16(GPT2Tokenizer.endOfText).littleEndian
            var lengths: [Int] = []
            var start = 0
            func entry(_ end: Int) {
                var from = start
                while end - from > mostEntryTokens { lengths.append(mostEntryTokens); from += mostEntryTokens }
                if end > from { lengths.append(end - from) }
                start = end
            }
            for (i, token) in tokens.enumerated() where token == separator { entry(i + 1) }
            entry(tokens.count)
            return lengths
        }
    }
}

extension StageStatistics {
    /// The summary row of a shard build, from its manifest: documents read and drawn (epochs included), tokens
    /// emitted, the tail dropped, and the token bytes written (two per token).
    public init(shardManifest manifest: JSONObject, inputBytes: Int64, seconds: Double) {
        self.init(stage: "shard")
        for source in manifest["sources"]?.arrayValue ?? [] {
            let o = source.objectValue ?? [:]
            documentsIn += o["documents"]?.intValue ?? 0
            documentsOut += o["documents_drawn"]?.intValue ?? 0
            count("tokens", o["tokens_emitted"]?.intValue ?? 0)
        }
        bytesIn = inputBytes
        for shard in manifest["shards"]?.arrayValue ?? [] { bytesOut += Int64(shard.objectValue?["tokens"]?.intValue ?? 0) * 2 }
        count("dropped-tail-tokens", manifest["dropped_tail_tokens"]?.intValue ?? 0)
        self.seconds = seconds
    }
}
