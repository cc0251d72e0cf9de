import Foundation
import Testing
import ThreshCore
import ThreshIO
import ThreshDedup
import ThreshPipeline
import ThreshTestSupport

/// The built binary, as a user runs it.
struct CLI {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.threshBinary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: TestPaths.repository)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = Pipe()
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Result(status: status, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A small pipeline over copies of the samples: crawl archives with the same basename in two folders, reference
/// corpora as `*/part-0.jsonl`.
struct Workspace {
    let root = makeTemporaryDirectory()

    init() throws {
        for folder in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: root + "/crawl/" + folder, withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: TestPaths.repository + "/Samples/crawl/crawl-00000.warc.gz", toPath: root + "/crawl/a/crawl.warc.gz")
        try FileManager.default.copyItem(atPath: TestPaths.repository + "/Samples/crawl/crawl-00001.warc.gz", toPath: root + "/crawl/b/crawl.warc.gz")
        for name in ["webtext", "books", "wikipedia"] {
            try FileManager.default.createDirectory(atPath: root + "/refs/" + name, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestPaths.repository + "/Samples/reference/\(name)/part-0.jsonl", toPath: root + "/refs/\(name)/part-0.jsonl")
        }
    }

    /// The pipeline file, with `replacing` applied to its text.
    func pipeline(_ replacing: [(String, String)] = [], name: String = "p.toml") throws -> String {
        var text = String(decoding: try readFile(TestPaths.repository + "/Pipelines/gpt3.toml"), as: UTF8.self)
        text = text.replacingOccurrences(of: "../Samples/crawl/*.warc.gz", with: "crawl/*/crawl.warc.gz")
        text = text.replacingOccurrences(of: "output = \"../out/gpt3\"", with: "output = \"out\"")
        // One reference dataset over the three folders (the glob of the issue), two more as in the recipe.
        text = text.replacingOccurrences(of: "../Samples/reference/webtext/*.jsonl", with: "refs/*/part-0.jsonl")
        text = text.replacingOccurrences(of: "path = \"../Samples/reference/books/*.jsonl\"", with: "path = \"books/*.jsonl\"")
        text = text.replacingOccurrences(of: "path = \"../Samples/reference/wikipedia/*.jsonl\"", with: "path = \"wiki/*.jsonl\"")
        for (a, b) in replacing { text = text.replacingOccurrences(of: a, with: b) }
        try writeFile(root + "/" + name, Array(text.utf8))
        for (folder, source) in [("books", "books"), ("wiki", "wikipedia")] where !TestPaths.exists(root + "/" + folder) {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestPaths.repository + "/Samples/reference/\(source)/part-0.jsonl", toPath: root + "/\(folder)/part-0.jsonl")
        }
        return root + "/" + name
    }

    var output: String { root + "/out" }
    /// Another output directory over the same inputs (documents record their input paths, so comparisons between
    /// runs use one workspace).
    func output(_ name: String) -> String { root + "/" + name }

    func summary(in directory: String? = nil) throws -> [String: JSONValue] {
        let stats = try JSONParser.parse(String(decoding: try readFile((directory ?? output) + "/stats.json"), as: UTF8.self)).objectValue!
        var rows: [String: JSONValue] = [:]
        for row in stats["stages"]!.arrayValue! { rows[row.objectValue!["row"]!.stringValue!] = row }
        return rows
    }

    func row(_ name: String, in directory: String? = nil) throws -> JSONObject {
        try #require(try summary(in: directory)[name]?.objectValue, "no row \(name)")
    }

    /// The bytes that must not change between runs: shards and every fused step's documents.
    func outputs(in directory: String? = nil) throws -> [String: [UInt8]] {
        let output = directory ?? self.output
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: output)!
        while let name = enumerator.nextObject() as? String {
            let base = (name as NSString).lastPathComponent
            guard name.hasPrefix("shards/") && !name.contains("/work/") || name.hasPrefix("work/") && name.hasSuffix(".jsonl.zst") && !name.contains("dedup") else { continue }
            guard !base.contains(".tmp-"), !base.hasSuffix(".stats.json") else { continue }
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: output + "/" + name, isDirectory: &isDirectory)
            if !isDirectory.boolValue { files[name] = try readFile(output + "/" + name) }
        }
        for kept in try keptFiles(in: output) { files[String(kept.dropFirst(output.count))] = try readFile(kept) }
        return files
    }

    func keptFiles(in directory: String? = nil) throws -> [String] {
        let output = directory ?? self.output
        return (FileManager.default.enumerator(atPath: output + "/work")?.allObjects as? [String] ?? [])
            .filter { ($0.contains("/kept/") && $0.contains(".jsonl") || $0.hasSuffix("removed.jsonl")) && !$0.contains(".tmp-") }
            .map { output + "/work/" + $0 }.sorted()
    }
}

func documents(in path: String) throws -> Int {
    let reader = try DocumentReader(path: path)
    var n = 0
    while try reader.next() != nil { n += 1 }
    return n
}

@Suite(.enabled(if: TestPaths.sharedDataAvailable, "the GPT-2 vocabulary in ../shared/data is needed"), .serialized)
struct PipelineRunTests {
    /// Same-named inputs never collide: two crawl files called crawl.warc.gz and three references called part-0.jsonl
    /// all reach the end, on two workers.
    @Test func sameNamedInputsAllArrive() throws {
        let w = try Workspace()
        let run = try CLI.run(["run", try w.pipeline(), "--workers", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        let warc = try w.row("warc")
        let single = try CLI.run(["warc", "Samples/crawl/crawl-00000.warc.gz", "Samples/crawl/crawl-00001.warc.gz", "--stats", w.root + "/single.json", "-q"])
        #expect(single.status == 0)
        let singleStats = try JSONParser.parse(String(decoding: try readFile(w.root + "/single.json"), as: UTF8.self)).objectValue!
        #expect(warc["documents_out"] == singleStats["stages"]!.arrayValue![0].objectValue!["documents_out"])
        // The webtext dataset (three part-0.jsonl files) kept every one of its documents apart.
        let webtextKept = try w.keptFiles().filter { $0.contains("/webtext.") && $0.contains("/kept/") }
        #expect(webtextKept.count == 3, "\(webtextKept)")
        let references = try ["webtext", "books", "wikipedia"].reduce(0) { $0 + (try documents(in: TestPaths.repository + "/Samples/reference/\($1)/part-0.jsonl")) }
        #expect(try webtextKept.reduce(0) { $0 + (try documents(in: $1)) } >= references * 9 / 10)
        // The crawl is in the shards.
        let manifest = try JSONParser.parse(String(decoding: try readFile(w.output + "/shards/manifest.json"), as: UTF8.self)).objectValue!
        let crawl = manifest["sources"]!.arrayValue!.first { $0.objectValue!["name"] == .string("crawl") }!.objectValue!
        #expect((crawl["documents"]?.intValue ?? 0) > 10)
    }

    /// The summary has real rows: train and shard count documents, score/sample/dedup have bytes, and dedup counts
    /// the reference documents once.
    @Test func summaryRowsAreCorrect() throws {
        let w = try Workspace()
        let run = try CLI.run(["run", try w.pipeline()])
        #expect(run.status == 0, "\(run.stderr)")
        for name in ["quality-train", "shard", "score", "sample", "dedup"] {
            let row = try w.row(name)
            #expect((row["documents_in"]?.intValue ?? 0) > 0, "\(name)")
            #expect((row["bytes_in"]?.intValue ?? 0) > 0, "\(name)")
        }
        let sampled = try w.row("sample")["documents_out"]!.intValue!
        let references = try w.row("quality-train")["counters"]!.objectValue!["positive-documents"]!.intValue!
        #expect(try w.row("dedup")["documents_in"]!.intValue! == sampled + references)
        #expect(!run.stderr.contains("/../"))
        #expect(run.stderr.contains("shards: \(w.output)/shards"))
    }

    /// A rerun with nothing changed redoes nothing and reports the same statistics; changing alpha redoes sampling and
    /// what follows but not extraction; a new input does only the new work; an edited source is noticed.
    @Test func resumeNoticesChanges() throws {
        let w = try Workspace()
        let pipeline = try w.pipeline()
        var run = try CLI.run(["run", pipeline])
        #expect(run.status == 0, "\(run.stderr)")
        let first = try w.outputs()
        let dedupBefore = try w.row("dedup")
        run = try CLI.run(["run", pipeline, "--dry-run"])
        #expect(!run.stdout.contains("to do"), "\(run.stdout)")
        run = try CLI.run(["run", pipeline])
        #expect(run.status == 0)
        #expect(try w.outputs() == first)
        #expect(try w.row("dedup")["counters"] == dedupBefore["counters"])
        // alpha: sample and later steps change, extraction is reused.
        let changed = try w.pipeline([("alpha = 9", "alpha = 3")], name: "changed.toml")
        run = try CLI.run(["run", changed, "--dry-run"])
        #expect(run.stdout.contains("step 1 warc+extract: reused"), "\(run.stdout)")
        #expect(run.stdout.contains("step 3 score+sample: 2 of 2 files to do"), "\(run.stdout)")
        run = try CLI.run(["run", changed])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try w.outputs()["shards/shard-00000.bin"] != first["shards/shard-00000.bin"])
        // Back to alpha 9: everything from before is reused, byte for byte.
        run = try CLI.run(["run", pipeline])
        #expect(try w.outputs().filter { $0.key.hasPrefix("shards/") } == first.filter { $0.key.hasPrefix("shards/") })
        // A new crawl file: only its extraction is new work in step 1.
        try FileManager.default.createDirectory(atPath: w.root + "/crawl/c", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: w.root + "/crawl/a/crawl.warc.gz", toPath: w.root + "/crawl/c/crawl.warc.gz")
        run = try CLI.run(["run", pipeline, "--dry-run"])
        #expect(run.stdout.contains("step 1 warc+extract: 1 of 3 files to do"), "\(run.stdout)")
        run = try CLI.run(["run", pipeline])
        #expect(run.status == 0, "\(run.stderr)")
        // An edited reference file is noticed.
        let books = w.root + "/books/part-0.jsonl"
        var text = try readFile(books)
        text += Array("{\"id\":\"new\",\"text\":\"A new book about rivers, valleys and the history of the sea.\"}\n".utf8)
        try writeFile(books, text)
        run = try CLI.run(["run", pipeline, "--dry-run"])
        #expect(run.stdout.contains("step 2 quality-train: to do"), "\(run.stdout)")
    }

    /// --prune after a run with other options leaves work/ exactly as a run of only this plan leaves it: the other
    /// run's outputs, a killed run's .tmp- file and its .shards- build directory go; nothing this plan uses does.
    @Test func pruneRemovesOnlyStaleOutputs() throws {
        let w = try Workspace()
        let pipeline = try w.pipeline()
        func workFiles() -> Set<String> {
            Set((FileManager.default.enumerator(atPath: w.output + "/work")?.allObjects as? [String] ?? []))
        }
        var run = try CLI.run(["run", pipeline, "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let alone = workFiles()
        let first = try w.outputs()
        run = try CLI.run(["run", try w.pipeline([("alpha = 9", "alpha = 3")], name: "changed.toml"), "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let changed = workFiles().subtracting(alone)
        #expect(!changed.isEmpty)
        let tmp = w.output + "/work/01-warc+extract/crawl/crawl.0123456789abcdef.jsonl.zst.tmp-42"
        try writeFile(tmp, Array("partial".utf8))
        try Paths.makeDirectories(w.output + "/.shards-0123456789abcdef")
        try writeFile(w.output + "/.shards-0123456789abcdef/shard-00000.bin", [1, 2, 3])
        run = try CLI.run(["run", pipeline, "--dry-run", "--prune"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(tmp) && run.stdout.contains(w.output + "/.shards-0123456789abcdef"), "\(run.stdout)")
        let listed = run.stdout.split(separator: "\n").drop { !$0.hasPrefix("--prune would remove") }.dropFirst()
            .map { String($0.drop { $0 == " " }) }
        #expect(listed.count >= 3, "\(run.stdout)")
        for path in listed {
            let relative = path.hasPrefix(w.output + "/work/") ? String(path.dropFirst(w.output.count + 6)) : ""
            let live = alone.contains(relative) || !relative.isEmpty && alone.contains { $0.hasPrefix(relative + "/") }
            #expect(!live, "would remove a live output: \(path)")
        }
        #expect(TestPaths.exists(tmp), "a dry run removed something")
        run = try CLI.run(["run", pipeline, "--prune"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("pruned "), "\(run.stderr)")
        let left = workFiles().subtracting(alone), lost = alone.subtracting(workFiles())
        #expect(left.isEmpty && lost.isEmpty, "left: \(left.sorted()); lost: \(lost.sorted())")
        #expect(!TestPaths.exists(w.output + "/.shards-0123456789abcdef"))
        #expect(try w.outputs() == first)
        run = try CLI.run(["run", pipeline, "--dry-run"])
        #expect(!run.stdout.contains("to do"), "\(run.stdout)")
    }

    /// kill -9 at every named point of every step, then the same command: the same bytes as an uninterrupted run.
    @Test func killedAnywhereResumesToTheSameBytes() throws {
        let w = try Workspace()
        let pipeline = try w.pipeline()
        var run = try CLI.run(["run", pipeline, "-o", w.output("whole")])
        #expect(run.status == 0, "\(run.stderr)")
        let whole = try w.outputs(in: w.output("whole"))
        let wholeDedup = try w.row("dedup", in: w.output("whole"))
        let points = ["task-start:warc+extract", "task-mid:warc+extract", "task-end:warc+extract", "step-end:warc+extract",
                      "train:featurize", "train:fold", "step-end:quality-train", "task-mid:score+sample", "task-end:score+sample",
                      "dedup:signatures", "dedup:verify", "dedup:clusters:end", "dedup:filter", "step-end:dedup", "shard:start"]
        for (n, point) in points.enumerated() {
            let out = w.output("killed-\(n)")
            run = try CLI.run(["run", pipeline, "-o", out], environment: ["THRESH_KILL_AT": point])
            #expect(run.status == 128 + SIGKILL, "\(point): \(run.status) \(run.stderr)")
            run = try CLI.run(["run", pipeline, "-o", out])
            #expect(run.status == 0, "\(point): \(run.stderr)")
            let resumed = try w.outputs(in: out)
            #expect(resumed.keys.sorted() == whole.keys.sorted(), "\(point)")
            #expect(resumed == whole, "\(point)")
            // Statistics of the phases done before the kill are carried over, not reset.
            let dedup = try w.row("dedup", in: out)
            #expect(dedup["counters"] == wholeDedup["counters"] && dedup["documents_in"] == wholeDedup["documents_in"], "\(point)")
            #expect(try listDirectory(out).allSatisfy { !$0.contains(".tmp-") })
        }
    }

    /// One surviving crawl document would have to repeat for hundreds of epochs: an error naming it, unless allowed.
    @Test func mixingIsGuarded() throws {
        let w = try Workspace()
        var run = try CLI.run(["run", try w.pipeline([("budget-tokens = 200000", "budget-tokens = 2000000")])])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("source 'crawl'") && run.stderr.contains("epochs"), "\(run.stderr)")
        run = try CLI.run(["run", try w.pipeline([("budget-tokens = 200000", "budget-tokens = 2000000\nallow-epochs = true")])])
        #expect(run.status == 0, "\(run.stderr)")
    }
}

/// Mistakes in pipeline files: each is an error naming the file, the line and the key, with exit status 2.
@Suite struct PipelineFileTests {
    func load(_ text: String) throws -> ThreshError? {
        let dir = makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/c", withIntermediateDirectories: true)
        try writeFile(dir + "/c/x.warc.gz", try readFile(TestPaths.repository + "/Samples/crawl/crawl-00000.warc.gz"))
        try writeFile(dir + "/r.jsonl", Array("{\"id\":\"1\",\"text\":\"a\"}\n".utf8))
        try writeFile(dir + "/p.toml", Array(text.utf8))
        do {
            _ = try RunPlan(try Pipeline.load(dir + "/p.toml"))
            return nil
        } catch let e as ThreshError {
            return e
        }
    }

    static let base = """
        [[dataset]]
        name = "crawl"
        path = "c/*.warc.gz"
        weight = 0.5

        [[dataset]]
        name = "ref"
        role = "reference"
        path = "r.jsonl"
        weight = 0.5

        [[stage]]
        use = "warc"
        datasets = ["crawl"]

        [[stage]]
        use = "extract"
        datasets = ["crawl"]

        [[stage]]
        use = "dedup"

        """

    @Test(arguments: [
        ("[[stage]]\nuse = \"extract\"\nmin_length = 3\n", "min_length", "did you mean 'min-length'"),
        ("[[stage]]\nuse = \"dedup\"\ntreshold = 0.5\n", "treshold", "did you mean 'threshold'"),
        ("[[stage]]\nuse = \"sample\"\nseed = -1\n", "seed", "out of range"),
        ("[[stage]]\nuse = \"sample\"\nseed = 1e30\n", "seed", "out of range"),
        ("[[stage]]\nuse = \"sample\"\nalpha = 0\n", "alpha", "out of range"),
        ("[[stage]]\nuse = \"extract\"\nmin-length = 1e100\n", "min-length", "out of range"),
        ("[[stage]]\nuse = \"dedup\"\nthreshold = 0\n", "threshold", "out of range"),
        ("[[stage]]\nuse = \"dedup\"\nthreshold = -0.2\n", "threshold", "out of range"),
        ("[[stage]]\nuse = \"quality-train\"\nreg-param = nan\n", "", "is not a value"),
        ("[[stage]]\nuse = \"quality-train\"\nnum-features = 1000\n", "num-features", "power of two"),
        ("[[stage]]\nuse = \"shard\"\nsequence-length = 0\n", "sequence-length", "out of range"),
        ("[[stage]]\nuse = \"shard\"\nbudget-tokens = 0\n", "budget-tokens", "out of range"),
        ("[[stage]]\nuse = \"shard\"\nbudget-tokens = 1e30\n", "budget-tokens", "out of range"),
        ("[[stage]]\nuse = \"shard\"\nbudget-tokens = 100\n", "budget-tokens", "less than one sequence"),
        ("[[stage]]\nuse = \"dedupe\"\n", "use", "did you mean 'dedup'"),
        ("[[stage]]\nuse = \"extract\"\ndatasets = [\"crawll\"]\n", "datasets", "did you mean 'crawl'"),
        ("[[dataset]]\nname = \"x\"\npath = \"r.jsonl\"\nwieght = 1\n", "wieght", "did you mean 'weight'"),
        ("[[dataset]]\nname = \"../../escaped\"\npath = \"r.jsonl\"\n", "name", "cannot be a name"),
        ("[[dataset]]\nname = \"ref\"\npath = \"r.jsonl\"\n", "name", "a second dataset named 'ref'"),
        ("[[dataset]]\nname = \"crawl\"\npath = \"r.jsonl\"\n", "name", "a second dataset named 'crawl'"),
        ("[[dataset]]\nname = \"x\"\npath = \"nothing/*.jsonl\"\n", "path", "no file matches"),
        ("[[dataset]]\nname = \"x\"\npath = \"r.jsonl\"\nweight = -0.5\n", "weight", "out of range"),
        ("workrs = 2\n", "workrs", "did you mean 'workers'"),
    ])
    func mistakeIsNamed(_ extra: String, _ key: String, _ message: String) throws {
        // Top-level keys must come before the first table.
        let text = extra.hasPrefix("[[") ? Self.base + extra : extra + Self.base
        let error = try #require(try load(text), "accepted: \(extra)")
        #expect(error.code == .config || error.code == .usage, "\(error)")
        #expect(error.code.exitStatus == 2)
        #expect(error.description.contains(message), "\(error)")
        #expect(error.description.contains("p.toml"), "\(error)")
        if !key.isEmpty && error.code == .config { #expect(error.description.contains(key), "\(error)") }
        if error.code == .config { #expect(error.line != nil, "\(error)") }
    }

    @Test func theRecipesLoad() throws {
        let pipeline = try Pipeline.load(TestPaths.repository + "/Pipelines/gpt3.toml")
        #expect(pipeline.stages.map(\.name) == ["warc", "extract", "quality-train", "score", "sample", "dedup", "shard"])
        #expect(pipeline.output == Paths.normalize(TestPaths.repository + "/out/gpt3"))
    }

    /// A model, benchmark list or vocabulary named in a pipeline file is found beside the file, as dataset paths and
    /// the filter's lists are, whatever the working directory of the run.
    @Test func fileOptionsAreRelativeToThePipelineFile() throws {
        let dir = makeTemporaryDirectory()
        let text = """
            [[dataset]]
            name = "r"
            path = "r.jsonl"
            weight = 1
            [[stage]]
            use = "lang"
            model = "models/lid.ftz"
            [[stage]]
            use = "classify"
            model = "models/quality.bin"
            [[stage]]
            use = "decontaminate"
            benchmarks = ["bench/a.jsonl", "/abs/b.txt"]
            [[stage]]
            use = "score"
            model = "models/q.json"
            [[stage]]
            use = "shard"
            budget-tokens = 100000
            vocabulary = "gpt2"

            """
        try writeFile(dir + "/r.jsonl", Array("{\"id\":\"1\",\"text\":\"a\"}\n".utf8))
        try writeFile(dir + "/p.toml", Array(text.utf8))
        let pipeline = try Pipeline.load(dir + "/p.toml")
        func option(_ stage: String, _ name: String) -> OptionValue? {
            pipeline.stages.first { $0.name == stage }?.options[name]
        }
        let base = Paths.normalize(dir)
        #expect(option("lang", "model") == .text(base + "/models/lid.ftz"))
        #expect(option("classify", "model") == .text(base + "/models/quality.bin"))
        #expect(option("decontaminate", "benchmarks") == .list([base + "/bench/a.jsonl", "/abs/b.txt"]))
        #expect(option("score", "model") == .text(base + "/models/q.json"))
        #expect(option("shard", "vocabulary") == .text(base + "/gpt2"))
    }

    /// Every option that names a file is declared so; a new one left out would be read from the working directory.
    @Test func everyFileOptionIsResolved() {
        let fileLike = { (name: String) in
            ["model", "benchmarks", "vocabulary", "blocklist", "public-suffix-list"].contains(name) || name.hasSuffix("-file")
        }
        for type in StageType.all {
            for spec in type.schema.options where fileLike(spec.key) {
                #expect(type.pathOptions.contains(spec.key), "stage \(type.name): option \(spec.key) names a file")
            }
        }
    }

    @Test func mixFileKeysAreChecked() throws {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/r.jsonl", Array("{\"id\":\"1\",\"text\":\"a\"}\n".utf8))
        try writeFile(dir + "/mix.toml", Array("budget-tokens = 4096\nsede = 1\n[[source]]\nname = \"r\"\npath = \"r.jsonl\"\nweight = 1\n".utf8))
        let run = try CLI.run(["shard", "--mix", dir + "/mix.toml", "-o", dir + "/out"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("mix.toml, line 2: sede: unknown key for shard (did you mean 'seed'?)"), "\(run.stderr)")
        try writeFile(dir + "/mix.toml", Array("budget_tokens = 4096\n[[source]]\nname = \"r\"\npath = \"r.jsonl\"\nweight = 1\n".utf8))
        let underscores = try CLI.run(["shard", "--mix", dir + "/mix.toml", "-o", dir + "/out"])
        #expect(underscores.stderr.contains("did you mean 'budget-tokens'"), "\(underscores.stderr)")
    }

    @Test func flagsComeFromTheSameSchema() throws {
        var run = try CLI.run(["extract", "--min_length", "3"])
        #expect(run.status == 2 && run.stderr.contains("did you mean '--min-length'"), "\(run.stderr)")
        run = try CLI.run(["sample", "--alpha", "0"])
        #expect(run.status == 2 && run.stderr.contains("out of range"), "\(run.stderr)")
        run = try CLI.run(["extract", "--help"])
        #expect(run.stdout.contains("--max-seconds") && run.stdout.contains("(default: 5)"), "\(run.stdout)")
    }

    @Test func brokenNumbersInDataFilesAreErrorsNotTraps() throws {
        let dir = makeTemporaryDirectory()
        let model = #"{"format":"thresh-quality-model","version":1,"features":{"num_features":1024,"hash_variant":"standard","seed":-1},"regression":{"intercept":0,"coefficients":{"indices":[],"values":[]}}}"#
        try writeFile(dir + "/model.json", Array(model.utf8))
        var run = try CLI.run(["score", "--model", dir + "/model.json", "/dev/null"])
        #expect(run.status == 1 && run.stderr.contains("features.seed"), "\(run.stderr)")
        try FileManager.default.createDirectory(atPath: dir + "/shards", withIntermediateDirectories: true)
        try writeFile(dir + "/shards/manifest.json", Array(#"{"format":"thresh-shards","version":3,"sequence_length":2048,"megatron_entries":"document","shards":[{"name":"shard-00000","sequences":-5,"tokens":0}]}"#.utf8))
        run = try CLI.run(["shard", "verify", dir + "/shards"])
        #expect(run.status == 1 && run.stderr.contains("sequences"), "\(run.stderr)")
    }

    @Test func dedupOfSameNamedInputsKeepsBoth() throws {
        let dir = makeTemporaryDirectory()
        for folder in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
            try writeFile(dir + "/\(folder)/p.jsonl", Array("{\"id\":\"\(folder)\",\"text\":\"document \(folder) has its own words here \(folder) \(folder)\"}\n".utf8))
        }
        let run = try CLI.run(["dedup", dir + "/a/p.jsonl", dir + "/b/p.jsonl", "-o", dir + "/out", "--preset", "fineweb"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try documents(in: dir + "/out/kept/a/p.jsonl") == 1)
        #expect(try documents(in: dir + "/out/kept/b/p.jsonl") == 1)
        // The same output directory with another threshold is not the old result.
        let again = try CLI.run(["dedup", dir + "/a/p.jsonl", dir + "/b/p.jsonl", "-o", dir + "/out", "--preset", "fineweb", "--threshold", "0.1"])
        #expect(again.status == 0 && again.stderr.contains("threshold 0.1"), "\(again.stderr)")
        #expect(!again.stderr.contains("done earlier"))
        let twice = try CLI.run(["dedup", dir + "/a/p.jsonl", dir + "/a/p.jsonl", "-o", dir + "/out2"])
        #expect(twice.status == 2 && twice.stderr.contains("given twice"), "\(twice.stderr)")
    }

    @Test func optionsParseExactly() throws {
        let schema = OptionsSchema("t", [
            OptionSpec("n", .integer(min: 1, max: 10), default: .integer(2), help: "n"),
            OptionSpec("x", .real(min: 0, max: 1), help: "x"),
            OptionSpec("on", .flag, default: .flag(true), help: "on"),
            OptionSpec("files", .list, default: .list([]), help: "files"),
        ])
        let (values, positionals) = try schema.parse(arguments: ["a", "--n", "3", "--x=0.5", "--no-on", "--files", "p,q", "--files", "r", "-", "--", "--n"])
        #expect(values.int("n") == 3 && values.double("x") == 0.5 && !values.bool("on"))
        #expect(values.list("files") == ["p", "q", "r"])
        #expect(positionals == ["a", "-", "--n"])
        #expect(throws: ThreshError.self) { try schema.parse(arguments: ["--n", "1.5"]) }
        #expect(throws: ThreshError.self) { try schema.parse(arguments: ["--n", "99999999999999999999999"]) }
        #expect(throws: ThreshError.self) { try schema.parse(arguments: ["--x", "nan"]) }
        #expect(try schema.parse(arguments: ["--n", "10.0"]).values.int("n") == 10)
        // The fingerprint covers defaults, so setting an option to its default changes nothing.
        #expect(try schema.parse(arguments: ["--n", "2"]).values.fingerprint == schema.defaults.fingerprint)
        #expect(try schema.parse(arguments: ["--n", "3"]).values.fingerprint != schema.defaults.fingerprint)
    }
}
