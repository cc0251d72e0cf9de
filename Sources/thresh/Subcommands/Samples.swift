import ArgumentParser
import ThreshCore
import ThreshPipeline

/// `thresh samples`: writes the project's own small inputs (Samples/).
struct Samples: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the sample crawl archive the README's main command runs on.")

    @Option(name: [.short, .customLong("output")], help: "The samples directory.")
    var output: String = "Samples"

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            let counts = try ThreshPipeline.Samples.write(to: output)
            var stats = StageStatistics(stage: "samples")
            for (key, value) in counts { if let n = value.intValue { stats.count(key, n) } }
            stats.seconds = monotonicSeconds() - started
            try summary.writeStatistics([stats])
            if !summary.quiet {
                printError("thresh: wrote \(output)/crawl-sample.warc.gz, \(output)/crawl/, \(output)/reference/, \(output)/fineweb/, \(output)/blocklist/, \(output)/url-words/ (\(JSONWriter.string(.object(counts))))")
            }
        }
    }
}
