public import ArgumentParser
import ThreshCore
import ThreshExtract
import ThreshIO

/// `thresh extract`: main content of HTML documents.
struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace each document's HTML with its main content as text (or Markdown).",
        discussion: """
            Reads documents whose 'text' is HTML (as 'thresh warc' writes them). Navigation, headers and footers, \
            cookie banners, share bars, comments, related links and ads are left out; scripts, styles and templates \
            never appear. meta.title and meta.lang are filled. Pages that give no text, too little, or trip a \
            guard (size, elements, time) are dropped and counted.
            """)

    @Argument(help: "Input JSONL files ('-' is stdin).")
    var inputs: [String] = ["-"]

    @Option(help: "precision, balanced or recall.")
    var favor: ExtractOptions.Favor = .balanced

    @Option(help: "text or markdown.")
    var format: ExtractOptions.Format = .text

    @Option(help: "Drop documents whose text is shorter than this (characters).")
    var minLength: Int = 25

    @Option(help: "Drop pages larger than this (bytes of HTML).")
    var maxInputBytes: Int = 8 << 20

    @Option(help: "Drop pages with more elements than this.")
    var maxNodes: Int = 300_000

    @Option(help: "Drop pages that take longer than this (seconds).")
    var maxSeconds: Double = 5

    @Flag(help: "Keep all visible text of the page (no main-content selection): raw crawl text.")
    var allText = false

    @Flag(help: "Print, for every text block of every page, whether it was kept and why (to stderr).")
    var explain = false

    @Option(help: "What to do with an invalid input line: fail or skip.")
    var onError: OnError = .fail

    @OptionGroup var options: StageOptions

    func run() throws {
        try runReportingErrors {
            var extractOptions = ExtractOptions()
            extractOptions.favor = favor
            extractOptions.format = format
            extractOptions.minimumLength = minLength
            extractOptions.maximumInputBytes = maxInputBytes
            extractOptions.maximumNodes = maxNodes
            extractOptions.maximumSeconds = maxSeconds
            extractOptions.explain = explain
            extractOptions.allText = allText
            var stage = ExtractStage(options: extractOptions)
            if explain {
                stage.explanationHandler = { id, lines in
                    printError("== \(id)")
                    for line in lines { printError(line) }
                }
            }
            let diagnostics = Diagnostics()
            let writer = try DocumentWriter(path: options.output)
            let progress = Progress()
            let invalid = try forEachDocument(in: inputs, onError: onError, flushing: writer, diagnostics: diagnostics) { document in
                try stage.process(document) { try writer.write($0) }
                progress.update("extract: \(stage.statistics.documentsIn) pages, \(writer.count) documents")
            }
            progress.clear()
            try writer.close()
            var stats = stage.statistics
            if invalid > 0 { stats.documentsIn += invalid; stats.drop("invalid-json", count: invalid) }
            try finishStatistics([stats], options: options)
        }
    }
}

extension ExtractOptions.Favor: ExpressibleByArgument {}
extension ExtractOptions.Format: ExpressibleByArgument {}
