import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshFilters

/// `thresh filter`: Gopher, C4, FineWeb and URL rules as datatrove 0.10.1 decides them, and `--keep` expressions.
struct Filter: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Heuristic quality filters (gopher-quality, gopher-repetition, c4, fineweb-quality, url) with datatrove's decisions, and --keep EXPR.",
        usage: "thresh filter [FILES…] --rules gopher-repetition,gopher-quality,c4,fineweb-quality [--annotate] [--explain] [--keep EXPR] [OPTIONS]",
        discussion: stageDiscussion("""
            Rules run in the order given; a document fails at its first failing rule and is dropped, counted as \
            RULE:reason with datatrove's reason string. --annotate keeps every document and writes attrs.drop_reason, \
            attrs.drop_rule and each rule's signals (attrs.gopher_quality, …). Words and sentences are split by a port \
            of spaCy's English tokenizer and sentencizer, as datatrove splits them for language "en".

            --keep EXPR keeps documents for which EXPR is true: fields by dotted path (text, url, attrs.lang, \
            meta.http_status), numbers, "strings", true, false, null, [lists], len(x), && || !, == != < <= > >= in, \
            + - * /, parentheses. Example: 'attrs.lang == "en" && attrs.lang_score >= 0.65 && len(text) > 200'. \
            A field that is absent is null; comparing different kinds is false.
            """, FilterOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(FilterOptions.schema, arguments)
            try FilterOptions.validate(parsed.values)
            let options = try FilterOptions(parsed.values)
            var stage = FilterStage(rules: try FilterRules(options), options: options, explain: { printError($0) })
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}

/// `thresh pii`: datatrove's PII formatter (email and public IPv4 addresses replaced).
struct PII: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pii",
        abstract: "Replace email addresses and public IPv4 addresses as datatrove's PIIFormatter does (counted per kind).",
        usage: "thresh pii [FILES…] [--no-remove-emails] [--no-remove-ips] [--no-only-remove-public-ips] [OPTIONS]",
        discussion: stageDiscussion("""
            datatrove's own regular expressions (run by ICU's engine) and replacement strings, used in turn within each \
            document (datatrove carries the turn from one document to the next; Thresh starts it afresh per document, \
            so the output does not depend on the sharding).
            """, PIIOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(PIIOptions.schema, arguments)
            var stage = try PIIStage(parsed.values)
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}
