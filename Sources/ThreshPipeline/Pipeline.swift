#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO
import ThreshWARC
import ThreshExtract
import ThreshQuality
import ThreshDedup
import ThreshShards
import ThreshFastText
import ThreshFilters

/// How a stage composes with the others in a run.
public enum StageKind: Sendable {
    /// Reads input files into documents (the first stage of a dataset's chain).
    case source
    /// Documents in, documents out: consecutive ones are fused in one process, with no JSON between them.
    case perDocument
    /// Sees all its inputs before anything follows (training, dedup, sharding): its work runs as phases on disk.
    case barrier
}

/// A stage the runner knows: its name (`use = "…"`), its kind, its options schema (the same one its command's
/// flags come from, plus any option that only makes sense inside a pipeline), the rules between its own options,
/// and, for a per-document stage, how to make it for one task. A new stage is one entry of `StageType.all`: the
/// planner, the fused executor, `--dry-run`, the summary and `thresh run --help` need no other change.
public struct StageType: Sendable {
    public let name: String
    public let kind: StageKind
    public let schema: OptionsSchema
    public let summary: String
    /// Checks the rules between the stage's own options that a schema cannot say (a power of two, a family that fits
    /// the shingles, …); the pipeline reports a failure with the file, line and table of the stage.
    let validate: @Sendable (OptionValues) throws -> Void
    /// Makes the stage for one task of a fused step (nil for sources and barriers, which the runner drives).
    let make: (@Sendable (StageContext) throws -> any DocumentStage)?
    /// Options that name files or folders: in a pipeline file they are relative to the file, as dataset paths are.
    public let pathOptions: [String]

    init(name: String, kind: StageKind, schema: OptionsSchema, summary: String,
         validate: @escaping @Sendable (OptionValues) throws -> Void = { _ in },
         pathOptions: [String] = [],
         make: (@Sendable (StageContext) throws -> any DocumentStage)? = nil) {
        self.pathOptions = pathOptions
        self.name = name
        self.kind = kind
        self.schema = schema
        self.summary = summary
        self.validate = validate
        self.make = make
        precondition((kind == .perDocument) == (make != nil), "stage \(name): a per-document stage, and only one, has a maker")
    }

    /// Every stage a pipeline file can use.
    public static let all: [StageType] = [
        StageType(name: "warc", kind: .source, schema: WARCIngestOptions.schema, summary: "WARC/ARC records → documents (HTTP decoded, UTF-8)",
                  validate: { _ = try WARCIngestOptions($0) }),
        StageType(name: "extract", kind: .perDocument, schema: ExtractOptions.schema, summary: "HTML → main text",
                  make: { ExtractStage(options: ExtractOptions($0.options)) }),
        StageType(name: "lang", kind: .perDocument, schema: LanguageOptions.schema,
                  summary: "attrs.lang and attrs.lang_score (fastText language ID); keep and min-score drop the rest",
                  pathOptions: ["model"],
                  make: { context in
                      let options = LanguageOptions(context.options)
                      return LanguageStage(model: try context.runner.fastTextModel(try LanguageModelLocator.locate(explicit: options.model)), options: options)
                  }),
        StageType(name: "classify", kind: .perDocument, schema: ClassifyOptions.schema,
                  summary: "attrs.NAME = {label: probability} from any fastText classifier",
                  pathOptions: ["model"],
                  make: { context in
                      let options = ClassifyOptions(context.options)
                      return ClassifyStage(model: try context.runner.fastTextModel(options.model), options: options)
                  }),
        StageType(name: "filter", kind: .perDocument, schema: FilterOptions.schema,
                  summary: "Gopher, C4, FineWeb and URL rules (datatrove's decisions); annotate keeps all with attrs.drop_reason",
                  validate: { try FilterOptions.validate($0) },
                  pathOptions: ["blocklist", "banned-words-file", "soft-banned-words-file", "banned-subwords-file", "public-suffix-list"],
                  make: { context in
                      let options = try FilterOptions(context.options)
                      return FilterStage(rules: try context.runner.filterRules(options), options: options)
                  }),
        StageType(name: "keep", kind: .perDocument, schema: KeepStage.schema,
                  summary: "keep documents for which an expression over their fields is true",
                  validate: { _ = try KeepExpression($0.string("expr")) },
                  make: { KeepStage(expression: try KeepExpression($0.options.string("expr"))) }),
        StageType(name: "pii", kind: .perDocument, schema: PIIOptions.schema,
                  summary: "replace email and public IPv4 addresses (datatrove's PIIFormatter)",
                  validate: { _ = try PIIStage($0) },
                  make: { try PIIStage($0.options) }),
        StageType(name: "decontaminate", kind: .perDocument, schema: DecontaminationOptions.schema,
                  summary: "remove benchmark 13-grams with 200 characters either side (GPT-3's rule, janitor.py)",
                  pathOptions: ["benchmarks"],
                  make: { context in
                      let options = DecontaminationOptions(context.options)
                      return DecontaminateStage(index: try context.runner.contaminationIndex(options), options: options)
                  }),
        StageType(name: "score", kind: .perDocument, schema: QualityScoreStage.schema,
                  summary: "attrs.quality from a quality model (the quality-train stage's, cross-fitted)",
                  pathOptions: ["model"],
                  make: { try $0.makeScoreStage() }),
        StageType(name: "sample", kind: .perDocument, schema: ParetoSampler.schema, summary: "GPT-3's Pareto keep rule on attrs.quality",
                  make: { ParetoSampleStage(sampler: ParetoSampler($0.options), scoreField: $0.options.string("score-field")) }),
        StageType(name: "tokenize", kind: .perDocument, schema: TokenizeStage.schema, summary: "attrs.tokens (GPT-2)",
                  make: { context in
                      let vocabulary = try VocabularyLocator.locate(explicit: context.pipeline.vocabulary, besideFile: context.pipeline.file)
                      return TokenizeStage(tokenizer: try GPT2Tokenizer(path: vocabulary), writeIDs: context.options.bool("ids"))
                  }),
        StageType(name: "quality-train", kind: .barrier, schema: QualityTrainer.schema.adding([
            OptionSpec("folds", .integer(min: 1, max: 16), default: .integer(2),
                       help: "cross-fitting: the crawl is split in this many folds by id; each fold's documents are scored by a model that did not see them"),
        ]), summary: "train the quality model: reference datasets (positive) against crawl datasets (negative)",
                  validate: { _ = try QualityTrainer.options($0) }),
        StageType(name: "dedup", kind: .barrier, schema: DedupOptions.schema.adding([
            OptionSpec("against-references", .flag, default: .flag(true),
                       help: "also remove documents of crawl datasets that duplicate documents of the reference datasets"),
        ]), summary: "near-duplicate removal within each dataset (MinHashLSH, verified)",
                  validate: { _ = try DedupOptions($0) }),
        StageType(name: "dedup-lines", kind: .barrier, schema: LineDedupOptions.schema,
                  summary: "remove lines repeated in at least min-count documents of each dataset (CCNet's paragraph dedup)"),
        StageType(name: "shard", kind: .barrier, schema: MixPlan.schema.adding([
            OptionSpec("vocabulary", .text, help: "the GPT-2 vocabulary (default: found as 'thresh tokenize' finds it)"),
        ]), summary: "GPT-2 tokens, token-weighted mixing with epochs, packed training shards",
                  validate: { values in
                      var mix = MixPlan(sources: [], budgetTokens: 1)
                      mix.apply(values)
                      try mix.check()
                  },
                  pathOptions: ["vocabulary"]),
    ]

    public static func named(_ name: String) -> StageType? { all.first { $0.name == name } }
}

/// A named set of input files: the crawl, or a reference corpus.
public struct Dataset: Sendable {
    /// What a dataset is for in the recipe.
    public enum Role: String, Sendable, CaseIterable {
        /// Raw web text: the quality model's negatives, deduplicated against the references.
        case crawl
        /// Curated text: the quality model's positives; never removed in favour of the crawl.
        case reference
    }

    /// How the files are read.
    public enum Format: String, Sendable, CaseIterable {
        case warc, jsonl
    }

    public var name: String
    public var role: Role
    /// Files, as the user would type them (relative to the working directory, normalised).
    public var files: [String]
    /// The dataset's share of the training tokens (for the shard stage).
    public var weight: Double?
    public var format: Format

    /// The options of a `[[dataset]]` table.
    public static let schema = OptionsSchema("dataset", [
        OptionSpec("name", .text, required: true, help: "the dataset's name (letters, digits, '.', '_' and '-'); also its documents' source"),
        OptionSpec("path", .list, required: true, help: "a glob or a list of globs (relative to the pipeline file)"),
        OptionSpec("role", .choice(Role.allCases.map(\.rawValue)), default: .text("crawl"),
                   help: "crawl (quality negatives, deduplicated against references) or reference (quality positives)"),
        OptionSpec("weight", .real(min: 0, max: 1e12, minExclusive: true), help: "share of the training tokens (needed by the shard stage)"),
        OptionSpec("format", .choice(["auto"] + Format.allCases.map(\.rawValue)), default: .text("auto"),
                   help: "warc or jsonl (auto: warc for .warc/.arc names, with any compression suffix)"),
    ])

    /// The format a file name suggests.
    static func guessFormat(_ path: String) -> Format {
        var name = Paths.basename(path).lowercased()
        for suffix in [".gz", ".zst", ".lz4", ".bz2"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name.hasSuffix(".warc") || name.hasSuffix(".arc") ? .warc : .jsonl
    }
}

/// One `[[stage]]` of a pipeline: its type, its options, and the datasets it applies to.
public struct PipelineStage: Sendable {
    public let type: StageType
    public let options: OptionValues
    /// Names of the datasets the stage applies to (all when the table says nothing).
    public let datasets: [String]
    /// Its position in the file (0-based) and its table path, for messages.
    public let index: Int

    public var name: String { type.name }
}

/// A pipeline file: datasets and an ordered list of stages with their options. Only data: `Pipelines/gpt3.toml` is
/// GPT-3's recipe, and any other list of stages runs with no code change.
public struct Pipeline: Sendable {
    public var file: String
    public var output: String
    public var workers: Int
    /// The `vocabulary` the file names (resolved relative to it), if any.
    public var vocabulary: String?
    public var datasets: [Dataset]
    public var stages: [PipelineStage]

    /// The options of the file's top level.
    public static let schema = OptionsSchema("pipeline", [
        OptionSpec("output", .text, default: .text("out"), help: "output directory (relative to the pipeline file)"),
        OptionSpec("workers", .integer(min: 1, max: 1024), default: .integer(2), shapesOutput: false, help: "worker threads for per-file tasks"),
        OptionSpec("vocabulary", .text, help: "the GPT-2 vocabulary (relative to the pipeline file)"),
    ])

    /// Reads and checks a pipeline file. Every key of every table is checked against its schema; inputs are globs
    /// relative to the file. `inputs` replaces the files of a dataset (`GLOB` for the crawl dataset, `NAME=GLOB` for any).
    /// - Throws: `.config` naming the file, line and key.
    public static func load(_ path: String, output overrideOutput: String? = nil, inputs overrideInputs: [String] = []) throws -> Pipeline {
        let bytes: [UInt8]
        do { bytes = try readEntireFile(path) } catch let e as ThreshError { throw ThreshError(.usage, "cannot read the pipeline file", file: path, underlying: e) }
        let doc = try TOMLDocument.parse(String(decoding: bytes, as: UTF8.self), file: path)
        let base = Paths.directory(of: path)
        let root = try schema.parse(table: doc.root, in: doc, at: "", ignoring: ["dataset", "stage"])
        var pipeline = Pipeline(file: path, output: overrideOutput.map(Paths.normalize) ?? Paths.resolve(root.string("output"), relativeTo: base),
                                workers: root.int("workers"), vocabulary: root.optionalString("vocabulary").map { Paths.resolve($0, relativeTo: base) },
                                datasets: [], stages: [])
        // Datasets.
        guard case .array(let datasetTables)? = doc.root["dataset"], !datasetTables.isEmpty else {
            throw doc.error("a pipeline needs at least one [[dataset]] (name, path, role, weight)", at: "dataset")
        }
        var overrides: [String: [String]] = [:]
        for spec in overrideInputs {
            if let eq = spec.firstIndex(of: "="), !spec[..<eq].contains("/") {
                overrides[String(spec[..<eq]), default: []].append(String(spec[spec.index(after: eq)...]))
            } else {
                overrides["", default: []].append(spec)
            }
        }
        var owner: [String: String] = [:]
        for (n, raw) in datasetTables.enumerated() {
            let key = "dataset[\(n)]"
            guard case .object(let table) = raw else { throw doc.error("must be a table", at: key) }
            let v = try Dataset.schema.parse(table: table, in: doc, at: key)
            let name = v.string("name")
            if let problem = MixSource.problem(withName: name) { throw doc.error(problem, at: key + ".name") }
            guard !pipeline.datasets.contains(where: { $0.name == name }) else { throw doc.error("a second dataset named '\(name)'", at: key + ".name") }
            let role = Dataset.Role(rawValue: v.string("role")) ?? .crawl
            var files: [String] = []
            var patterns = v.list("path").map { Paths.resolve($0, relativeTo: base) }
            var patternKey = key + ".path"
            if let given = overrides.removeValue(forKey: name) { patterns = given.map(Paths.normalize); patternKey = "--input \(name)=" }
            else if role == .crawl, let given = overrides.removeValue(forKey: "") { patterns = given.map(Paths.normalize); patternKey = "--input" }
            guard !patterns.isEmpty else { throw doc.error("needs at least one path", at: key + ".path") }
            for pattern in patterns {
                let matched = try expandGlob(pattern)
                guard !matched.isEmpty else {
                    throw ThreshError(.config, "\(patternKey): no file matches \(pattern)", file: path, line: doc.lines[key + ".path"])
                }
                for f in matched where !files.contains(f) {
                    if let other = owner[Paths.absolute(f)], other != name {
                        throw doc.error("\(f) is also an input of dataset '\(other)'", at: key + ".path")
                    }
                    owner[Paths.absolute(f)] = name
                    files.append(f)
                }
            }
            let format: Dataset.Format
            switch v.string("format") {
            case "warc": format = .warc
            case "jsonl": format = .jsonl
            default:
                let guesses = Set(files.map(Dataset.guessFormat))
                guard guesses.count == 1, let only = guesses.first else {
                    throw doc.error("its files mix archives and JSONL documents; set format = \"warc\" or \"jsonl\"", at: key + ".path")
                }
                format = only
            }
            pipeline.datasets.append(Dataset(name: name, role: role, files: files, weight: v.optionalDouble("weight"), format: format))
        }
        if let unused = overrides.first {
            throw ThreshError(.usage, unused.key.isEmpty ? "--input: the pipeline has no crawl dataset to replace" :
                                "--input \(unused.key)=…: the pipeline has no dataset named '\(unused.key)'\(suggestion(for: unused.key, among: pipeline.datasets.map(\.name)))")
        }
        // Stages.
        guard case .array(let stageTables)? = doc.root["stage"], !stageTables.isEmpty else {
            throw doc.error("a pipeline needs at least one [[stage]] (use = \"warc\", \"extract\", …)", at: "stage")
        }
        for (n, raw) in stageTables.enumerated() {
            let key = "stage[\(n)]"
            guard case .object(let table) = raw else { throw doc.error("must be a table", at: key) }
            guard case .string(let use)? = table["use"] else {
                throw doc.error("each [[stage]] needs use = one of \(StageType.all.map(\.name).joined(separator: ", "))", at: key)
            }
            guard let type = StageType.named(use) else {
                throw doc.error("unknown stage '\(use)'\(suggestion(for: use, among: StageType.all.map(\.name)))", at: key + ".use")
            }
            var values = try type.schema.parse(table: table, in: doc, at: key, ignoring: ["use", "datasets"])
            for option in type.pathOptions where values.isSet(option) {
                switch values[option] {
                case .text(let path)?: values.set(option, .text(Paths.resolve(path, relativeTo: base)))
                case .list(let paths)?: values.set(option, .list(paths.map { Paths.resolve($0, relativeTo: base) }))
                default: break
                }
            }
            var applies = pipeline.datasets.map(\.name)
            if let listed = table["datasets"] {
                guard case .array(let items) = listed else { throw doc.error("must be a list of dataset names", at: key + ".datasets") }
                applies = []
                for item in items {
                    guard case .string(let name) = item else { throw doc.error("must be a list of dataset names", at: key + ".datasets") }
                    guard pipeline.datasets.contains(where: { $0.name == name }) else {
                        throw doc.error("no dataset is named '\(name)'\(suggestion(for: name, among: pipeline.datasets.map(\.name)))", at: key + ".datasets")
                    }
                    applies.append(name)
                }
            }
            pipeline.stages.append(PipelineStage(type: type, options: values, datasets: applies, index: n))
        }
        try pipeline.check(doc)
        return pipeline
    }

    /// The rules that involve several tables: where a source stage may stand, what a barrier needs.
    func check(_ doc: TOMLDocument) throws {
        func at(_ s: PipelineStage) -> String { "stage[\(s.index)]" }
        for d in datasets {
            let chain = stages.filter { $0.datasets.contains(d.name) }
            if d.format == .warc {
                guard chain.first?.name == "warc" else { throw doc.error("dataset '\(d.name)' holds archives: its first stage must be warc", at: "dataset") }
            }
            for (k, s) in chain.enumerated() where s.name == "warc" {
                guard k == 0, d.format == .warc else {
                    throw doc.error("warc reads archives, so it comes first and only for datasets of archives ('\(d.name)' is \(d.format.rawValue))", at: at(s))
                }
            }
        }
        for (k, s) in stages.enumerated() {
            // Rules between a stage's own options, with the file, line and table of the stage.
            do {
                try s.type.validate(s.options)
            } catch let e as ThreshError {
                // Point at the line of the option the message names, when the table sets it.
                let key = s.type.schema.options.map(\.key).first { e.message.contains($0) && doc.lines[at(s) + "." + $0] != nil }
                throw doc.error(e.message, at: key.map { at(s) + "." + $0 } ?? at(s))
            }
            switch s.name {
            case "score":
                let trained = stages[..<k].contains { $0.name == "quality-train" }
                guard trained || s.options.optionalString("model") != nil else {
                    throw doc.error("score needs a quality-train stage before it, or model = \"PATH\"", at: at(s))
                }
            case "quality-train":
                let roles = Set(s.datasets.compactMap { name in datasets.first { $0.name == name }?.role })
                guard roles.count == 2 else {
                    throw doc.error("quality-train needs a reference dataset (positives) and a crawl dataset (negatives) among its datasets", at: at(s))
                }
            case "shard":
                guard k == stages.count - 1 else { throw doc.error("shard writes the training shards: it must be the last stage", at: at(s)) }
                for name in s.datasets where datasets.first(where: { $0.name == name })?.weight == nil {
                    throw doc.error("dataset '\(name)' needs a weight (its share of the training tokens) for the shard stage", at: at(s))
                }
            default: break
            }
        }
    }

    /// The files a glob matches, sorted, normalised; a path without wildcards that exists matches itself.
    static func expandGlob(_ pattern: String) throws -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        let rc = glob(pattern, 0, nil, &g)
        guard rc == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { Paths.normalize(String(cString: $0)) } }
            .filter { !Paths.isDirectory($0) }.sorted()
    }

    /// The dataset named `name`.
    func dataset(_ name: String) -> Dataset { datasets.first { $0.name == name }! }
}
