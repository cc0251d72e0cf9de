public import ThreshCore

extension WARCIngestOptions {
    /// The smallest and largest `max-record-size` (below a kilobyte no real record fits; above 1 TiB is a typo).
    static let recordSizeRange: ClosedRange<Int64> = 1024...(1 << 40)

    /// `thresh warc`'s options, described once: its flags and its `[[stage]] use = "warc"` table.
    public static let schema = OptionsSchema("warc", [
        OptionSpec("types", .list, default: .list(["response", "resource", "conversion"]),
                   help: "record types that become documents (comma-separated)"),
        OptionSpec("mime", .list, default: .list(["text/html", "application/xhtml+xml", "text/plain"]), help: "media types kept (comma-separated)"),
        OptionSpec("status", .list, default: .list(["200"]), help: "HTTP statuses kept (comma-separated), or 'any'"),
        OptionSpec("source", .text, help: "the 'source' field of every document (in a pipeline: the dataset's name; else 'cc')"),
        OptionSpec("verify-digests", .flag, default: .flag(false), help: "verify block and payload digests; failing records are dropped and counted"),
        OptionSpec("charset-detector", .choice(CharsetTranscoder.CharsetDetector.allCases.map(\.rawValue)), default: .text("uchardet"),
                   help: "library that detects the encoding of pages that declare none usable: uchardet, ICU's ucsdet, or none (declarations trusted; UTF-8 when valid, else windows-1252)"),
        OptionSpec("max-record-size", .integer(min: recordSizeRange.lowerBound, max: recordSizeRange.upperBound), default: .integer(16 << 20),
                   help: "largest record block read into memory, in bytes; larger records are skipped and counted"),
    ])

    /// The options a schema-checked table or command line sets.
    /// - Throws: `.usage` when a status is not an HTTP status code.
    public init(_ values: OptionValues) throws {
        self.init()
        recordTypes = Set(values.list("types").map { $0.lowercased() })
        mimeTypes = Set(values.list("mime").map { $0.lowercased() })
        let statusWords = values.list("status")
        if statusWords == ["any"] {
            statuses = nil
        } else {
            var codes = Set<Int>()
            for word in statusWords {
                guard let code = Int(word), (100...999).contains(code) else {
                    throw ThreshError(.usage, "warc status: '\(word)' is not an HTTP status (100-999) or 'any'")
                }
                codes.insert(code)
            }
            guard !codes.isEmpty else { throw ThreshError(.usage, "warc status: give at least one HTTP status, or 'any'") }
            statuses = codes
        }
        source = values.optionalString("source") ?? "cc"
        verifyDigests = values.bool("verify-digests")
        reader.maximumRecordSize = values.int("max-record-size")
        charsetDetector = CharsetTranscoder.CharsetDetector(rawValue: values.string("charset-detector")) ?? .uchardet
    }
}
