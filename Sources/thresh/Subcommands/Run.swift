import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshPipeline

/// `thresh run PIPELINE`: the whole recipe as one batch job.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline file (e.g. Pipelines/gpt3.toml): WARC → extract → quality → sample → dedup → shards.",
        discussion: """
            Per-shard stages run fused in one process on --workers threads; training, dedup and sharding run once. \
            Every output is written atomically and finished outputs are not made again, so after an interruption \
            (even kill -9) running the same command again finishes the job with the same bytes.
            """)

    @Argument(help: "The pipeline file.")
    var pipeline: String

    @Option(parsing: .upToNextOption, help: "Crawl inputs (files or globs) instead of the pipeline's inputs.crawl.")
    var input: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Output directory instead of the pipeline's.")
    var output: String?

    @Option(help: "Worker threads for per-shard tasks (default: the pipeline's, else 2).")
    var workers: Int?

    @Flag(help: "Print the plan (tasks, inputs, outputs) and stop.")
    var dryRun = false

    @Option(help: "local (threads in this process) or slurm (job arrays chained by dependencies over a shared directory).")
    var executor: String = "local"

    @Flag(help: "With --executor slurm: wait for the jobs and print the summary.")
    var wait = false

    @Option(parsing: .unconditional, help: "Extra sbatch arguments for --executor slurm, in one string (e.g. \"--partition=batch --time=4:00:00\").")
    var sbatch: String = ""

    @Option(help: .hidden)
    var task: String?

    func run() throws {
        try runReportingErrors {
            var p = try Pipeline.load(pipeline, output: output, input: input)
            if let workers { p.workers = max(1, workers) }
            if dryRun {
                print("pipeline \(pipeline): \(p.crawl.count) crawl files, \(p.references.count) reference sets, \(p.workers) workers, output \(p.output)")
                for line in p.plan { print("  " + line) }
                return
            }
            let runner = PipelineRunner(pipeline: p)
            if let task {
                // One task of a distributed run (what the Slurm jobs execute).
                let parts = task.split(separator: ":")
                guard let phase = PipelineRunner.Phase(rawValue: String(parts[0])) else { throw ThreshError(.usage, "unknown task '\(task)'") }
                try runner.prepare()
                try runner.runTask(phase, index: parts.count > 1 ? Int(parts[1]) : nil)
                return
            }
            if executor == "slurm" {
                var slurm = SlurmExecutor(pipelinePath: pipeline, runner: runner)
                slurm.sbatchArguments = sbatch.split(whereSeparator: \.isWhitespace).map(String.init)
                slurm.inputs = input
                let ids = try slurm.submit()
                printError("thresh run: submitted Slurm jobs \(ids.joined(separator: ", ")) (extract array, train, filter array, dedup, shard); logs in \(p.output)/slurm")
                guard wait else { return }
                try slurm.wait(for: ids)
                let summary = try runner.report(seconds: nil)
                printSummary(runner, summary, p)
                return
            }
            guard executor == "local" else { throw ThreshError(.usage, "--executor is local or slurm") }
            let progress = Progress()
            let lineEvery = LineTicker()
            runner.progress = { message in
                if stderrIsTerminal { progress.update("run: \(message)") } else { lineEvery.print("thresh run: \(message)") }
            }
            let summary = try runner.run()
            progress.clear()
            printSummary(runner, summary, p)
        }
    }

    func printSummary(_ runner: PipelineRunner, _ summary: JSONObject, _ p: Pipeline) {
        printError("stage       documents in   out   dropped   MB in   MB out   seconds")
        var total = 0.0
        for s in runner.statistics.values { total += s.seconds }
        for name in ["warc", "extract", "train", "score", "sample", "dedup", "shard"] {
            guard let s = runner.statistics[name] else { continue }
            let share = total > 0 ? 100 * s.seconds / total : 0
            printError("\(name.padding(10)) \(String(s.documentsIn).leftPad(14)) \(String(s.documentsOut).leftPad(5)) \(String(s.droppedTotal).leftPad(9)) \(format1(Double(s.bytesIn) / 1e6).leftPad(7)) \(format1(Double(s.bytesOut) / 1e6).leftPad(8)) \(format1(s.seconds).leftPad(9)) (\(format1(share))%)")
            for (reason, n) in s.dropped.sorted(by: { $0.key < $1.key }) { printError("            dropped \(reason): \(n)") }
        }
        printError("done in \(format1(summary["seconds"]?.doubleValue ?? 0)) s")
        printError("shards: \(summary["shards"]?.stringValue ?? "")")
        printError("dedup report: \(summary["dedup_report"]?.stringValue ?? "")")
        printError("statistics: \(p.output)/stats.json")
    }
}

/// Prints at most one progress line every few seconds (for logs, where bars make no sense).
final class LineTicker {
    private var last = 0.0
    func print(_ line: String) {
        let now = monotonicSeconds()
        if now - last >= 3 { last = now; printError(line) }
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
