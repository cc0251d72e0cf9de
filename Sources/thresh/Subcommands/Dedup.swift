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
        subcommands: [DedupRun.self, DedupStats.self, DedupGenerate.self],
        defaultSubcommand: DedupRun.self)
}

struct DedupRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Deduplicate documents (the default subcommand).")

    @Argument(help: "Input JSONL files.")
    var inputs: [String]

    @Option(parsing: .upToNextOption, help: "Reference corpora: documents duplicating them are removed; they never are.")
    var index: [String] = []

    @Option(name: [.short, .customLong("output")], help: "Output directory.")
    var output: String

    @Option(help: "gpt3 (Spark features, 10 tables of 1 row, verified), fineweb (word 5-grams, 14 bands of 8 rows), or custom.")
    var preset: String = "gpt3"

    @Option(help: "Jaccard similarity at or above which documents are duplicates.")
    var threshold: Double = 0.8

    @Option(help: "Bands (with --rows, overrides the preset's).")
    var bands: Int?

    @Option(help: "Rows per band.")
    var rows: Int?

    @Option(help: "Choose bands and rows for --threshold within this many permutations (as datasketch does).")
    var permutations: Int?

    @Option(help: "Shingles: features (the quality model's), words:N, or chars:N.")
    var shingles: String?

    @Option(help: "Seed of the hash family (gpt3 default: Spark's, 328749633).")
    var seed: Int64?

    @Option(help: "Spark's rule instead of --threshold: keep pairs whose Jaccard distance is strictly below this (as approxSimilarityJoin).")
    var sparkDistance: Double?

    @Flag(help: "Do not verify candidates (every LSH candidate pair counts).")
    var noVerify = false

    @Option(help: "Also write every verified pair with its Jaccard (JSONL).")
    var pairs: String?

    func run() throws {
        try runReportingErrors {
            var options: DedupOptions
            switch preset {
            case "gpt3": options = .gpt3(threshold: threshold, seed: seed ?? SparkMinHash.scalaDefaultSeed)
            case "fineweb": options = .fineweb(threshold: threshold, seed: UInt64(bitPattern: seed ?? 1))
            case "custom": options = DedupOptions(shingler: Shingler(kind: .words(5)), family: .minhash64(seed: UInt64(bitPattern: seed ?? 1)),
                                                  bands: 16, rows: 8, threshold: threshold)
            default: throw ThreshError(.usage, "unknown --preset '\(preset)' (gpt3, fineweb, custom)")
            }
            if let shingles {
                let parts = shingles.split(separator: ":")
                switch (parts.first.map(String.init), parts.count > 1 ? Int(parts[1]) : nil) {
                case ("features", _): options.shingler = Shingler(kind: .features(FeatureHasher()))
                case ("words", let n?) where n > 0: options.shingler = Shingler(kind: .words(n))
                case ("chars", let n?) where n > 0: options.shingler = Shingler(kind: .characters(n))
                default: throw ThreshError(.usage, "--shingles is features, words:N or chars:N")
                }
            }
            if let permutations {
                let best = DedupOptions.optimalBandsAndRows(threshold: threshold, permutations: permutations)
                options.bands = best.bands
                options.rows = best.rows
            }
            if let bands { options.bands = bands }
            if let rows { options.rows = rows }
            if case .spark = options.family, case .features = options.shingler.kind {} else if case .spark = options.family {
                throw ThreshError(.usage, "the Spark family (gpt3 preset) hashes feature indices: use --shingles features")
            }
            options.verify = !noVerify
            options.sparkDistance = sparkDistance
            let job = DedupJob(inputs: index.map { DedupInput(path: $0, isIndex: true) } + inputs.map { DedupInput(path: $0) },
                               output: output, options: options)
            job.pairsFile = pairs
            let progress = Progress()
            job.progress = { progress.update("dedup: \($0)") }
            try job.run()
            progress.clear()
            let s = job.statistics
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

    func run() throws {
        try runReportingErrors {
            let statsBytes = try readEntireFile(directory + "/stats.json")
            guard let stats = try? statsBytes.withUnsafeBytes({ try JSONParser.parse($0) }).objectValue else {
                throw ThreshError(.init(rawValue: "invalid-stats"), "not a dedup statistics file", file: directory + "/stats.json")
            }
            var clusters: [JSONObject] = []
            let reader = try DocumentReader(path: directory + "/clusters.jsonl")
            while let c = try reader.next(), clusters.count < top { clusters.append(c.fields) }
            if let html {
                let out = try OutputFile(path: html, compression: .none)
                try out.write(DedupReport.html(stats: stats, clusters: clusters))
                try out.close()
                if !json { printError("report: \(html)") }
            }
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

    func run() throws {
        try runReportingErrors {
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
            printError("dedup generate: \(bases) documents and \(copies) planted copies in \(output)")
        }
    }
}
