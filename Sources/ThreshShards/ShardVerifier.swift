import ThreshCore
import ThreshIO

/// `thresh shard verify`: rereads every shard and checks it against the manifest (sizes, token and sequence
/// counts, the Megatron index, the text shards, and every sha256).
public enum ShardVerifier {
    /// The manifest layout this build writes and reads. 2: digests keyed by file name (`shard-000000.bin`).
    public static let manifestVersion = 2

    /// Problems found (empty when everything agrees).
    public static func verify(_ directory: String) throws -> [String] {
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
        var problems: [String] = []
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
            let idx = try readEntireRawFile(directory + "/" + name + ".idx")
            if idx != MegatronIndex.bytes(sequences: sequences, length: length) { problems.append("\(name).idx: not the index of \(sequences) sequences") }
        }
        if manifest["shards"]?.arrayValue?.isEmpty ?? true { problems.append("no shards") }
        return problems
    }
}
