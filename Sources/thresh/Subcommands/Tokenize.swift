import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import ThreshCore
import ThreshIO
import ThreshShards

/// `thresh tokenize`: GPT-2 token counts (and ids) on documents.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add attrs.tokens (GPT-2 BPE token count), and attrs.token_ids with --ids.",
        discussion: """
            The vocabulary is GPT-2's (tiktoken r50k_base): r50k_base.tiktoken, or encoder.json + vocab.bpe, \
            from a directory or file given by --vocabulary (default: ../shared/data/tokenizer/gpt2, or \
            THRESH_GPT2_VOCABULARY). The files are OpenAI's GPT-2 release (MIT); tiktoken downloads the same \
            r50k_base.tiktoken.
            """)

    @Argument(help: "Input JSONL files ('-' is stdin).")
    var inputs: [String] = ["-"]

    @Option(help: "The GPT-2 vocabulary: a directory with r50k_base.tiktoken (or encoder.json), or the file.")
    var vocabulary: String = defaultVocabulary

    @Flag(help: "Also write the token ids.")
    var ids = false

    @OptionGroup var options: StageOptions

    func run() throws {
        try runReportingErrors {
            let tokenizer = try GPT2Tokenizer(path: vocabulary)
            var stats = StageStatistics(stage: "tokenize")
            let writer = try DocumentWriter(path: options.output)
            let started = monotonicSeconds()
            try forEachDocument(in: inputs, flushing: writer) { input in
                var document = input
                stats.documentsIn += 1
                let text = document.text
                stats.bytesIn += Int64(text.utf8.count)
                var attrs = document.attrs
                if ids {
                    let tokens = tokenizer.encode(text)
                    attrs["tokens"] = .int(tokens.count)
                    attrs["token_ids"] = .array(tokens.map { .int(Int($0)) })
                    stats.count("tokens", tokens.count)
                } else {
                    let n = tokenizer.count(text)
                    attrs["tokens"] = .int(n)
                    stats.count("tokens", n)
                }
                document.attrs = attrs
                try writer.write(document)
                stats.documentsOut += 1
            }
            try writer.close()
            stats.bytesOut = writer.bytesWritten
            stats.seconds = monotonicSeconds() - started
            try finishStatistics([stats], options: options)
        }
    }
}

/// ../shared/data/tokenizer/gpt2 beside the working directory, or THRESH_GPT2_VOCABULARY.
let defaultVocabulary: String = {
    if let v = getenv("THRESH_GPT2_VOCABULARY") { return String(cString: v) }
    return "../shared/data/tokenizer/gpt2"
}()
