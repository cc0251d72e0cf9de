#if canImport(Glibc)
import Glibc
#endif
public import ArgumentParser
import ThreshCore
import ThreshIO

/// Options every stage command shares.
struct StageOptions: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: "Where to write documents ('-' is stdout; .gz/.zst compress).")
    var output: String = "-"

    @Option(help: "Write the statistics summary as JSON to this file.")
    var stats: String?

    @Flag(help: "Do not print the statistics summary to stderr.")
    var quiet = false
}

/// Writes diagnostics to stderr: each problem once, then a count of how many more of the same kind.
final class Diagnostics {
    private var shownPerCode: [String: Int] = [:]
    private let limitPerCode: Int

    init(limitPerCode: Int = 20) { self.limitPerCode = limitPerCode }

    func report(_ error: ThreshError) {
        let n = shownPerCode[error.code.rawValue, default: 0]
        shownPerCode[error.code.rawValue] = n + 1
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
@discardableResult
func forEachDocument(in inputs: [String], onError: OnError = .fail, flushing writer: DocumentWriter?,
                     diagnostics: Diagnostics? = nil, _ body: (Document) throws -> Void) throws -> Int {
    var skipped = 0
    for input in inputs {
        let reader = try DocumentReader(path: input, onError: onError)
        if let diagnostics { reader.reportSkipped = { diagnostics.report($0) } }
        if let writer { reader.beforeRead = { try? writer.flush() } }
        while let document = try reader.next() { try body(document) }
        skipped += reader.skipped
    }
    return skipped
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


/// A progress line on stderr, redrawn at most a few times a second, and only on a terminal.
final class Progress {
    private let enabled: Bool
    private var last = 0.0
    private let start = monotonicSeconds()
    private var drawn = false

    init(enabled: Bool = stderrIsTerminal) { self.enabled = enabled }

    func update(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        let now = monotonicSeconds()
        guard now - last >= 0.25 else { return }
        last = now
        printRaw("\r\u{1B}[2K" + text() + " [\(format1(now - start)) s]")
        drawn = true
    }

    func clear() {
        if drawn { printRaw("\r\u{1B}[2K") }
        drawn = false
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

/// Runs a command body, turning `ThreshError`s into one message on stderr and exit code 1.
func runReportingErrors(_ body: () throws -> Void) throws {
    ignoreBrokenPipeSignal()
    do {
        try body()
    } catch let error as ThreshError where error.code == .brokenPipe {
        // Like any Unix filter whose reader has gone (`| head`): stop quietly.
        throw ExitCode(0)
    } catch let error as ThreshError {
        printError("thresh: error: \(error)")
        throw ExitCode(error.code == .usage ? 64 : 1)
    }
}

extension OnError: ExpressibleByArgument {}
