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

    @Option(help: "The mix file (TOML).")
    var mix: String

    @Option(name: [.short, .customLong("output")], help: "Output directory.")
    var output: String

    @Option(help: "The GPT-2 vocabulary directory or file.")
    var vocabulary: String = defaultVocabulary

    func run() throws {
        try runReportingErrors {
            let plan = try MixPlan.load(mix)
            let sharder = try Sharder(plan: plan, vocabulary: vocabulary, output: output)
            let progress = Progress()
            sharder.progress = { progress.update("shard: \($0)") }
            let manifest = try sharder.run()
            progress.clear()
            let shards = manifest["shards"]?.arrayValue?.count ?? 0
            printError("shard: \(shards) shards in \(output) (manifest.json); tail dropped: \(manifest["dropped_tail_tokens"]?.intValue ?? 0) tokens")
            for s in manifest["sources"]?.arrayValue ?? [] {
                let o = s.objectValue ?? [:]
                printError("  \(o["name"]?.stringValue ?? ""): weight \(format3(o["weight"]?.doubleValue ?? 0)), realised \(format3(o["realised_share"]?.doubleValue ?? 0)), \(format3(o["epochs"]?.doubleValue ?? 0)) epochs")
            }
        }
    }
}

struct ShardVerify: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Reread every shard and check it against manifest.json.")

    @Argument(help: "A shard directory.")
    var directory: String

    func run() throws {
        var problems: [String] = []
        try runReportingErrors { problems = try ShardVerifier.verify(directory) }
        if problems.isEmpty { print("ok: every shard matches manifest.json") } else {
            for p in problems { printError("thresh: \(p)") }
            throw ExitCode(1)
        }
    }
}
