import ArgumentParser
import ThreshCore
import ThreshDedup
import ThreshIO
import ThreshQuality

/// `thresh dedup`: fuzzy dedup with MinHashLSH, and `thresh dedup stats`.
struct Dedup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove near-duplicate documents (MinHashLSH, verified by exact Jaccard), deterministically, in bounded memory.",
        discussion: """
            Phases run on disk under OUT/work and are restartable: a killed run continues after the last finished \
            phase. Outputs: OUT/kept/<input name> (kept documents, with attrs.dup_cluster and attrs.dup_size when \
            they are in a cluster), OUT/removed.jsonl (id, cluster, survivor, Jaccard to the survivor), \
            OUT/clusters.jsonl, OUT/stats.json. Survivor rule: reference (--index) documents first, then the highest \
            attrs.quality, then the lowest (source, id). Reference documents are never removed and not written to kept/.
            """,
        subcommands: [DedupRun.self, DedupStats.self, DedupGenerate.self, DedupLines.self],
        defaultSubcommand: DedupRun.self)
}

struct DedupRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Deduplicate documents (the default subcommand).",
        usage: "thresh dedup [run] FILES… -o OUT [--index REFERENCE…] [OPTIONS]",
        discussion: stageDiscussion("", DedupOptions.schema, extra: extraOptions))

    static let extraOptions = [
        OptionSpec("output", .text, required: true, shapesOutput: false, short: "o", help: "output directory"),
        OptionSpec("index", .list, default: .list([]), shapesOutput: false,
                   help: "reference corpora (comma-separated files): documents duplicating them are removed; they never are"),
        OptionSpec("pairs", .text, shapesOutput: false, help: "also write every verified pair with its Jaccard (JSONL)"),
        OptionSpec("quiet", .flag, default: .flag(false), shapesOutput: false, short: "q", help: "do not print progress or the summary"),
        OptionSpec("stats", .text, shapesOutput: false,
                   help: "write the statistics summary as JSON to this file (the summary row, and the whole of OUT/stats.json under 'dedup')"),
    ]

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(DedupOptions.schema, arguments, defaultInputs: [], extra: Self.extraOptions)
            guard !parsed.inputs.isEmpty else { throw ThreshError(.usage, "name at least one input file") }
            let values = parsed.values
            let output = values.string("output")
            let options = try DedupOptions(values)
            let job = DedupJob(inputs: values.list("index").map { DedupInput(path: $0, isIndex: true) } + parsed.inputs.map { DedupInput(path: $0) },
                               output: output, options: options)
            job.pairsFile = values.optionalString("pairs")
            let quiet = values.bool("quiet")
            let progress = Progress(quiet: quiet)
            job.progress = { progress.update("dedup: \($0)") }
            try job.run()
            progress.clear()
            let s = job.statistics
            if let stats = values.optionalString("stats") {
                let full = try readJSONFile(output + "/stats.json").objectValue ?? [:]
                let row = StageStatistics(dedupStatistics: full, seconds: (full["phase_seconds"]?.objectValue ?? [:]).reduce(0) { $0 + ($1.value.doubleValue ?? 0) })
                let out = try OutputFile(path: stats, compression: .none)
                try out.write(JSONWriter.string(.object(["stages": .array([.object(row.json)]), "dedup": .object(full)])) + "\n")
                try out.close()
            }
            guard !quiet else { return }
            printError("dedup: \(s.documents) documents, \(s.candidates) candidate pairs, \(s.verified) verified, \(s.clusters) clusters, \(s.removed) removed (\(options.bands) bands × \(options.rows) rows, threshold \(options.threshold))")
            printError("outputs: \(output)/kept/, \(output)/removed.jsonl, \(output)/clusters.jsonl, \(output)/stats.json")
        }
    }
}

struct DedupStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "What dedup removed: totals and removal rate per source, cluster sizes, candidates vs verified pairs, Jaccard histogram, the largest clusters.")

    @Argument(help: "A dedup output directory.")
    var directory: String

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Also write a self-contained HTML report (SVG plots) to this file.")
    var html: String?

    @Option(help: "How many of the largest clusters to show.")
    var top: Int = 5

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let statsBytes = try readEntireFile(directory + "/stats.json")
            guard let stats = try? statsBytes.withUnsafeBytes({ try JSONParser.parse($0) }).objectValue else {
                throw ThreshError(.invalidOutput, "not a dedup statistics file", file: directory + "/stats.json")
            }
            var clusters: [JSONObject] = []
            let reader = try DocumentReader(path: directory + "/clusters.jsonl")
            while let c = try reader.next(), clusters.count < top { clusters.append(c.fields) }
            if let html {
                let out = try OutputFile(path: html, compression: .none)
                try out.write(DedupReport.html(stats: stats, clusters: clusters))
                try out.close()
                if !json && !summary.quiet { printError("report: \(html)") }
            }
            // The same row as the dedup stage's in a run: documents, removed as duplicates, pairs, clusters.
            let row = StageStatistics(dedupStatistics: stats, seconds: 0)
            try summary.writeStatistics([row])
            if json {
                var o = stats
                o["largest_clusters"] = .array(clusters.map { .object($0) })
                print(JSONWriter.string(.object(o)))
                return
            }
            let documents = stats["documents"]?.intValue ?? 0, removed = stats["removed"]?.intValue ?? 0
            print("documents \(documents), removed \(removed) (\(format1(100 * Double(removed) / Double(max(documents, 1))))%), clusters \(stats["clusters"]?.intValue ?? 0)")
            print("candidate pairs \(stats["candidate_pairs"]?.intValue ?? 0), verified \(stats["verified_pairs"]?.intValue ?? 0)")
            print("per source:")
            for (source, v) in stats["per_source"]?.objectValue ?? [:] {
                let d = v.objectValue?["documents"]?.intValue ?? 0, r = v.objectValue?["removed"]?.intValue ?? 0
                print("  \(source): \(d) documents, \(r) removed (\(format1(100 * Double(r) / Double(max(d, 1))))%)")
            }
            print("cluster sizes: " + (stats["cluster_sizes"]?.objectValue ?? [:]).map { "\($0.key)×\($0.value.intValue ?? 0)" }.joined(separator: " "))
            let histogram = stats["jaccard_histogram"]?.arrayValue?.compactMap(\.intValue) ?? []
            let peak = max(1, histogram.max() ?? 1)
            print("Jaccard of verified pairs:")
            for (i, n) in histogram.enumerated() where n > 0 {
                print("  \(format3(Double(i) / 20))-\(format3(Double(i + 1) / 20)) \(String(repeating: "#", count: max(1, n * 40 / peak))) \(n)")
            }
            for c in clusters {
                print("cluster \(c["cluster"]?.intValue ?? 0) (\(c["size"]?.intValue ?? 0) documents, survivor \(c["survivor"]?.stringValue ?? "")):")
                for m in c["members"]?.arrayValue ?? [] {
                    let o = m.objectValue ?? [:]
                    let snippet = (o["snippet"]?.stringValue ?? "").split(whereSeparator: \.isNewline).joined(separator: " ").prefix(100)
                    print("  \(o["removed"] == .bool(true) ? "-" : "+") \(o["id"]?.stringValue ?? ""): \(snippet)")
                }
            }
        }
    }
}

struct DedupGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a dedup test corpus: documents cut from real text files, with edited copies planted at a spread of similarities.")

    @Argument(help: "Text files (plain, .gz, .zst) or JSONL documents (.jsonl) to cut documents from.")
    var texts: [String]

    @Option(name: [.short, .customLong("output")], help: "The corpus file to write.")
    var output: String

    @Option(help: "About how many documents.")
    var documents: Int = 10_000

    @Option(help: "Words per document.")
    var words: Int = 300

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            var sources: [String] = []
            for path in texts {
                if path.hasSuffix(".jsonl") || path.contains(".jsonl.") {
                    let reader = try DocumentReader(path: path)
                    while let d = try reader.next() { sources.append(d.text) }
                } else {
                    sources.append(String(decoding: try readEntireFile(path), as: UTF8.self))
                }
            }
            let writer = try DocumentWriter(path: output)
            let (bases, copies) = try DedupCorpusGenerator(seed: seed).generate(texts: sources, documents: documents, wordsPerDocument: words, to: writer)
            try writer.close()
            var stats = StageStatistics(stage: "dedup generate")
            stats.documentsOut = bases + copies
            stats.bytesOut = writer.bytesWritten
            stats.count("planted-copies", copies)
            stats.seconds = monotonicSeconds() - started
            try summary.writeStatistics([stats])
            if !summary.quiet { printError("dedup generate: \(bases) documents and \(copies) planted copies in \(output)") }
        }
    }
}

/// `thresh dedup lines`: lines repeated across a corpus removed from every document (CCNet's paragraph dedup).
struct DedupLines: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lines",
        abstract: "Remove lines that occur in at least --min-count documents from every document (CCNet's paragraph dedup).",
        usage: "thresh dedup lines FILES… -o OUT [--min-count N] [--min-length N]",
        discussion: stageDiscussion("""
            Lines are compared after CCNet's normalisation (lower-cased, accents stripped, digits made 0, punctuation \
            removed, blanks collapsed) and counted once per document, on disk (two passes). Kept documents go to \
            OUT/kept/ (attrs.lines_removed on those that lost lines); documents left empty are dropped as \
            empty-after-lines; OUT/lines-report.json lists the most repeated lines.
            """, LineDedupOptions.schema, extra: ClassifyTrain.outputOptions))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(LineDedupOptions.schema, arguments, defaultInputs: [], extra: ClassifyTrain.outputOptions)
            guard !parsed.inputs.isEmpty else { throw ThreshError(.usage, "name at least one JSONL file") }
            guard parsed.options.output != "-" else { throw ThreshError(.usage, "dedup lines needs -o OUT (a directory)") }
            let job = LineDedupJob(inputs: parsed.inputs, output: parsed.options.output, options: LineDedupOptions(parsed.values))
            let progress = Progress(quiet: parsed.options.quiet)
            job.progress = { progress.update("dedup lines: \($0)") }
            let stats = try job.run()
            progress.clear()
            try finishStatistics([stats], options: parsed.options)
            if !parsed.options.quiet {
                for (documents, line) in job.mostRepeated.prefix(10) { printError("\(String(documents).leftPad(8))  \(line.prefix(100))") }
            }
        }
    }
}
