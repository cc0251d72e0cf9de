import ArgumentParser
import ThreshCore
import ThreshIO

/// `thresh cat`: concatenate, convert between plain/.gz/.zst, take the first N documents.
struct Cat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read documents and write them out again (concatenate, convert compression, take the first N).")

    @Argument(help: "Input JSONL files ('-' is stdin; plain, .gz or .zst, detected from content).")
    var inputs: [String] = ["-"]

    @Option(name: [.short, .customLong("head")], help: "Stop after this many documents.")
    var limit: Int?

    @Option(help: "What to do with an invalid line: fail (with file and line) or skip (counted).")
    var onError: OnError = .fail

    @OptionGroup var outputArguments: OutputArguments

    var options: StageOptions { outputArguments.options }

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--head must not be negative") }
    }

    func run() throws {
        try runReportingErrors {
            let diagnostics = Diagnostics()
            var stats = StageStatistics(stage: "cat")
            let start = monotonicSeconds()
            let writer = try DocumentWriter(path: options.output)
            outer: for input in inputs {
                let reader = try DocumentReader(path: input, onError: onError)
                reader.reportSkipped = { diagnostics.report($0) }
                reader.beforeRead = { try? writer.flush() }
                defer {
                    stats.bytesIn += reader.bytesRead
                    // Invalid lines are inputs too: in = out + dropped.
                    stats.documentsIn += reader.skipped
                    if reader.skipped > 0 { stats.drop("invalid-json", count: reader.skipped) }
                }
                while let document = try reader.next() {
                    if let limit, stats.documentsOut >= limit { break outer }
                    stats.documentsIn += 1
                    try writer.write(document)
                    stats.documentsOut += 1
                }
            }
            try writer.close()
            stats.bytesOut = writer.bytesWritten
            stats.seconds = monotonicSeconds() - start
            try finishStatistics([stats], options: options)
        }
    }
}
