import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshShards

/// `thresh shard`: weighted, packed training shards.
struct Shard: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build training shards from a mix (GPT-2 tokens, token weights with epochs, packed sequences).",
        subcommands: [ShardBuild.self, ShardVerify.self],
        defaultSubcommand: ShardBuild.self)
}

struct ShardBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build shards (the default subcommand): see Pipelines/gpt3-mix.toml for a mix file.",
        discussion: """
            Outputs in OUT: shard-NNNNN.bin (flat uint16: nanoGPT's format and Megatron's data file), \
            shard-NNNNN.idx (Megatron-LM MMIDIDX v1), shard-NNNNN.jsonl.zst (the documents as text), manifest.json. \
            Tokenised sources are kept in OUT/work, so a rerun skips tokenising.
            """)

    @Option(help: "The mix file (TOML): the shard options (budget-tokens, seed, …) and [[source]] tables.")
    var mix: String

    @Option(name: [.short, .customLong("output")], help: "Output directory.")
    var output: String

    @Option(help: "The GPT-2 vocabulary directory or file (default: $THRESH_GPT2_VOCABULARY, the per-user cache, ../shared/data/tokenizer/gpt2).")
    var vocabulary: String?

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            let plan = try MixPlan.load(mix)
            for file in plan.skippedFiles { printError("shard: skipped \(file): not a JSONL file (.jsonl, .json, .ndjson, optionally .gz or .zst)") }
            let sharder = try Sharder(plan: plan, vocabulary: try VocabularyLocator.locate(explicit: vocabulary), output: output)
            let progress = Progress(quiet: summary.quiet)
            sharder.progress = { progress.update("shard: \($0)") }
            let manifest = try sharder.run()
            progress.clear()
            let inputBytes = plan.sources.flatMap(\.files).reduce(Int64(0)) { $0 + Paths.size(of: $1) }
            try summary.finish([StageStatistics(shardManifest: manifest, inputBytes: inputBytes, seconds: monotonicSeconds() - started)])
            guard !summary.quiet else { return }
            let shards = manifest["shards"]?.arrayValue?.count ?? 0
            printError("shard: \(shards) shards in \(output) (manifest.json); tail dropped: \(manifest["dropped_tail_tokens"]?.intValue ?? 0) tokens")
            printSourceTable(manifest)
        }
    }
}

/// Each source's documents, tokens, epochs and realised share, from a manifest.
func printSourceTable(_ manifest: JSONObject) {
    printError("source              documents      tokens   weight  realised  epochs")
    for s in manifest["sources"]?.arrayValue ?? [] {
        let o = s.objectValue ?? [:]
        printError("\((o["name"]?.stringValue ?? "").padding(16)) \(String(o["documents"]?.intValue ?? 0).leftPad(12)) \(String(o["tokens_with_separators"]?.intValue ?? 0).leftPad(11)) \(format3(o["weight"]?.doubleValue ?? 0).leftPad(8)) \(format3(o["realised_share"]?.doubleValue ?? 0).leftPad(9)) \(format3(o["epochs"]?.doubleValue ?? 0).leftPad(7))")
    }
}

struct ShardVerify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Reread every shard and check it against manifest.json.")

    @Argument(help: "A shard directory.")
    var directory: String

    @Option(help: "The GPT-2 vocabulary, to tokenise every text-shard document again and compare it with its tokens (default: found as 'thresh tokenize' finds it; without one, only the spans are checked).")
    var vocabulary: String?

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        var problems: [String] = []
        try runReportingErrors {
            let started = monotonicSeconds()
            // Retokenising needs the vocabulary: a given one must load (its error says why not); when none is found
            // in the usual places, the spans are still checked and the statistics say nothing was retokenised.
            let tokenizer = vocabulary != nil ? try GPT2Tokenizer(path: try VocabularyLocator.locate(explicit: vocabulary))
                : try? GPT2Tokenizer(path: try VocabularyLocator.locate(explicit: nil))
            problems = try ShardVerifier.verify(directory, tokenizer: tokenizer)
            var stats = StageStatistics(stage: "shard verify")
            stats.count("problems", problems.count)
            stats.count("texts-retokenised", tokenizer == nil ? 0 : 1)
            stats.seconds = monotonicSeconds() - started
            try summary.writeStatistics([stats])
        }
        if problems.isEmpty { if !summary.quiet { print("ok: every shard matches manifest.json") } } else {
            for p in problems { printError("thresh: \(p)") }
            throw ExitCode(1)
        }
    }
}
