public import ThreshCore
import ThreshQuality

extension DedupOptions {
    /// The most LSH bands and rows per band a run may use.
    static let mostBands: Int64 = 1024
    static let mostRows: Int64 = 1024
    static let mostPermutations: Int64 = 4096
    static let longestShingle: Int64 = 64

    /// `thresh dedup`'s options, described once: its flags and its `[[stage]] use = "dedup"` table.
    public static let schema = OptionsSchema("dedup", [
        OptionSpec("preset", .choice(["gpt3", "fineweb", "custom", "exact", "url"]), default: .text("gpt3"),
                   help: "gpt3 (Spark features, 10 tables of 1 row, verified), fineweb (word 5-grams, 14 bands of 8 rows), custom (word 5-grams, 16 × 8), exact (the text's 64-bit hash) or url (the canonical URL's)"),
        OptionSpec("normalization", .choice(["simple", "none"]), default: .text("simple"),
                   help: "exact preset: simple (lower-cased, whitespace runs made one space, trimmed) or none (the text as it is)"),
        OptionSpec("drop-parameters", .list, default: .list(URLCanonicalizer.trackingParameters.sorted()),
                   help: "url preset: query parameters dropped besides every utm_* one"),
        OptionSpec("threshold", .real(min: 0, max: 1, minExclusive: true), default: .real(0.8),
                   help: "Jaccard similarity at or above which documents are duplicates"),
        OptionSpec("bands", .integer(min: 1, max: mostBands), help: "LSH bands (overrides the preset's)"),
        OptionSpec("rows", .integer(min: 1, max: mostRows), help: "rows per band (overrides the preset's)"),
        OptionSpec("permutations", .integer(min: 1, max: mostPermutations),
                   help: "choose bands and rows for the threshold within this many permutations (as datasketch does)"),
        OptionSpec("shingles", .text, help: "features (the quality model's), words:N or chars:N (default: the preset's)"),
        OptionSpec("seed", .integer(min: .min, max: .max), help: "seed of the hash family (gpt3: Spark's 328749633; others: 1)"),
        OptionSpec("spark-distance", .real(min: 0, max: 1, minExclusive: true),
                   help: "Spark's rule instead of threshold: keep pairs whose Jaccard distance is strictly below this"),
        OptionSpec("verify", .flag, default: .flag(true), help: "verify candidates by exact Jaccard (--no-verify: every LSH candidate pair counts)"),
    ])

    /// The options a schema-checked table or command line sets: the preset, then each override.
    /// - Throws: `.usage` for a shingle spelling that is not features, words:N or chars:N, or a family that cannot hash the shingles.
    public init(_ values: OptionValues) throws {
        let threshold = values.double("threshold")
        let seed = values.optionalInt("seed").map { Int64($0) }
        switch values.string("preset") {
        case "fineweb": self = .fineweb(threshold: threshold, seed: UInt64(bitPattern: seed ?? 1))
        case "exact": self = .exact(normalised: values.string("normalization") == "simple")
        case "url": self = .url(URLCanonicalizer(dropParameters: Set(values.list("drop-parameters").map { $0.lowercased() })))
        case "custom":
            self = DedupOptions(shingler: Shingler(kind: .words(5)), family: .minhash64(seed: UInt64(bitPattern: seed ?? 1)),
                                bands: 16, rows: 8, threshold: threshold)
        default: self = .gpt3(threshold: threshold, seed: seed ?? SparkMinHash.scalaDefaultSeed)
        }
        if let spelling = values.optionalString("shingles") { shingler = Shingler(kind: try Shingler.Kind(parsing: spelling)) }
        if let permutations = values.optionalInt("permutations") {
            let best = DedupOptions.optimalBandsAndRows(threshold: threshold, permutations: permutations)
            bands = best.bands
            rows = best.rows
        }
        if let b = values.optionalInt("bands") { bands = b }
        if let r = values.optionalInt("rows") { rows = r }
        guard bands * rows <= Int(DedupOptions.mostPermutations) else {
            throw ThreshError(.usage, "dedup: \(bands) bands × \(rows) rows is more than \(DedupOptions.mostPermutations) hash functions")
        }
        if case .spark = family {
            guard case .features = shingler.kind else {
                throw ThreshError(.usage, "dedup: the Spark family (gpt3 preset) hashes feature indices: use shingles = \"features\"")
            }
        }
        verify = values.bool("verify")
        sparkDistance = values.optionalDouble("spark-distance")
    }
}

extension Shingler.Kind {
    /// Reads `features`, `words:N` or `chars:N` (N from 1 to 64).
    /// - Throws: `.usage` naming what is expected.
    public init(parsing spelling: String) throws {
        let parts = spelling.split(separator: ":", omittingEmptySubsequences: false)
        let n = parts.count == 2 ? Int(parts[1]) : nil
        switch (parts.first.map(String.init), n) {
        case ("features"?, _) where parts.count == 1: self = .features(FeatureHasher())
        case ("words"?, let n?) where n >= 1 && n <= Int(DedupOptions.longestShingle): self = .words(n)
        case ("chars"?, let n?) where n >= 1 && n <= Int(DedupOptions.longestShingle): self = .characters(n)
        default: throw ThreshError(.usage, "dedup shingles: '\(spelling)' is not features, words:N or chars:N (N from 1 to \(DedupOptions.longestShingle))")
        }
    }
}
