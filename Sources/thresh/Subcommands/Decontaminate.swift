import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshDedup

/// `thresh decontaminate`: GPT-3's 13-gram benchmark decontamination (lm-evaluation-harness's janitor.py).
struct Decontaminate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove benchmark 13-grams (with 200 characters either side) from documents, as GPT-3 did (janitor.py).",
        usage: "thresh decontaminate --benchmarks FILES… [FILES…] [OPTIONS]",
        discussion: stageDiscussion("""
            A document with no benchmark n-gram passes whole. A contaminated one becomes its surviving pieces, \
            documents ID#k with meta.decontaminated_from, or is dropped as contaminated (more than too-dirty-cutoff \
            n-grams) or contaminated-pieces-too-short. The table printed at the end (and under "decontamination" in \
            --stats) gives, per benchmark file, its items with any overlap, the matching n-grams and the documents \
            touched.
            """, DecontaminationOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(DecontaminationOptions.schema, arguments)
            let options = DecontaminationOptions(parsed.values)
            let index = try ContaminationIndex(files: options.benchmarks, n: options.ngram)
            var stage = DecontaminateStage(index: index, options: options)
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
            if !parsed.options.quiet {
                printError("benchmark                                  items  overlapped  13-grams  documents")
                for row in stage.report.arrayValue ?? [] {
                    let o = row.objectValue ?? [:]
                    let name = String((o["benchmark"]?.stringValue ?? "").suffix(40))
                    printError("\(name.padding(40)) \(String(o["items"]?.intValue ?? 0).leftPad(7)) \(String(o["items_with_overlap"]?.intValue ?? 0).leftPad(11)) \(String(o["matching_ngrams"]?.intValue ?? 0).leftPad(9)) \(String(o["documents_touched"]?.intValue ?? 0).leftPad(10))")
                }
            }
        }
    }
}
