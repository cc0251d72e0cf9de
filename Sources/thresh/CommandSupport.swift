#if canImport(Glibc)
import Glibc
#endif
public import ArgumentParser
import Dispatch
import Synchronization
import ThreshCore
import ThreshIO

/// Options every stage command shares, described once like a stage's own.
let commonStageOptions: [OptionSpec] = [
    OptionSpec("output", .text, default: .text("-"), shapesOutput: false, short: "o",
               help: "where to write documents ('-' is stdout; .gz and .zst compress)"),
    OptionSpec("stats", .text, shapesOutput: false, help: "write the statistics summary as JSON to this file"),
    OptionSpec("quiet", .flag, default: .flag(false), shapesOutput: false, short: "q", help: "do not print the statistics summary or progress"),
    OptionSpec("on-error", .choice(OnError.allCases.map(\.rawValue)), default: .text("fail"), shapesOutput: false,
               help: "what to do with an invalid input line: fail, or skip it (counted under invalid-json)"),
]

/// A stage command's arguments parsed through the stage's schema: the same keys as its pipeline-file table.
struct StageArguments {
    let values: OptionValues
    let inputs: [String]

    init(_ schema: OptionsSchema, _ arguments: [String], defaultInputs: [String] = ["-"], extra: [OptionSpec] = commonStageOptions) throws {
        let (values, positionals) = try schema.adding(extra).parse(arguments: arguments)
        self.values = values
        inputs = positionals.isEmpty ? defaultInputs : positionals
    }

    var options: StageOptions {
        StageOptions(output: values.optionalString("output") ?? "-", stats: values.optionalString("stats"), quiet: values.bool("quiet"))
    }
    var onError: OnError { OnError(rawValue: values.optionalString("on-error") ?? "fail") ?? .fail }
}

/// `-o`, `--stats` and `-q` for the commands that are not stages (cat, text).
struct OutputArguments: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: "Where to write documents ('-' is stdout; .gz/.zst compress).")
    var output: String = "-"

    @Option(help: "Write the statistics summary as JSON to this file.")
    var stats: String?

    @Flag(name: [.short, .long], help: "Do not print the statistics summary or progress.")
    var quiet = false

    var options: StageOptions { StageOptions(output: output, stats: stats, quiet: quiet) }
}

/// `--stats` and `-q` for commands that write no documents (indexes, checks, reports, training, shards): the same
/// two flags as every stage command, so that every command can be silenced and can leave its counters in a file.
struct SummaryArguments: ParsableArguments {
    @Option(help: "Write the statistics summary as JSON to this file.")
    var stats: String?

    @Flag(name: [.short, .long], help: "Do not print progress or the summary.")
    var quiet = false

    var options: StageOptions { StageOptions(output: "-", stats: stats, quiet: quiet) }

    /// Prints the summary (unless quiet) and writes it where `--stats` says.
    func finish(_ statistics: [StageStatistics]) throws { try finishStatistics(statistics, options: options) }

    /// Only writes the statistics where `--stats` says, for commands whose own report stands in for the summary.
    func writeStatistics(_ statistics: [StageStatistics]) throws {
        try finishStatistics(statistics, options: StageOptions(stats: stats, quiet: true))
    }
}

/// The options every stage's summary needs.
struct StageOptions {
    var output: String = "-"
    var stats: String?
    var quiet = false
}

/// The help text of a stage command: what it does, then its options (from its schema).
func stageDiscussion(_ text: String, _ schema: OptionsSchema, extra: [OptionSpec] = commonStageOptions) -> String {
    (text.isEmpty ? "" : text + "\n\n") + "OPTIONS (the same keys in a pipeline file's [[stage]] table):\n" + schema.adding(extra).help
}

/// Writes diagnostics to stderr: each problem once, then a count of how many more of the same kind.
/// `@unchecked Sendable`: the counts are behind a mutex, so workers may report at once.
final class Diagnostics: @unchecked Sendable {
    private let shown = Mutex<[String: Int]>([:])
    private let limitPerCode: Int

    init(limitPerCode: Int = 20) { self.limitPerCode = limitPerCode }

    func report(_ error: ThreshError) {
        let n = shown.withLock { counts in
            let n = counts[error.code.rawValue, default: 0]
            counts[error.code.rawValue] = n + 1
            return n
        }
        if n < limitPerCode {
            printError("thresh: \(error)")
        } else if n == limitPerCode {
            printError("thresh: further '\(error.code.rawValue)' problems are counted but not shown")
        }
    }
}

/// Reads the documents of `inputs` in order and hands each to `body`. Before a read that may block, `writer` is
/// flushed, so a consumer further down a pipe is never kept waiting for output already made. Invalid lines fail or
/// are skipped per `onError` (skipped ones go to `diagnostics`); returns how many were skipped, for the statistics.
/// `progress` is told after each document the share of the input files' bytes read so far (nil for standard input).
@discardableResult
func forEachDocument(in inputs: [String], onError: OnError = .fail, flushing writer: DocumentWriter?,
                     diagnostics: Diagnostics? = nil, progress: (_ fraction: Double?, _ bytesRead: Int64) -> Void = { _, _ in },
                     _ body: (Document) throws -> Void) throws -> Int {
    var skipped = 0
    let total = totalSize(of: inputs)
    var finished: Int64 = 0
    for input in inputs {
        let reader = try DocumentReader(path: input, onError: onError)
        if let diagnostics { reader.reportSkipped = { diagnostics.report($0) } }
        if let writer { reader.beforeRead = { try? writer.flush() } }
        while let document = try reader.next() {
            try body(document)
            let read = finished + reader.fileBytesRead
            progress(total.map { Double(read) / Double(max(1, $0)) }, read)
        }
        finished += reader.fileBytesRead
        skipped += reader.skipped
    }
    return skipped
}

/// The inputs' total size in bytes, for a percentage: nil when any input is standard input.
func totalSize(of inputs: [String]) -> Int64? {
    inputs.contains("-") ? nil : inputs.reduce(Int64(0)) { $0 + Paths.size(of: $1) }
}

/// Throughput for a progress line: `bytes` read since `started` (a `monotonicSeconds()` value), in MB/s.
func megabytesPerSecond(_ bytes: Int64, since started: Double) -> String {
    "\(format1(Double(bytes) / 1e6 / max(1e-9, monotonicSeconds() - started))) MB/s"
}

/// Runs a per-document stage command: the documents of the inputs through `stage` into `-o` (or nowhere, when
/// `writer` is nil), with a progress bar by input bytes, invalid lines counted, and the statistics printed and
/// written as `--stats` asks. The loop every document stage command shares.
/// - Returns: the stage's statistics as printed (with invalid input lines counted as dropped).
@discardableResult
func runDocumentStage<S: DocumentStage>(_ stage: inout S, _ parsed: StageArguments, writer: DocumentWriter?) throws -> StageStatistics {
    let options = parsed.options
    let diagnostics = Diagnostics()
    let progress = Progress(quiet: options.quiet)
    let started = monotonicSeconds()
    let invalid = try forEachDocument(in: parsed.inputs, onError: parsed.onError, flushing: writer, diagnostics: diagnostics,
                                      progress: { fraction, bytes in
        // Both texts are made only when a line is drawn (a few times a second), not once per document.
        progress.update("\(stage.statistics.stage): \(stage.statistics.documentsIn) documents in, \(stage.statistics.documentsOut) out",
                        fraction: fraction, rate: megabytesPerSecond(bytes, since: started))
    }) { document in
        try stage.process(document) { try writer?.write($0) }
    }
    try stage.finish { try writer?.write($0) }
    progress.clear()
    try writer?.close()
    var stats = stage.statistics
    if stats.seconds == 0 { stats.seconds = monotonicSeconds() - started }
    if let writer, stats.bytesOut == 0 { stats.bytesOut = writer.bytesWritten }
    if invalid > 0 { stats.documentsIn += invalid; stats.drop("invalid-json", count: invalid) }
    try finishStatistics([stats], options: options)
    return stats
}

/// Prints a line to stderr.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Ignores SIGPIPE so that a closed output pipe is an EPIPE error we handle, not a silent kill mid-write.
func ignoreBrokenPipeSignal() { signal(SIGPIPE, SIG_IGN) }

/// Whether stderr is a terminal (progress is shown only there).
var stderrIsTerminal: Bool { isatty(2) != 0 }


/// Progress on stderr: on a terminal a line redrawn a few times a second (with a bar, percent, rate and ETA when
/// the total is known); in a log, one line every few seconds. Nothing with --quiet.
final class Progress: @unchecked Sendable {
    private let enabled: Bool
    private let terminal: Bool
    private var last = 0.0
    private let start = monotonicSeconds()
    private var drawn = false
    private let lock = Mutex<Void>(())
    /// Seconds between lines in a log.
    static let logInterval = 5.0
    static let redrawInterval = 0.25

    init(quiet: Bool = false, terminal: Bool = stderrIsTerminal) {
        enabled = !quiet
        self.terminal = terminal
    }

    /// Shows `text`, after a bar with percent, rate and ETA when `fraction` (0…1) is known.
    func update(_ text: @autoclosure () -> String, fraction: Double? = nil, rate: @autoclosure () -> String? = nil) {
        guard enabled else { return }
        lock.withLock { _ in
            let now = monotonicSeconds()
            guard now - last >= (terminal ? Self.redrawInterval : Self.logInterval) else { return }
            last = now
            var line = ""
            let elapsed = now - start
            let rate = rate()
            if let fraction, fraction > 0 {
                let f = min(1, fraction)
                let width = 24
                let filled = Int(f * Double(width))
                let eta = elapsed / f - elapsed
                line = (terminal ? "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] " : "")
                    + "\(format1(100 * f))% " + (rate.map { $0 + " " } ?? "") + "ETA \(format1(eta)) s · "
            } else if let rate {
                line = rate + " · "
            }
            line += text() + " [\(format1(elapsed)) s]"
            if terminal {
                printRaw("\r\u{1B}[2K" + line)
                drawn = true
            } else {
                printError(line)
            }
        }
    }

    func clear() {
        lock.withLock { _ in
            if drawn { printRaw("\r\u{1B}[2K") }
            drawn = false
        }
    }

    private func printRaw(_ s: String) {
        var s = s
        s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// Prints the statistics to stderr (unless quiet) and writes them as JSON when asked.
func finishStatistics(_ stats: [StageStatistics], options: StageOptions) throws {
    if !options.quiet {
        for s in stats { printError(s.summary) }
    }
    if let path = options.stats {
        var object = JSONObject()
        object["stages"] = .array(stats.map { .object($0.json) })
        var bytes: [UInt8] = []
        JSONWriter.write(.object(object), to: &bytes)
        bytes.append(0x0A)
        let file = try OutputFile(path: path)
        try file.write(bytes)
        try file.close()
    }
}

/// Runs a command body, turning `ThreshError`s into one message on stderr and the exit status of their code
/// (2 for usage and configuration, 1 for data and I/O).
func runReportingErrors(_ body: () throws -> Void) throws {
    ignoreBrokenPipeSignal()
    removeTemporariesOnSignals()
    do { try body() } catch { throw exitError(for: error) }
}

/// `runReportingErrors` for a command that waits on other processes (Slurm's).
func runReportingErrors(_ body: () async throws -> Void) async throws {
    ignoreBrokenPipeSignal()
    removeTemporariesOnSignals()
    do { try await body() } catch { throw exitError(for: error) }
}

/// What a command's error becomes: a `ThreshError` is printed once and becomes its code's exit status; a broken
/// pipe (`thresh … | head`) ends quietly like any Unix filter whose reader has gone; anything else passes through.
private func exitError(for error: any Error) -> any Error {
    guard let error = error as? ThreshError else { return error }
    if error.code == .brokenPipe { return ExitCode(0) }
    printError("thresh: error: \(error)")
    return ExitCode(error.code.exitStatus)
}

/// SIGINT and SIGTERM remove the temporary files of unfinished outputs, then end the process as the signal would.
/// The handlers run on a dispatch queue, not in the signal context, so they may take locks.
func removeTemporariesOnSignals() {
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            TemporaryFiles.removeAll()
            signal(sig, SIG_DFL)
            kill(getpid(), sig)
        }
        source.resume()
        // Kept alive for the life of the process (a source that is released stops delivering).
        _ = Unmanaged.passRetained(source as AnyObject)
    }
}

extension OnError: ExpressibleByArgument {}
