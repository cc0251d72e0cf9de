import ArgumentParser
import ThreshCore
import ThreshExtract
import ThreshIO

/// `thresh extract`: main content of HTML documents.
struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace each document's HTML with its main content as text (or Markdown).",
        usage: "thresh extract [FILES…] [OPTIONS]",
        discussion: stageDiscussion("""
            Reads documents whose 'text' is HTML (as 'thresh warc' writes them). Navigation, headers and footers, \
            cookie banners, share bars, comments, related links and ads are left out; scripts, styles and templates \
            never appear. meta.title and meta.lang are filled. Pages that give no text, too little, or trip a \
            guard (size, elements, time) are dropped and counted.
            """, ExtractOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(ExtractOptions.schema, arguments)
            var stage = ExtractStage(options: ExtractOptions(parsed.values))
            if parsed.values.bool("explain") {
                stage.explanationHandler = { id, lines in
                    printError("== \(id)")
                    for line in lines { printError(line) }
                }
            }
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}
