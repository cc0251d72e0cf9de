#if canImport(Glibc)
import Glibc
#endif
import ThreshCore
import ThreshIO
import Subprocess

/// Runs a pipeline as Slurm jobs over a shared directory: one job array per per-file phase and one job per
/// all-to-all phase, chained by `afterok` dependencies. Each job runs the same task code as the local executor
/// (`thresh run PIPELINE --task PHASE[:INDEX]`). No scheduler of our own: Slurm decides where and when.
public struct SlurmExecutor {
    public let pipelinePath: String
    public let runner: PipelineRunner
    /// Extra `sbatch` arguments (partition, account, time limit, …).
    public var sbatchArguments: [String] = []
    /// Crawl inputs given on the command line instead of the pipeline's (passed on to every job).
    public var inputs: [String] = []

    public init(pipelinePath: String, runner: PipelineRunner) {
        self.pipelinePath = pipelinePath
        self.runner = runner
    }

    /// The running `thresh`, by absolute path (jobs run it on the nodes through the shared filesystem).
    static var binary: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "thresh"
    }

    /// The text of a NUL-terminated C buffer.
    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The most a Slurm command may print on either stream before it counts as failed (job ids and states are short).
    static let commandOutputLimit = 1 << 20

    /// Runs a Slurm command (found on PATH) with its arguments as given, no shell between; returns its standard
    /// output trimmed. Its standard error is kept apart (a warning from sbatch never mixes into the job id) and
    /// quoted in the error when the command fails.
    /// - Throws: `.slurm` naming the command, its exit status and what it printed on stderr.
    static func command(_ name: String, _ arguments: [String]) async throws -> String {
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await Subprocess.run(.name(name), arguments: Arguments(arguments),
                                              output: .string(limit: commandOutputLimit), error: .string(limit: commandOutputLimit))
        } catch {
            throw ThreshError(.slurm, "cannot run \(name): \(error) (is Slurm installed and on PATH?)", underlying: error)
        }
        let output = result.standardOutput.trimmingCharacters()
        guard result.terminationStatus.isSuccess else {
            let stderr = result.standardError.trimmingCharacters()
            throw ThreshError(.slurm, "'\(([name] + arguments).joined(separator: " "))' failed (\(result.terminationStatus)): \(stderr.isEmpty ? output : stderr)")
        }
        return output
    }

    static func quote(_ s: String) -> String { "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'" }

    /// Submits the job chain: one job array per fused step (a task per file), one job per barrier, then the report;
    /// returns the job ids in order.
    public func submit() async throws -> [String] {
        try runner.prepare()
        let output = Paths.absolute(runner.pipeline.output)
        let logs = output + "/slurm"
        try Paths.makeDirectories(logs)
        // Paths stay as the user gave them and the jobs start in this directory (--chdir), so every output, including
        // the `warc_file` recorded in each document, is the same bytes as a local run's.
        let command = "\(Self.quote(Self.binary)) run \(Self.quote(pipelinePath)) -o \(Self.quote(runner.pipeline.output))"
            + (inputs.isEmpty ? "" : " --input " + inputs.map(Self.quote).joined(separator: " "))
        var ids: [String] = []
        func sbatch(_ name: String, array: Int?, tasks: String) async throws {
            var args = ["--parsable", "--job-name=thresh-\(name)", "--chdir=\(Paths.absolute("."))"] + sbatchArguments
            if let array { args += ["--array=0-\(array - 1)", "--output=\(logs)/\(name)-%a.out"] } else { args += ["--output=\(logs)/\(name).out"] }
            if let last = ids.last { args += ["--dependency=afterok:\(last)", "--kill-on-invalid-dep=yes"] }
            // --parsable prints "ID" or "ID;CLUSTER".
            let id = try await Self.command("sbatch", args + ["--wrap", tasks])
            ids.append(String(id.split(separator: ";").first ?? Substring(id)).trimmingCharacters())
        }
        for step in runner.plan.steps {
            let name = PlanStep.directoryName(step.number, step.name)
            if case .segment(let tasks) = step.work {
                guard !tasks.isEmpty else { continue }
                try await sbatch(name, array: tasks.count, tasks: "\(command) --task \(step.number):$SLURM_ARRAY_TASK_ID")
            } else {
                try await sbatch(name, array: nil, tasks: "\(command) --task \(step.number)")
            }
        }
        try await sbatch("report", array: nil, tasks: "\(command) --task report")
        return ids
    }

    /// Waits until the jobs have left the queue; throws unless the last one completed.
    public func wait(for ids: [String], pollSeconds: Double = 1) async throws {
        let list = ids.joined(separator: ",")
        while true {
            let queued = try await Self.command("squeue", ["-h", "-j", list, "-t", "PD,CF,R,CG,S", "-o", "%i"])
            if queued.isEmpty { break }
            try await Task.sleep(for: .milliseconds(Int(pollSeconds * 1000)))
        }
        guard let last = ids.last else { return }
        let state = try await Self.command("scontrol", ["show", "job", "-o", last])
        guard state.contains("JobState=COMPLETED") else {
            throw ThreshError(.slurm, "the last job (\(last)) did not complete: \(state.prefix(300)); logs in \(runner.pipeline.output)/slurm")
        }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
