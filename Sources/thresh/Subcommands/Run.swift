import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshPipeline
import Synchronization

/// `thresh run PIPELINE`: the stages a pipeline file declares, as one resumable batch job.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline file (e.g. Pipelines/gpt3.toml): its datasets through its stages, locally or on Slurm.",
        discussion: """
            Consecutive per-document stages run fused in one process on --workers threads, one task per input file; \
            barriers (quality-train, dedup, shard) run once each. Every output is named by a fingerprint of its input \
            and of every option that shaped it, so a rerun reuses exactly what is still valid and redoes the rest; \
            after an interruption (even kill -9) the same command finishes with the same bytes. --dry-run lists \
            each step and whether it is reused or to do. Outputs of other fingerprints stay in work/ (switching back \
            is free) until --prune removes them after a successful run.

            STAGES (use = "…" in [[stage]] tables; their options are those of the commands of the same name):
            \(StageType.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))
            """)

    @Argument(help: "The pipeline file.")
    var pipeline: String

    @Option(parsing: .upToNextOption, help: "Inputs instead of the pipeline's: GLOB for the crawl dataset, NAME=GLOB for any dataset.")
    var input: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Output directory instead of the pipeline's.")
    var output: String?

    @Option(help: "Worker threads for per-file tasks (default: the pipeline's, else 2).")
    var workers: Int?

    @Flag(help: "Print the plan (each step, its tasks, reused or to do) and stop.")
    var dryRun = false

    @Flag(help: "After a successful run, delete what work/ holds that this plan does not name (outputs of other options or inputs, .tmp- files of killed runs); with --dry-run, list it.")
    var prune = false

    @Option(help: "local (threads in this process) or slurm (job arrays chained by dependencies over a shared directory).")
    var executor: String = "local"

    @Flag(help: "With --executor slurm: wait for the jobs and print the summary.")
    var wait = false

    @Option(parsing: .unconditional, help: "Extra sbatch arguments for --executor slurm, in one string (e.g. \"--partition=batch --time=4:00:00\").")
    var sbatch: String = ""

    @Flag(name: [.short, .long], help: "Do not print progress or the summary.")
    var quiet = false

    @Option(help: "Also write the summary (stats.json) to this file.")
    var stats: String?

    @Option(help: .hidden)
    var task: String?

    func run() async throws {
        try await runReportingErrors {
            var p = try Pipeline.load(pipeline, output: output, inputs: input)
            if let workers {
                guard (1...1024).contains(workers) else { throw ThreshError(.usage, "--workers must be from 1 to 1024") }
                p.workers = workers
            }
            let plan = try RunPlan(p)
            if dryRun {
                print("pipeline \(pipeline): \(p.datasets.map { "\($0.name) (\($0.role.rawValue), \($0.files.count) files)" }.joined(separator: ", ")); \(p.workers) workers; output \(p.output)")
                for line in plan.description { print(line) }
                if prune {
                    let stale = try PruneList(plan)
                    print("--prune would remove \(stale.paths.count) paths (\(format1(Double(stale.bytes) / 1e6)) MB)")
                    for path in stale.paths { print("  \(path)") }
                }
                return
            }
            if prune && executor == "slurm" && !wait {
                throw ThreshError(.usage, "--prune with --executor slurm needs --wait (stale outputs are removed only after the jobs succeed)")
            }
            let runner = PipelineRunner(plan: plan)
            let diagnostics = Diagnostics()
            let warnings = Mutex<Void>(())
            runner.warning = { error in warnings.withLock { _ in diagnostics.report(error) } }
            if let task {
                // One task of a distributed run (what the Slurm jobs execute): STEP or STEP:INDEX, or report.
                try runner.prepare()
                if task == "report" { try runner.report(seconds: nil); return }
                let parts = task.split(separator: ":", maxSplits: 1)
                let step = try runner.step(named: String(parts[0]))
                var index: Int?
                if parts.count > 1 {
                    guard let i = Int(parts[1]), i >= 0 else { throw ThreshError(.usage, "--task \(task): the index must be a whole number from 0") }
                    index = i
                }
                try runner.runTask(step, index: index)
                return
            }
            if executor == "slurm" {
                var slurm = SlurmExecutor(pipelinePath: pipeline, runner: runner)
                slurm.sbatchArguments = sbatch.split(whereSeparator: \.isWhitespace).map(String.init)
                slurm.inputs = input
                let ids = try await slurm.submit()
                printError("thresh run: submitted Slurm jobs \(ids.joined(separator: ", ")) (one per step, arrays for per-file steps); logs in \(p.output)/slurm")
                guard wait else { return }
                try await slurm.wait(for: ids)
                let summary = try runner.report(seconds: nil)
                try finish(runner, summary)
                return
            }
            guard executor == "local" else { throw ThreshError(.usage, "--executor is local or slurm") }
            let progress = Progress(quiet: quiet)
            let started = monotonicSeconds()
            runner.progress = { event in
                let fraction = event.total > 1 || event.done > 0 ? Double(event.done) / Double(max(1, event.total)) : nil
                let elapsed = max(1e-9, monotonicSeconds() - started)
                let rate = event.bytesDone > 0 ? "\(format1(Double(event.bytesDone) / 1e6 / elapsed)) MB/s" : nil
                progress.update("\(event.step): " + (event.total > 1 ? "\(event.done)/\(event.total) files, " : "") + event.message,
                                fraction: fraction, rate: rate)
            }
            let summary = try runner.run()
            progress.clear()
            try finish(runner, summary)
        }
    }

    func finish(_ runner: PipelineRunner, _ summary: JSONObject) throws {
        if prune {
            // Only after success: a failed run may still want the outputs it would have reused.
            let stale = try PruneList(runner.plan)
            try stale.remove()
            if !quiet { printError("pruned \(stale.paths.count) stale paths (\(format1(Double(stale.bytes) / 1e6)) MB) from \(runner.plan.work)") }
        }
        if let stats {
            let out = try OutputFile(path: stats, compression: .none)
            try out.write(JSONWriter.string(.object(summary)) + "\n")
            try out.close()
        }
        guard !quiet else { return }
        printError("stage                 documents in        out    dropped     MB in    MB out   seconds")
        let total = runner.statistics.reduce(0.0) { $0 + $1.stats.seconds }
        for (row, s) in runner.statistics {
            let share = total > 0 ? 100 * s.seconds / total : 0
            printError("\(row.padding(20)) \(String(s.documentsIn).leftPad(14)) \(String(s.documentsOut).leftPad(10)) \(String(s.droppedTotal).leftPad(10)) \(format1(Double(s.bytesIn) / 1e6).leftPad(9)) \(format1(Double(s.bytesOut) / 1e6).leftPad(9)) \(format1(s.seconds).leftPad(9)) (\(format1(share))%)")
            for (reason, n) in s.dropped.sorted(by: { $0.key < $1.key }) { printError("                      dropped \(reason): \(n)") }
        }
        if let sources = summary["sources"] { printSourceTable(["sources": sources]) }
        printError("done in \(format1(summary["seconds"]?.doubleValue ?? 0)) s")
        if let shards = summary["shards"]?.stringValue { printError("shards: \(shards)") }
        if let report = summary["dedup_report"]?.stringValue { printError("dedup report: \(report)") }
        printError("statistics: \(runner.pipeline.output)/stats.json")
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
