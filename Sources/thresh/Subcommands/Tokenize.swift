import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshShards

/// `thresh tokenize`: GPT-2 token counts (and ids) on documents.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add attrs.tokens (GPT-2 BPE token count), and attrs.token_ids with --ids.",
        usage: "thresh tokenize [FILES…] [OPTIONS]",
        discussion: stageDiscussion("""
            The vocabulary is GPT-2's (tiktoken r50k_base): r50k_base.tiktoken, or encoder.json + vocab.bpe. It is \
            looked for in --vocabulary, then $THRESH_GPT2_VOCABULARY, then the per-user cache (~/.cache/thresh/gpt2, \
            filled by scripts/run-samples), then ../shared/data/tokenizer/gpt2. The files are OpenAI's GPT-2 release \
            (MIT); tiktoken downloads the same r50k_base.tiktoken.
            """, TokenizeStage.schema, extra: commonStageOptions + [vocabularyOption]))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(TokenizeStage.schema, arguments, extra: commonStageOptions + [vocabularyOption])
            let vocabulary = try VocabularyLocator.locate(explicit: parsed.values.optionalString("vocabulary"))
            var stage = TokenizeStage(tokenizer: try GPT2Tokenizer(path: vocabulary), writeIDs: parsed.values.bool("ids"))
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}

/// `--vocabulary`, for the commands that tokenise.
let vocabularyOption = OptionSpec("vocabulary", .text, shapesOutput: false,
                                  help: "the GPT-2 vocabulary: a directory with r50k_base.tiktoken (or encoder.json and vocab.bpe), or the file")
