public import ThreshCore

extension ExtractOptions {
    /// The guard bounds: what a pipeline file or a flag may set them to.
    static let largestPageBytes: Int64 = 1 << 34
    static let mostNodes: Int64 = 1 << 31
    static let longestSeconds = 86_400.0

    /// `thresh extract`'s options, described once: its flags and its `[[stage]] use = "extract"` table.
    public static let schema = OptionsSchema("extract", [
        OptionSpec("favor", .choice(Favor.allCases.map(\.rawValue)), default: .text("balanced"),
                   help: "precision, balanced or recall, as trafilatura"),
        OptionSpec("format", .choice(Format.allCases.map(\.rawValue)), default: .text("text"), help: "text or markdown"),
        OptionSpec("min-length", .integer(min: 0, max: 1 << 30), default: .integer(25),
                   help: "drop documents whose text is shorter than this (characters)"),
        OptionSpec("max-input-bytes", .integer(min: 1, max: largestPageBytes), default: .integer(8 << 20),
                   help: "drop pages larger than this (bytes of HTML)"),
        OptionSpec("max-nodes", .integer(min: 1, max: mostNodes), default: .integer(300_000), help: "drop pages with more elements than this"),
        OptionSpec("max-seconds", .real(min: 0, max: longestSeconds, minExclusive: true), default: .real(5),
                   help: "drop pages that take longer than this (seconds)"),
        OptionSpec("all-text", .flag, default: .flag(false), help: "keep all visible text of the page (no main-content selection)"),
        OptionSpec("explain", .flag, default: .flag(false), shapesOutput: false,
                   help: "print, for every text block of every page, whether it was kept and why (to stderr)"),
    ])

    /// The options a schema-checked table or command line sets.
    public init(_ values: OptionValues) {
        self.init()
        favor = Favor(rawValue: values.string("favor")) ?? .balanced
        format = Format(rawValue: values.string("format")) ?? .text
        minimumLength = values.int("min-length")
        maximumInputBytes = values.int("max-input-bytes")
        maximumNodes = values.int("max-nodes")
        maximumSeconds = values.double("max-seconds")
        allText = values.bool("all-text")
        explain = values.bool("explain")
    }
}
