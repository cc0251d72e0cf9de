import Foundation
import Testing
import ThreshCore
import ThreshIO
import ThreshTestSupport

/// `-q/--quiet` and `--stats FILE` on every command: each one below runs with both, prints no summary, and leaves a
/// JSON statistics file with at least one row (a bench: its measurements).
extension CommandLineTests {
    /// One command of the chain: its arguments (`TMP` is the test's directory) and the exit statuses it may end with.
    struct SummaryCase {
        var arguments: [String]
        var statuses: Set<Int32> = [0]
    }

    /// Commands in an order where each one's inputs were made by those before it.
    static let summaryCases: [SummaryCase] = [
        SummaryCase(arguments: ["samples", "-o", "TMP/samples"]),
        SummaryCase(arguments: ["warc", "Samples/crawl/crawl-00000.warc.gz", "-o", "TMP/pages.jsonl"]),
        SummaryCase(arguments: ["warc", "index", "Samples/crawl-sample.warc.gz", "-o", "TMP/index.cdxj"]),
        // The sample archive holds records whose digests are not all right: exit 1 is a verdict, not a crash.
        SummaryCase(arguments: ["warc", "check", "Samples/crawl-sample.warc.gz"], statuses: [0, 1]),
        SummaryCase(arguments: ["warc", "list", "Samples/crawl-sample.warc.gz"]),
        SummaryCase(arguments: ["extract", "TMP/pages.jsonl", "-o", "TMP/text.jsonl.zst"]),
        SummaryCase(arguments: ["cat", "TMP/text.jsonl.zst", "-o", "TMP/text.jsonl"]),
        SummaryCase(arguments: ["text", "README.md", "-o", "TMP/readme.jsonl"]),
        SummaryCase(arguments: ["quality", "train", "--positive", "Samples/reference/books/part-0.jsonl",
                                "--negative", "TMP/text.jsonl", "-o", "TMP/model.json", "--validation-fraction", "0.2"]),
        SummaryCase(arguments: ["score", "--model", "TMP/model.json", "TMP/text.jsonl", "-o", "TMP/scored.jsonl"]),
        SummaryCase(arguments: ["sample", "TMP/scored.jsonl", "-o", "TMP/sampled.jsonl"]),
        SummaryCase(arguments: ["quality", "eval", "--model", "TMP/model.json", "--positive", "Samples/reference/books/part-0.jsonl",
                                "--negative", "TMP/text.jsonl"]),
        SummaryCase(arguments: ["quality", "explain", "--model", "TMP/model.json", "TMP/text.jsonl"]),
        SummaryCase(arguments: ["dedup", "TMP/text.jsonl", "-o", "TMP/dedup", "--preset", "fineweb"]),
        SummaryCase(arguments: ["dedup", "stats", "TMP/dedup"]),
        SummaryCase(arguments: ["dedup", "generate", "README.md", "-o", "TMP/generated.jsonl", "--documents", "40", "--words", "50"]),
        SummaryCase(arguments: ["bench", "jsonl", "TMP/text.jsonl"]),
    ]

    @Test func everyCommandTakesQuietAndStats() throws {
        let dir = makeTemporaryDirectory()
        for (n, c) in Self.summaryCases.enumerated() {
            try runQuietWithStats(c, number: n, in: dir)
        }
    }

    /// The commands that tokenise need the GPT-2 vocabulary from ../shared.
    @Test(.enabled(if: TestPaths.sharedDataAvailable)) func tokenisingCommandsTakeQuietAndStats() throws {
        let dir = makeTemporaryDirectory()
        let vocabulary = TestPaths.sharedData + "/tokenizer/gpt2"
        try writeFile(dir + "/mix.toml", Array("""
            budget-tokens = 4096
            sequence-length = 256
            [[source]]
            name = "books"
            path = "\(TestPaths.repository)/Samples/reference/books/part-0.jsonl"
            weight = 1
            """.utf8))
        let cases = [
            SummaryCase(arguments: ["tokenize", "Samples/reference/books/part-0.jsonl", "-o", "TMP/tokens.jsonl", "--vocabulary", vocabulary]),
            SummaryCase(arguments: ["shard", "build", "--mix", "TMP/mix.toml", "-o", "TMP/shards", "--vocabulary", vocabulary]),
            SummaryCase(arguments: ["shard", "verify", "TMP/shards"]),
        ]
        for (n, c) in cases.enumerated() { try runQuietWithStats(c, number: n, in: dir) }
    }

    /// `thresh warc` on one archive shows how far into it it is (percent, rate, ETA), not the share of files done,
    /// which stays at 0% for a single file. In a log the first line is drawn at the first document.
    @Test func warcProgressMeasuresBytesWithinAFile() throws {
        let dir = makeTemporaryDirectory()
        let run = try thresh(["warc", "Samples/crawl/crawl-00000.warc.gz", "-o", dir + "/pages.jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        let line = run.stderr.split(separator: "\n").first { $0.contains("warc: Samples/crawl/crawl-00000.warc.gz: ") }
        let progress = try #require(line, "no progress line: \(run.stderr)")
        #expect(progress.contains("% ") && progress.contains("MB/s") && progress.contains("ETA"), "\(progress)")
    }

    private func runQuietWithStats(_ c: SummaryCase, number n: Int, in dir: String) throws {
        let statsPath = dir + "/\(n).stats.json"
        let arguments = c.arguments.map { $0.replacingOccurrences(of: "TMP", with: dir) } + ["-q", "--stats", statsPath]
        let run = try thresh(arguments)
        let command = c.arguments.prefix(2).joined(separator: " ")
        #expect(c.statuses.contains(run.status), "\(command): exit \(run.status): \(run.stderr)")
        // No summary row and no progress: what stderr may still carry are reports of malformed input.
        #expect(!run.stderr.contains(" in, "), "\(command) printed a summary with -q: \(run.stderr)")
        #expect(!run.stderr.contains("ETA"), "\(command) drew progress with -q")
        let json = try readFile(statsPath).withUnsafeBytes { try JSONParser.parse($0) }.objectValue ?? [:]
        let rows = json["stages"]?.arrayValue ?? json["measurements"]?.arrayValue ?? []
        #expect(!rows.isEmpty, "\(command): --stats wrote \(json)")
    }
}

/// `--executor slurm` runs sbatch as a child process with its arguments as given (no shell) and reads the job id from
/// stdout alone: a stand-in sbatch on PATH records its arguments, warns on stderr, and can fail.
extension CommandLineTests {
    private func fakeSbatch(in dir: String, failing: Bool) throws -> [String: String] {
        let bin = dir + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = failing
            ? "#!/bin/sh\necho 'sbatch: error: invalid partition specified: nowhere' >&2\nexit 1\n"
            : "#!/bin/sh\nprintf '%s\\n' \"$@\" >> \(dir)/sbatch-calls\necho '---' >> \(dir)/sbatch-calls\necho 'sbatch: warning: a warning on stderr' >&2\nn=$(grep -c -- '---' \(dir)/sbatch-calls)\necho \"$((40 + n));cluster\"\n"
        try writeFile(bin + "/sbatch", Array(script.utf8))
        chmod(bin + "/sbatch", 0o755)
        return ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")]
    }

    @Test func slurmJobIdsComeFromStdoutAndChainByDependency() throws {
        let dir = makeTemporaryDirectory()
        let run = try thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/out", "--executor", "slurm", "--sbatch", "--partition=batch"],
                             environment: try fakeSbatch(in: dir, failing: false))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("submitted Slurm jobs 41, 42, 43"), "\(run.stderr)")
        #expect(!run.stderr.contains("warning"), "sbatch's stderr leaked into a job id: \(run.stderr)")
        let calls = String(decoding: try readFile(dir + "/sbatch-calls"), as: UTF8.self)
            .components(separatedBy: "---\n").filter { !$0.isEmpty }.map { $0.split(separator: "\n").map(String.init) }
        // One job per step of the plan, then the report; a per-file step is an array over its files.
        #expect(calls.count == 6, "\(calls)")
        #expect(calls[0].contains("--array=0-1") && calls[0].contains("--partition=batch"), "\(calls[0])")
        #expect(!calls[0].contains { $0.hasPrefix("--dependency") })
        for k in 1..<calls.count { #expect(calls[k].contains("--dependency=afterok:\(40 + k)"), "\(calls[k])") }
        // The wrapped command is one argument, the task named by the array index.
        #expect(calls[0].contains { $0.hasSuffix("--task 1:$SLURM_ARRAY_TASK_ID") }, "\(calls[0])")
    }

    @Test func aFailingSbatchIsNamedWithItsStderr() throws {
        let dir = makeTemporaryDirectory()
        let run = try thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/out", "--executor", "slurm"],
                             environment: try fakeSbatch(in: dir, failing: true))
        #expect(run.status == 1)
        #expect(run.stderr.contains("sbatch") && run.stderr.contains("invalid partition specified"), "\(run.stderr)")
    }
}
