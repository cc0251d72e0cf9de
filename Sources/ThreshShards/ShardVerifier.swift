import ThreshCore
import ThreshIO

/// `thresh shard verify`: rereads every shard and checks it against the manifest (sizes, token and sequence
/// counts, the Megatron index, the text shards, and every sha256).
public enum ShardVerifier {
    /// The manifest layout this build writes and reads. 2: digests keyed by file name (`shard-00000.bin`).
    /// 3: `megatron_entries` names the `.idx` layout (one entry per document by default).
    public static let manifestVersion = 3

    /// Problems found (empty when everything agrees).
    /// - Parameter tokenizer: when given, every text-shard document is tokenised again and compared with the tokens
    ///   of its span in the `.bin` files (across a shard boundary too); without it, the spans are only checked to
    ///   tile the token stream with no gap or overlap.
    public static func verify(_ directory: String, tokenizer: GPT2Tokenizer? = nil) throws -> [String] {
        let manifestBytes = try readEntireFile(directory + "/manifest.json")
        guard let manifest = try manifestBytes.withUnsafeBytes({ try JSONParser.parse($0) }).objectValue,
              manifest["format"]?.stringValue == "thresh-shards" else {
            return ["manifest.json is not a Thresh shard manifest"]
        }
        guard manifest["version"]?.intValue == manifestVersion else {
            return ["manifest.json: version \(manifest["version"].map { JSONWriter.string($0) } ?? "missing"), this build reads version \(manifestVersion); build the shards again"]
        }
        // Every number in the manifest is checked before use: it is data, and data never traps.
        let mostCount = 1 << 48
        guard let length = manifest["sequence_length"]?.intValue, (2...(1 << 24)).contains(length) else {
            return ["manifest.json: sequence_length must be an integer from 2 to 2^24"]
        }
        guard let layout = manifest["megatron_entries"]?.stringValue.flatMap(MegatronLayout.init(rawValue:)) else {
            return ["manifest.json: megatron_entries must be one of \(MegatronLayout.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))"]
        }
        var problems: [String] = []
        var textCheck = TextShardCheck(tokenizer: tokenizer)
        for (n, shard) in (manifest["shards"]?.arrayValue ?? []).enumerated() {
            let o = shard.objectValue ?? [:]
            guard let name = o["name"]?.stringValue, MixSource.problem(withName: name) == nil else {
                problems.append("manifest.json: shards[\(n)].name is missing or not a plain file name")
                continue
            }
            guard let sequences = o["sequences"]?.intValue, (0...mostCount).contains(sequences),
                  let tokens = o["tokens"]?.intValue, (0...mostCount).contains(tokens) else {
                problems.append("manifest.json: shards[\(n)] (\(name)): sequences and tokens must be integers from 0 to 2^48")
                continue
            }
            if tokens != sequences * length { problems.append("\(name): \(tokens) tokens is not \(sequences) sequences of \(length)") }
            let sources = (o["tokens_per_source"]?.objectValue ?? [:]).reduce(0) { $0 + ($1.value.intValue ?? 0) }
            if sources != tokens { problems.append("\(name): tokens per source add up to \(sources), not \(tokens)") }
            let digests = o["sha256"]?.objectValue ?? [:]
            for required in [name + ".bin", name + ".idx"] where digests[required] == nil {
                problems.append("manifest.json: \(name) has no sha256 for \(required)")
            }
            for (file, digest) in digests {
                guard MixSource.problem(withName: file) == nil else { problems.append("manifest.json: '\(file)' is not a plain file name"); continue }
                let path = directory + "/" + file
                guard let actual = try? readFileDigest(path) else { problems.append("\(file): missing"); continue }
                if hexString(actual) != digest.stringValue { problems.append("\(file): sha256 differs from the manifest") }
            }
            let bin = try readEntireRawFile(directory + "/" + name + ".bin")
            if bin.count != tokens * 2 { problems.append("\(name).bin: \(bin.count) bytes for \(tokens) tokens") }
            // Tokens as stored (little-endian), as the sharder saw them when it wrote the index.
            let storedTokens = bin.withUnsafeBytes { raw in (0..<(raw.count / 2)).map { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) } }
            if digests[name + ".jsonl.zst"] != nil {
                let shardTokens = storedTokens.map { UInt16(littleEndian: $0) }
                let reader = try DocumentReader(path: directory + "/" + name + ".jsonl.zst")
                var listed = 0
                while let d = try reader.next() {
                    listed += 1
                    if let problem = textCheck.check(d, shard: name, tokens: shardTokens) { problems.append(problem); break }
                }
                if listed != o["documents_started"]?.intValue {
                    problems.append("\(name).jsonl.zst: \(listed) documents, the manifest says \(o["documents_started"].map { JSONWriter.string($0) } ?? "nothing")")
                }
                if let problem = textCheck.endShard(name, tokens: shardTokens) { problems.append(problem) }
            }
            let idx = try readEntireRawFile(directory + "/" + name + ".idx")
            let entries = MegatronIndex.entryLengths(of: storedTokens, layout: layout, sequenceLength: length)
            if idx != MegatronIndex.bytes(entryLengths: entries) {
                problems.append("\(name).idx: not the index of the .bin's \(entries.count) \(layout == .document ? "documents" : "sequences")")
            }
            if let listed = o["megatron_entries"]?.intValue, listed != entries.count {
                problems.append("\(name): \(entries.count) Megatron entries, the manifest says \(listed)")
            }
        }
        if manifest["shards"]?.arrayValue?.isEmpty ?? true { problems.append("no shards") }
        return problems
    }
}

/// Checks that text shards hold exactly the documents whose first token is in their shard: the listed spans tile the
/// token stream with no gap or overlap (a document running past its shard's end continues at the next shard's start),
/// and, with a tokenizer, each text tokenises to its span. One shard's tokens are held at a time, plus what a document
/// running over still expects.
struct TextShardCheck {
    let tokenizer: GPT2Tokenizer?
    /// Where the next listed document must start, relative to the current shard's first token.
    var next = 0
    /// Tokens a document that ran past the previous shard still expects at the start of this one (with a tokenizer).
    var pending: [UInt16] = []
    /// Whether `pending` was compared with the current shard's first tokens.
    var pendingChecked = true

    /// Checks one listed document against the current shard; returns a problem, or nil.
    mutating func check(_ d: Document, shard: String, tokens: [UInt16]) -> String? {
        if let problem = consumePending(shard, tokens: tokens) { return problem }
        guard let start = d.attrs["shard_token_start"]?.intValue, let count = d.attrs["shard_tokens"]?.intValue, count > 0 else {
            return "\(shard).jsonl.zst: \(d.id) has no token span"
        }
        guard start == next else { return "\(shard).jsonl.zst: \(d.id) starts at token \(start), the previous document ends at \(next)" }
        guard start < tokens.count else { return "\(shard).jsonl.zst: \(d.id) starts after the shard's last token" }
        next = start + count
        // A document cut at the token budget may end inside a character, so its text need not tokenise back.
        if let tokenizer, d.attrs["cut_at_budget"] != .bool(true) {
            var expected = tokenizer.encode(d.text).map { UInt16($0) }
            if expected.count + 1 == count { expected.append(UInt16(GPT2Tokenizer.endOfText)) }
            guard expected.count == count else { return "\(shard).jsonl.zst: \(d.id) tokenises to \(expected.count) tokens, its span has \(count)" }
            let here = min(count, tokens.count - start)
            guard tokens[start..<(start + here)].elementsEqual(expected[..<here]) else {
                return "\(shard).jsonl.zst: \(d.id) does not tokenise to its span in \(shard).bin"
            }
            pending = Array(expected[here...])
        }
        return nil
    }

    /// Ends a shard: its listed spans must reach its last token; a document running over continues in the next one.
    mutating func endShard(_ shard: String, tokens: [UInt16]) -> String? {
        if let problem = consumePending(shard, tokens: tokens) { return problem }
        guard next >= tokens.count else { return "\(shard).jsonl.zst: the documents end at token \(next) of \(tokens.count): some are missing" }
        next -= tokens.count
        pendingChecked = false
        return nil
    }

    /// At a shard's start, the rest of a document that began in an earlier shard.
    private mutating func consumePending(_ shard: String, tokens: [UInt16]) -> String? {
        guard !pendingChecked else { return nil }
        pendingChecked = true
        let here = min(pending.count, tokens.count)
        guard tokens[..<here].elementsEqual(pending[..<here]) else {
            return "\(shard).bin: the tokens a document of the previous shard runs into are not that document's"
        }
        pending.removeFirst(here)
        return nil
    }
}
