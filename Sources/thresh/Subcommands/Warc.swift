import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshWARC

/// `thresh warc`: archives to documents, plus `index`, `check` and `list` over archives.
struct Warc: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read WARC/ARC archives: documents (default), a CDXJ index, digest checks, or a record listing.",
        subcommands: [WarcDocuments.self, WarcIndex.self, WarcCheck.self, WarcList.self],
        defaultSubcommand: WarcDocuments.self
    )
}

/// Options of the record reader shared by the `warc` subcommands.
struct ReaderOptions: ParsableArguments {
    @Option(help: "Largest record block read into memory, in bytes; larger records are skipped and counted.")
    var maxRecordSize: Int = 16 << 20

    var readerOptions: WARCReaderOptions { WARCReaderOptions(maximumRecordSize: maxRecordSize) }

    func validate() throws {
        if maxRecordSize < 1024 { throw ValidationError("--max-record-size must be at least 1024") }
    }
}

struct WarcDocuments: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "documents",
        abstract: "Write one document per HTML or text response (WET conversion records give their text).",
        usage: "thresh warc [documents] FILES… [OPTIONS]",
        discussion: stageDiscussion("""
            Formats are recognised from content: WARC 1.0/1.1 (and 0.17/0.18), ARC, plain, gzip per record \
            or whole file, zstd (with a dictionary frame). Records are filtered by type, size, HTTP status and \
            media type before their payload is decoded. Malformed records are reported on stderr with file, \
            record and offset, counted, and skipped.
            """, WARCIngestOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Archive files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(WARCIngestOptions.schema, arguments, defaultInputs: [])
            guard !parsed.inputs.isEmpty else { throw ThreshError(.usage, "name at least one archive file ('-' for stdin)") }
            let options = parsed.options
            let ingest = WARCIngest(options: try WARCIngestOptions(parsed.values))
            let diagnostics = Diagnostics()
            ingest.onProblem = { diagnostics.report($0) }
            let writer = try DocumentWriter(path: options.output)
            let progress = Progress(quiet: options.quiet)
            var skipped = StageStatistics(stage: "warc")
            // Progress by stored bytes read against the files' sizes (no percentage when one input is a pipe).
            let total = totalSize(of: parsed.inputs)
            let started = monotonicSeconds()
            var finished: Int64 = 0
            for input in parsed.inputs {
                do {
                    defer { finished += ingest.fileBytesRead }
                    try ingest.process(path: input) { document in
                        try writer.write(document)
                        let read = finished + ingest.fileBytesRead
                        progress.update("warc: \(input): \(writer.count) documents", fraction: total.map { Double(read) / Double(max(1, $0)) },
                                        rate: megabytesPerSecond(read, since: started))
                    }
                } catch let error as ThreshError where error.code == .unsupportedFormat && parsed.onError == .skip {
                    // Not an archive: named and counted, and the other files are read.
                    diagnostics.report(error)
                    skipped.count("files-skipped.not-an-archive")
                }
            }
            progress.clear()
            try writer.close()
            var statistics = ingest.statistics
            statistics.merge(skipped)
            try finishStatistics([statistics], options: options)
        }
    }
}

struct WarcIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Write a CDXJ index (SURT key, timestamp, JSON with url, mime, status, digest, length, offset, filename).")

    @Argument(help: "Archive files.")
    var inputs: [String]

    @Flag(help: "Index every record (cdxj-indexer's --records all), not only response, revisit, resource and metadata records.")
    var all = false

    @Option(name: [.short, .customLong("output")], help: "Where to write the index ('-' is stdout).")
    var output: String = "-"

    @OptionGroup var reader: ReaderOptions

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            let out = try OutputFile(path: output)
            let diagnostics = Diagnostics()
            var stats = StageStatistics(stage: "warc index")
            var entries: [CDXJEntry] = []
            for input in inputs {
                let filename = String(input.split(separator: "/").last ?? Substring(input))
                entries += try CDXJIndexer.index(path: input, filename: filename, includeAll: all, options: reader.readerOptions) {
                    stats.count("problems")
                    diagnostics.report($0.error)
                }
                stats.bytesIn += Paths.size(of: input)
                stats.count("files")
            }
            for entry in entries.sorted() { try out.write(entry.line + "\n") }
            try out.close()
            stats.documentsIn = entries.count
            stats.documentsOut = entries.count
            stats.bytesOut = out.bytesWritten
            stats.seconds = monotonicSeconds() - started
            try summary.finish([stats])
        }
    }
}

struct WarcCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify block and payload digests of every record (as 'warcio check -v'); exit 1 if any fails.")

    @Argument(help: "Archive files.")
    var inputs: [String]

    @OptionGroup var reader: ReaderOptions

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        var failed = false
        try runReportingErrors {
            let started = monotonicSeconds()
            let out = try OutputFile(path: "-")
            let diagnostics = Diagnostics()
            var stats = StageStatistics(stage: "warc check")
            defer {
                stats.seconds = monotonicSeconds() - started
                try? summary.finish([stats])
            }
            for input in inputs {
                stats.bytesIn += Paths.size(of: input)
                try out.write(input + "\n")
                let warc = try WARCReader(path: input, options: reader.readerOptions)
                warc.onProblem = { diagnostics.report($0.error) }
                while let record = try warc.next() {
                    stats.documentsIn += 1
                    try out.write("  offset \(record.offset) WARC-Record-ID \(record.recordID ?? "-") \(record.type)\n")
                    guard let block = try warc.readBlock() else {
                        stats.count("not-checked-too-large")
                        try out.write("    not checked (record larger than --max-record-size)\n")
                        continue
                    }
                    if warc.lastBlockTruncated {
                        // A block cut short cannot match its digest; warcio does not check it either.
                        stats.count("not-checked-truncated")
                        try out.write(record.header("WARC-Block-Digest") != nil || record.header("WARC-Payload-Digest") != nil
                                      ? "    digest present but not checked (record truncated)\n" : "    no digest to check\n")
                        continue
                    }
                    let verdict = DigestVerifier.check(record, block: block)
                    if verdict.passed { stats.documentsOut += 1 } else { failed = true; stats.drop("digest-mismatch") }
                    try out.write("    \(verdict.summary)\n")
                }
            }
            try out.close()
        }
        if failed { throw ExitCode(1) }
    }
}

struct WarcList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One JSON line per record: offset, length, type, uri, id, content length, digests, HTTP status.")

    @Argument(help: "Archive file.")
    var input: String

    @OptionGroup var reader: ReaderOptions

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            let out = try OutputFile(path: "-")
            let diagnostics = Diagnostics()
            var stats = StageStatistics(stage: "warc list")
            let warc = try WARCReader(path: input, options: reader.readerOptions)
            warc.onProblem = { stats.count("problems"); diagnostics.report($0.error) }
            for entry in try WARCListing.entries(warc) {
                try out.write(JSONWriter.string(.object(entry)) + "\n")
                stats.documentsIn += 1
                stats.documentsOut += 1
            }
            try out.close()
            stats.bytesIn = Paths.size(of: input)
            stats.bytesOut = out.bytesWritten
            stats.seconds = monotonicSeconds() - started
            try summary.finish([stats])
        }
    }
}

extension Substring {
    func trimmingSpacesCLI() -> String {
        var s = self
        while let f = s.first, f == " " { s.removeFirst() }
        while let l = s.last, l == " " { s.removeLast() }
        return String(s)
    }
}
