import ArgumentParser

@main
struct Thresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thresh",
        abstract: "Turn web archives into language-model training corpora.",
        discussion: """
            Every stage reads and writes JSONL documents ('-' is stdin/stdout; .gz and .zst are \
            compressed and detected from content when read). Statistics go to stderr at the end; \
            --stats FILE writes them as JSON.
            """,
        version: "0.1.0",
        subcommands: [Cat.self, Text.self, Warc.self, Extract.self, Lang.self, Classify.self, Filter.self, PII.self, Decontaminate.self, Quality.self, Score.self, Sample.self, Dedup.self, Tokenize.self, Shard.self, Run.self, Bench.self, Samples.self]
    )
}
