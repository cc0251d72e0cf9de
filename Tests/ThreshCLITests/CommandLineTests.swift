import Foundation
import Testing
import ThreshIO
import ThreshTestSupport
import ThreshCore

/// End-to-end: the built `thresh` binary, its stdout, stderr and exit status.
@Suite struct CommandLineTests {
    struct Run { var status: Int32; var stdout: String; var stderr: String }

    func thresh(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.threshBinary)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.currentDirectoryURL = URL(fileURLWithPath: TestPaths.repository)
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func warcOnTheSamplesWritesDocumentsAndCountsEveryRecord() throws {
        let dir = makeTemporaryDirectory()
        let run = try thresh(["warc", "Samples/crawl-sample.warc.gz", "--stats", dir + "/stats.json", "--quiet"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n")
        let documents = lines.filter { $0.hasPrefix("{\"id\"") }
        #expect(documents.count == lines.count)
        #expect(documents.count == 7)
        #expect(documents.contains { $0.contains("Река течёт к морю") })
        #expect(documents.contains { $0.contains("川は山から海へ流れ") })
        #expect(documents.contains { $0.contains("crème brûlée") })
        let stats = String(decoding: try readFile(dir + "/stats.json"), as: UTF8.self)
        #expect(stats.contains(#""documents_in":27,"documents_out":7"#))
        #expect(stats.contains(#""invalid-header":1"#))
        #expect(run.stderr.contains("Samples/crawl-sample.warc.gz, record 25, offset"))
    }

    /// A file that is not an archive is an error naming it (exit 1); with `--on-error skip` it is named, counted and
    /// the other files are read; `warc check` fails on it; `thresh run` names and counts it and goes on. An output
    /// name Thresh cannot write is a usage error before any work.
    @Test func filesThatAreNotArchivesAreNamed() throws {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/README.md", Array("# Notes about this crawl\n".utf8))
        var run = try thresh(["warc", dir + "/README.md", "Samples/crawl-sample.warc.gz", "-q"])
        #expect(run.status == 1 && run.stderr.contains(dir + "/README.md") && run.stderr.contains("not a WARC or ARC archive"), "\(run.stderr)")
        run = try thresh(["warc", dir + "/README.md", "Samples/crawl-sample.warc.gz", "--on-error", "skip", "-q", "--stats", dir + "/stats.json"])
        #expect(run.status == 0 && run.stderr.contains(dir + "/README.md"), "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 7)
        #expect(String(decoding: try readFile(dir + "/stats.json"), as: UTF8.self).contains(#""files-skipped.not-an-archive":1"#))
        run = try thresh(["warc", "check", dir + "/README.md"])
        #expect(run.status == 1 && run.stderr.contains("not a WARC or ARC archive"), "\(run.stderr)")
        run = try thresh(["warc", "Samples/crawl-sample.warc.gz", "-o", dir + "/out.parquet"])
        #expect(run.status == 2 && run.stderr.contains("cannot write '.parquet'"), "\(run.stderr)")
        // thresh run over a folder that also holds the README.
        try Paths.makeDirectories(dir + "/crawl")
        try writeFile(dir + "/crawl/README.md", Array("# Notes\n".utf8))
        try writeFile(dir + "/crawl/a.warc.gz", try readFile(TestPaths.repository + "/Samples/crawl-sample.warc.gz"))
        try writeFile(dir + "/p.toml", Array("""
            output = "out"
            [[dataset]]
            name = "crawl"
            path = "crawl/*"
            format = "warc"
            [[stage]]
            use = "warc"
            [[stage]]
            use = "extract"
            """.utf8))
        run = try thresh(["run", dir + "/p.toml", "-q"])
        #expect(run.status == 0 && run.stderr.contains("crawl/README.md") && run.stderr.contains("skipped"), "\(run.stderr)")
        #expect(String(decoding: try readFile(dir + "/out/stats.json"), as: UTF8.self).contains(#""files-skipped.not-an-archive":1"#))
    }

    /// The lang and decontaminate stages in a pipeline file: every document is accounted for in their rows.
    @Test(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
    func languageAndDecontaminationStagesRunInAPipeline() throws {
        let dir = makeTemporaryDirectory()
        try Paths.makeDirectories(dir + "/crawl")
        try writeFile(dir + "/crawl/a.warc.gz", try readFile(TestPaths.repository + "/Samples/crawl-sample.warc.gz"))
        try writeFile(dir + "/bench.txt", Array("a benchmark item of thirteen words or more that no sample page holds at all\n".utf8))
        try writeFile(dir + "/p.toml", Array("""
            output = "out"
            [[dataset]]
            name = "crawl"
            path = "crawl/*.warc.gz"
            [[stage]]
            use = "warc"
            [[stage]]
            use = "extract"
            [[stage]]
            use = "lang"
            model = "\(TestPaths.sharedData)/models/fasttext-lid/lid.176.ftz"
            keep = ["en"]
            [[stage]]
            use = "decontaminate"
            benchmarks = ["\(dir)/bench.txt"]
            """.utf8))
        let run = try thresh(["run", dir + "/p.toml", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let stats = try #require(try JSONParser.parse(String(decoding: readFile(dir + "/out/stats.json"), as: UTF8.self)).objectValue)
        let rows = Dictionary((stats["stages"]?.arrayValue ?? []).compactMap { $0.objectValue }.map { ($0["stage"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let lang = try #require(rows["lang"]), decontaminate = try #require(rows["decontaminate"])
        let langIn = lang["documents_in"]?.intValue ?? -1, langOut = lang["documents_out"]?.intValue ?? -1
        let dropped = (lang["dropped"]?.objectValue ?? [:]).reduce(0) { $0 + ($1.value.intValue ?? 0) }
        #expect(langIn > 0 && langIn == langOut + dropped)
        #expect(decontaminate["documents_in"]?.intValue == langOut)
    }

    /// Exact dedup and line dedup as pipeline stages over JSONL inputs: the copies go, the repeated line goes,
    /// every document is accounted for, and a second run reuses both steps.
    @Test func exactAndLineDedupStagesRunInAPipeline() throws {
        let dir = makeTemporaryDirectory()
        try Paths.makeDirectories(dir + "/a")
        try Paths.makeDirectories(dir + "/b")
        // Two inputs with one file name; document 3 copies document 0 (case and blanks aside); every document
        // carries the same footer line, and document 4 holds nothing else.
        let footer = "Copyright 2024 Example Sites. All rights reserved."
        func line(_ id: String, _ text: String) -> String {
            "{\"id\":\"\(id)\",\"text\":\"\(text)\\n\(footer)\"}\n"
        }
        try writeFile(dir + "/a/part.jsonl", Array((line("0", "The first page talks about rivers.") + line("1", "The second page is about stones.")
            + line("2", "A third page on gardens.")).utf8))
        try writeFile(dir + "/b/part.jsonl", Array((line("3", "THE FIRST   PAGE TALKS ABOUT RIVERS.") + "{\"id\":\"4\",\"text\":\"\(footer)\"}\n").utf8))
        try writeFile(dir + "/p.toml", Array("""
            output = "out"
            [[dataset]]
            name = "web"
            path = ["a/*.jsonl", "b/*.jsonl"]
            [[stage]]
            use = "dedup"
            preset = "exact"
            [[stage]]
            use = "dedup-lines"
            min-count = 3
            """.utf8))
        var run = try thresh(["run", dir + "/p.toml", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let stats = try #require(try JSONParser.parse(String(decoding: readFile(dir + "/out/stats.json"), as: UTF8.self)).objectValue)
        let rows = Dictionary((stats["stages"]?.arrayValue ?? []).compactMap { $0.objectValue }.map { ($0["stage"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let dedup = try #require(rows["dedup"]), lines = try #require(rows["dedup lines"])
        #expect(dedup["documents_in"]?.intValue == 5 && dedup["documents_out"]?.intValue == 4)
        #expect(lines["documents_in"]?.intValue == 4 && lines["documents_out"]?.intValue == 3)
        #expect(lines["dropped"]?.objectValue?["empty-after-lines"]?.intValue == 1)
        // The kept documents, without the footer.
        let kept = try keptTexts(dir + "/out/work")
        #expect(kept.sorted() == ["A third page on gardens.", "The first page talks about rivers.", "The second page is about stones."])
        run = try thresh(["run", dir + "/p.toml", "--dry-run"])
        #expect(run.status == 0 && run.stdout.contains("dedup-lines: reused") && run.stdout.contains("dedup: reused"), "\(run.stdout)")
    }

    /// `thresh filter`: a malformed --keep names the column, an unknown rule is a usage error, and the filter and
    /// keep stages account for every document in a pipeline; an edited blocklist makes the filter step run again.
    @Test func filterCommandAndStages() throws {
        var run = try thresh(["filter", "-", "--keep", "attrs.lang == "], stdin: "")
        #expect(run.status == 2 && run.stderr.contains("column 15"), "\(run.stderr)")
        run = try thresh(["filter", "-", "--rules", "gopher-qualty"], stdin: "")
        #expect(run.status == 2 && run.stderr.contains("gopher-quality"), "\(run.stderr)")
        let sentence = "The river ran past the old mill and the children watched it with their parents for a while."
        let long = (0..<8).map { "\(sentence) Line \($0) of it." }.joined(separator: "\\n")
        run = try thresh(["filter", "-", "--rules", "gopher-quality", "--keep", "len(text) > 1000", "-q", "--stats", "/dev/stderr"],
                         stdin: "{\"id\":\"a\",\"text\":\"Too short.\"}\n{\"id\":\"b\",\"text\":\"\(long)\"}\n{\"id\":\"c\",\"text\":null}\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.isEmpty) // b passes the rule but is under 1,000 characters
        #expect(run.stderr.contains("\"gopher-quality:gopher_short_doc\": 1") || run.stderr.contains("\"gopher-quality:gopher_short_doc\":1"), "\(run.stderr)")

        let dir = makeTemporaryDirectory()
        try Paths.makeDirectories(dir + "/in")
        try Paths.makeDirectories(dir + "/lists/adult")
        try writeFile(dir + "/lists/adult/domains", Array("blocked-site.com\n".utf8))
        try writeFile(dir + "/in/part.jsonl", Array(("{\"id\":\"1\",\"text\":\"Too short.\",\"url\":\"https://fine.example-site.org/a\"}\n"
            + "{\"id\":\"2\",\"text\":\"\(long)\",\"url\":\"https://www.blocked-site.com/b\"}\n"
            + "{\"id\":\"3\",\"text\":\"\(long)\",\"url\":\"https://fine.example-site.org/c\"}\n"
            + "{\"id\":\"4\",\"text\":\"\(long) Extra.\",\"url\":\"https://fine.example-site.org/d\"}\n").utf8))
        try writeFile(dir + "/p.toml", Array("""
            output = "out"
            [[dataset]]
            name = "web"
            path = "in/*.jsonl"
            format = "jsonl"
            [[stage]]
            use = "filter"
            rules = ["url", "gopher-quality"]
            blocklist = ["\(dir)/lists"]
            [[stage]]
            use = "keep"
            expr = 'url != "https://fine.example-site.org/d"'
            """.utf8))
        run = try thresh(["run", dir + "/p.toml", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let stats = try #require(try JSONParser.parse(String(decoding: readFile(dir + "/out/stats.json"), as: UTF8.self)).objectValue)
        let rows = Dictionary((stats["stages"]?.arrayValue ?? []).compactMap { $0.objectValue }.map { ($0["stage"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let filter = try #require(rows["filter url,gopher-quality"]), keep = try #require(rows["keep"])
        #expect(filter["documents_in"]?.intValue == 4 && filter["documents_out"]?.intValue == 2)
        #expect(filter["dropped"]?.objectValue?["url:domain"]?.intValue == 1)
        #expect(filter["dropped"]?.objectValue?["gopher-quality:gopher_short_doc"]?.intValue == 1)
        #expect(keep["documents_in"]?.intValue == 2 && keep["documents_out"]?.intValue == 1)
        #expect(keep["dropped"]?.objectValue?["keep-false"]?.intValue == 1)
        run = try thresh(["run", dir + "/p.toml", "--dry-run"])
        #expect(run.status == 0 && run.stdout.contains("reused"), "\(run.stdout)")
        // The blocklist changes: the step is not reused.
        try writeFile(dir + "/lists/adult/domains", Array("blocked-site.com\nexample-site.org\n".utf8))
        run = try thresh(["run", dir + "/p.toml", "--dry-run"])
        #expect(run.status == 0 && !run.stdout.contains("reused"), "\(run.stdout)")
    }

    /// The texts of the documents in the line-dedup step's kept files below `work`.
    func keptTexts(_ work: String) throws -> [String] {
        var texts: [String] = []
        for step in try listDirectory(work) where step.hasSuffix("dedup-lines") {
            for job in try listDirectory(work + "/" + step) {
                for folder in ["a", "b"] where Paths.exists("\(work)/\(step)/\(job)/kept/\(folder)/part.jsonl") {
                    let reader = try DocumentReader(path: "\(work)/\(step)/\(job)/kept/\(folder)/part.jsonl")
                    while let d = try reader.next() { texts.append(d.text) }
                }
            }
        }
        return texts
    }

    @Test func samplesAreRegeneratedByteForByte() throws {
        let dir = makeTemporaryDirectory()
        let run = try thresh(["samples", "-o", dir])
        #expect(run.status == 0)
        for file in ["crawl-sample.warc.gz", "crawl/crawl-00000.warc.gz", "crawl/crawl-00001.warc.gz", "reference/webtext/part-0.jsonl",
                     "reference/books/part-0.jsonl", "reference/wikipedia/part-0.jsonl"] {
            #expect(try readFile(dir + "/" + file) == readFile(TestPaths.repository + "/Samples/" + file), "\(file)")
        }
    }

    @Test func catConvertsCompressionAndTakesTheHead() throws {
        let dir = makeTemporaryDirectory()
        let input = (0..<5).map { #"{"id":"\#($0)","text":"t\#($0)","added":"2024"}"# }.joined(separator: "\n") + "\n"
        var run = try thresh(["cat", "-", "-o", dir + "/x.jsonl.zst"], stdin: input)
        #expect(run.status == 0)
        run = try thresh(["cat", dir + "/x.jsonl.zst", "--head", "2", "--quiet"])
        #expect(run.stdout == (0..<2).map { #"{"id":"\#($0)","text":"t\#($0)","added":"2024"}"# }.joined(separator: "\n") + "\n")
    }

    @Test func invalidInputNamesFileAndLineAndFails() throws {
        let run = try thresh(["cat", "-", "--quiet"], stdin: "{\"id\":\"a\"}\nnot json\n")
        #expect(run.status == 1)
        #expect(run.stderr.contains("-, line 2: invalid document"))
        let skipping = try thresh(["cat", "-", "--on-error", "skip"], stdin: "{\"id\":\"a\"}\nnot json\n")
        #expect(skipping.status == 0)
        #expect(skipping.stderr.contains("dropped invalid-json: 1"))
    }

    @Test func writingToADeviceLeavesTheDeviceInPlace() throws {
        let run = try thresh(["warc", "Samples/crawl-sample.warc.gz", "-o", "/dev/null", "--quiet"])
        #expect(run.status == 0)
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func missingFileIsAClearError() throws {
        let run = try thresh(["warc", "/nonexistent/x.warc.gz"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("/nonexistent/x.warc.gz: cannot open"))
    }
}

/// The quality path end to end: text → train → score → sample, on small corpora written here.
@Suite struct QualityCommandLineTests {
    let cli = CommandLineTests()

    func corpus(_ words: [String], count: Int, seed: Int) -> String {
        (0..<count).map { i in
            let text = (0..<30).map { k in words[(i * 7 + k * 13 + seed) % words.count] }.joined(separator: " ")
            return JSONWriter.string(.object(["id": .string("d\(seed)-\(i)"), "text": .string(text)]))
        }.joined(separator: "\n") + "\n"
    }

    @Test func trainScoreAndSample() throws {
        let dir = makeTemporaryDirectory()
        let good = ["the", "river", "valley", "history", "of", "science", "and", "library", "museum", "research", "study"]
        let bad = ["click", "here", "buy", "now", "cheap", "casino", "bonus", "free", "login", "the", "of"]
        try writeFile(dir + "/good.jsonl", Array(corpus(good, count: 300, seed: 1).utf8))
        try writeFile(dir + "/bad.jsonl", Array(corpus(bad, count: 300, seed: 2).utf8))
        var run = try cli.thresh(["quality", "train", "--positive", dir + "/good.jsonl", "--negative", dir + "/bad.jsonl",
                                  "-o", dir + "/model.json", "--num-features", "1024", "--reg-param", "0.01"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("validation"))
        run = try cli.thresh(["score", "--model", dir + "/model.json", dir + "/good.jsonl", dir + "/bad.jsonl", "-o", dir + "/scored.jsonl", "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        run = try cli.thresh(["cat", dir + "/scored.jsonl", "--quiet"])
        let scored = run.stdout.split(separator: "\n").map { try! JSONParser.parse(String($0)).objectValue! }
        #expect(scored.count == 600)
        let goodScores = scored.prefix(300).map { $0["attrs"]!.objectValue!["quality"]!.doubleValue! }
        let badScores = scored.suffix(300).map { $0["attrs"]!.objectValue!["quality"]!.doubleValue! }
        #expect(goodScores.allSatisfy { $0 > 0.9 } && badScores.allSatisfy { $0 < 0.1 })
        // Sampling keeps the same documents whatever the order of the input.
        run = try cli.thresh(["sample", dir + "/scored.jsonl", "--seed", "3", "--quiet"])
        let kept = Set(run.stdout.split(separator: "\n").map { try! JSONParser.parse(String($0)).objectValue!["id"]!.stringValue! })
        let reversed = run.stdout.split(separator: "\n").reversed().joined(separator: "\n") + "\n"
        _ = reversed
        let shuffled = String(decoding: try readFile(dir + "/scored.jsonl"), as: UTF8.self).split(separator: "\n").reversed().joined(separator: "\n") + "\n"
        run = try cli.thresh(["sample", "-", "--seed", "3", "--quiet"], stdin: shuffled)
        let keptReversed = Set(run.stdout.split(separator: "\n").map { try! JSONParser.parse(String($0)).objectValue!["id"]!.stringValue! })
        #expect(kept == keptReversed)
        #expect(kept.count > 250 && kept.count < 330)  // nearly all good ones, about 1/512 of the bad ones
        run = try cli.thresh(["sample", dir + "/scored.jsonl", "--dry-run", "--quiet"])
        #expect(run.stdout.contains("expected_keep_fraction"))
    }

    @Test func brokenModelFileIsAClearError() throws {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/model.json", Array(#"{"format":"thresh-quality-model","version":1,"features":{}}"#.utf8))
        let run = try cli.thresh(["score", "--model", dir + "/model.json"], stdin: "")
        #expect(run.status == 1)
        #expect(run.stderr.contains("model.json"))
    }
}

/// `thresh dedup` end to end, and its HTML report rendered by a real headless browser (Debian's chromium).
@Suite struct DedupCommandLineTests {
    let cli = CommandLineTests()

    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { TestPaths.exists($0) }
    }

    func corpus(_ dir: String) throws {
        var lines: [String] = []
        for i in 0..<60 {
            let words = (0..<80).map { "w\(($0 * 31 + i * 977) % 3001)" }
            lines.append(JSONWriter.string(.object(["id": .string("d\(i)"), "source": .string(i % 2 == 0 ? "news" : "blogs"),
                                                    "text": .string(words.joined(separator: " "))])))
            if i < 10 {
                var copy = words
                copy[5] = "changed"
                lines.append(JSONWriter.string(.object(["id": .string("d\(i)-copy"), "source": .string("blogs"), "text": .string(copy.joined(separator: " "))])))
            }
        }
        try writeFile(dir + "/docs.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
    }

    @Test func dedupRemovesCopiesAndReportsThem() throws {
        let dir = makeTemporaryDirectory()
        try corpus(dir)
        var run = try cli.thresh(["dedup", dir + "/docs.jsonl", "-o", dir + "/out", "--preset", "fineweb", "--threshold", "0.8"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("10 removed"))
        run = try cli.thresh(["dedup", "stats", dir + "/out", "--json"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("\"removed\":10"))
        run = try cli.thresh(["dedup", "stats", dir + "/out"])
        #expect(run.stdout.contains("blogs"))
    }

    @Test(.enabled(if: chromium != nil || TestPaths.isCI, "chromium is not installed"))
    func htmlReportRendersInAHeadlessBrowser() throws {
        let browser = try #require(Self.chromium, "chromium is missing (scripts/test installs it when run as root)")
        let dir = makeTemporaryDirectory()
        try corpus(dir)
        _ = try cli.thresh(["dedup", dir + "/docs.jsonl", "-o", dir + "/out", "--preset", "fineweb", "--threshold", "0.8"])
        let run = try cli.thresh(["dedup", "stats", dir + "/out", "--html", dir + "/report.html"])
        #expect(run.status == 0, "\(run.stderr)")
        let html = String(decoding: try readFile(dir + "/report.html"), as: UTF8.self)
        #expect(!html.contains("<script") && !html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        // The browser parses and lays it out: the DOM it dumps has the summary and the plots' bars.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + dir + "/report.html"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        try process.run()
        let dom = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(dom.contains("id=\"summary\""))
        #expect(dom.contains("70 documents; 10 removed"))
        #expect(dom.components(separatedBy: "class=\"bar\"").count > 4)
        #expect(dom.contains("class=\"member removed\""))
        // And it paints: a screenshot is written.
        let shot = Process()
        shot.executableURL = URL(fileURLWithPath: browser)
        shot.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--screenshot=" + dir + "/report.png", "--window-size=900,1200",
                          "file://" + dir + "/report.html"]
        shot.standardOutput = Pipe()
        shot.standardError = Pipe()
        try shot.run()
        shot.waitUntilExit()
        #expect(try readFile(dir + "/report.png").count > 10_000)
    }
}

/// `thresh run` on the samples: the whole recipe, and resumption after kill -9 with byte-identical outputs.
@Suite(.enabled(if: TestPaths.sharedDataAvailable, "the GPT-2 vocabulary in ../shared/data is needed"))
struct RunCommandLineTests {
    let cli = CommandLineTests()

    /// Every output a run makes that must be the same bytes on every run: the shards, each fused step's documents,
    /// the dedup results (not statistics and markers, which hold timings).
    func outputs(_ dir: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        func walk(_ path: String, _ name: String) throws {
            if isDirectory(path) {
                for child in try listDirectory(path) where child != "work" || !name.hasPrefix("shards") { try walk(path + "/" + child, name.isEmpty ? child : name + "/" + child) }
                return
            }
            let base = String(name.split(separator: "/").last!)
            if base.contains(".tmp-") || base.hasSuffix(".json") && !base.hasPrefix("manifest") || base.hasSuffix(".done") || base == "fingerprint" { return }
            if name.contains("/work/") && name.contains("dedup") { return }  // a dedup job's own phases (markers, runs)
            if name.hasSuffix(".bin") && name.contains("features/") { return }
            files[name] = try readFile(path)
        }
        try walk(dir + "/shards", "shards")
        try walk(dir + "/work", "work")
        return files
    }

    func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// FineWeb's recipe on the samples: every stage has work and every document is accounted for; with one worker or
    /// two, the outputs are the same bytes.
    @Test func runsTheFineWebPipeline() throws {
        let dir = makeTemporaryDirectory()
        let lid = TestPaths.sharedData + "/models/fasttext-lid/lid.176.ftz"
        var run = try cli.thresh(["run", "Pipelines/fineweb.toml", "-o", dir + "/two", "-q"], environment: ["THRESH_LID_MODEL": lid])
        #expect(run.status == 0, "\(run.stderr)")
        let stats = try #require(try JSONParser.parse(String(decoding: readFile(dir + "/two/stats.json"), as: UTF8.self)).objectValue)
        let rows = Dictionary((stats["stages"]?.arrayValue ?? []).compactMap { $0.objectValue }.map { ($0["stage"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        func dropped(_ stage: String, _ reason: String) -> Int { rows[stage]?["dropped"]?.objectValue?[reason]?.intValue ?? 0 }
        func counter(_ stage: String, _ name: String) -> Int { rows[stage]?["counters"]?.objectValue?[name]?.intValue ?? 0 }
        for (stage, row) in rows where stage != "warc" && stage != "shard" {
            let inCount = row["documents_in"]?.intValue ?? -1, outCount = row["documents_out"]?.intValue ?? -1
            let drops = (row["dropped"]?.objectValue ?? [:]).reduce(0) { $0 + ($1.value.intValue ?? 0) }
            #expect(inCount == outCount + drops, "\(stage): \(inCount) in, \(outCount) out, \(drops) dropped")
        }
        // The six listed URLs, one per check of the URL filter.
        for reason in ["domain", "subdomain", "url", "hard_blacklisted", "soft_blacklisted", "blacklisted_subword"] {
            #expect(dropped("filter url", "url:" + reason) == 1, "url:\(reason)")
        }
        #expect(counter("lang", "lang.de") == 12 && counter("lang", "lang.fr") == 12)
        #expect(dropped("filter gopher-repetition,gopher-quality,c4,fineweb-quality", "gopher-repetition:top_4_gram") >= 10)
        #expect(counter("pii", "pii.email") >= 32 && counter("pii", "pii.ip") >= 16)
        #expect((rows["dedup"]?["documents_in"]?.intValue ?? 0) > (rows["dedup"]?["documents_out"]?.intValue ?? 0))
        run = try cli.thresh(["run", "Pipelines/fineweb.toml", "-o", dir + "/one", "--workers", "1", "-q"], environment: ["THRESH_LID_MODEL": lid])
        #expect(run.status == 0, "\(run.stderr)")
        let one = try outputs(dir + "/one"), two = try outputs(dir + "/two")
        #expect(one["shards/manifest.json"] != nil)
        #expect(one.keys.sorted() == two.keys.sorted())
        for (name, bytes) in one where two[name] != bytes { Issue.record("\(name) differs between one and two workers") }
    }

    @Test func runsTheGPT3PipelineAndResumesAfterKill() throws {
        let dir = makeTemporaryDirectory()
        var run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/whole"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("shards:") && run.stderr.contains("dedup report:"))
        let whole = try outputs(dir + "/whole")
        #expect(whole["shards/manifest.json"] != nil)
        // Kill the same job at several points, then run it again: the outputs are the same bytes.
        for delay in [0.05, 0.15, 0.3] {
            let out = dir + "/killed-\(delay)"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestPaths.threshBinary)
            process.arguments = ["run", "Pipelines/gpt3.toml", "-o", out]
            process.currentDirectoryURL = URL(fileURLWithPath: TestPaths.repository)
            process.standardError = Pipe()
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", out])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try outputs(out) == whole, "after a kill at \(delay) s")
        }
    }

    /// The tasks a cluster runs (`--task STEP[:INDEX]`), run one by one as separate processes, make the same bytes.
    @Test func tasksRunOneByOneMakeTheSameOutputs() throws {
        let dir = makeTemporaryDirectory()
        var run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/whole"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try listDirectory(TestPaths.repository + "/Samples/crawl").filter { $0.hasSuffix(".warc.gz") }.count
        #expect(files >= 2)
        // Per-file tasks in reverse order: array tasks on a cluster start in any order.
        let tasks = (0..<files).reversed().map { "1:\($0)" } + ["2"] + (0..<files).reversed().map { "3:\($0)" } + ["4", "5", "report"]
        for task in tasks {
            run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/tasks", "--task", task])
            #expect(run.status == 0, "task \(task): \(run.stderr)")
        }
        #expect(try outputs(dir + "/tasks") == outputs(dir + "/whole"))
        #expect(TestPaths.exists(dir + "/tasks/stats.json"))
        run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/tasks", "--task", "1:-1"])
        #expect(run.status == 2 && run.stderr.contains("index"), "\(run.stderr)")
        run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/tasks", "--task", "1:99"])
        #expect(run.status == 2 && run.stderr.contains("out of range"), "\(run.stderr)")
    }

    /// `--executor slurm` on a real (one-node) Slurm cluster: job arrays chained by dependencies, same bytes as local.
    /// Needs a cluster, so it runs only with THRESH_TEST_SLURM=1, which scripts/test sets under CI after starting a
    /// one-node cluster (scripts/slurm/up).
    @Test(.enabled(if: getenv("THRESH_TEST_SLURM") != nil, "set THRESH_TEST_SLURM=1 with a Slurm cluster up"))
    func slurmExecutorMakesTheSameOutputs() throws {
        let dir = makeTemporaryDirectory()
        var run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/whole"])
        #expect(run.status == 0, "\(run.stderr)")
        run = try cli.thresh(["run", "Pipelines/gpt3.toml", "-o", dir + "/slurm", "--executor", "slurm", "--wait"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("submitted Slurm jobs"))
        #expect(try outputs(dir + "/slurm") == outputs(dir + "/whole"))
        #expect(try listDirectory(dir + "/slurm/slurm").contains("01-warc+extract-1.out"))
    }

    @Test func pipelineMistakesNameFileLineAndKey() throws {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/typo.toml", Array("outptu = \"x\"\n".utf8))
        let run = try cli.thresh(["run", dir + "/typo.toml"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("typo.toml, line 1: outptu: unknown key for pipeline (did you mean 'output'?)"), "\(run.stderr)")
    }
}
