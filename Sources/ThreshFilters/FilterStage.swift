public import ThreshCore
import ThreshIO

/// Options of `thresh filter`: which rules run, in which order, and every rule's thresholds under datatrove 0.10.1's
/// names (hyphenated) with its defaults. A threshold datatrove skips when it is falsy is off at 0 here too; C4's
/// counts are off at -1, as there.
public struct FilterOptions: Sendable {
    /// The rules a `--rules` list may name.
    public static let ruleNames = ["gopher-quality", "gopher-repetition", "c4", "fineweb-quality", "url"]

    public var rules: [String] = []
    public var annotate = false
    public var explain = false
    /// The `keep` expression, applied after the rules.
    public var keep: KeepExpression?
    public var values: OptionValues

    public static let schema = OptionsSchema("filter", [
        OptionSpec("rules", .list, default: .list([]), help: "rules applied in this order: \(ruleNames.joined(separator: ", "))"),
        OptionSpec("keep", .text, help: "after the rules, keep only documents for which this expression is true (see thresh filter --help), e.g. 'attrs.lang == \"en\" && len(text) > 200'"),
        OptionSpec("annotate", .flag, default: .flag(false), help: "keep every document; write attrs.drop_reason (the first failing rule's reason) and attrs.drop_rule, and each rule's signals as attrs.RULE"),
        OptionSpec("explain", .flag, default: .flag(false), shapesOutput: false, help: "print each rule's measured values against its thresholds, per document, to stderr"),
        OptionSpec("language", .choice(["en"]), default: .text("en"), help: "word and sentence splitting: spaCy's English tokenizer and sentencizer (the only one ported)"),
        // Gopher quality
        OptionSpec("min-doc-words", .integer(min: 0, max: Int64(Int32.max)), default: .integer(50), help: "gopher-quality: fewer non-symbol words fail (gopher_short_doc); 0 is off"),
        OptionSpec("max-doc-words", .integer(min: 0, max: Int64(Int32.max)), default: .integer(100_000), help: "gopher-quality: more non-symbol words fail (gopher_long_doc); 0 is off"),
        OptionSpec("min-avg-word-length", .real(min: 0, max: 1e9), default: .real(3), help: "gopher-quality: a shorter mean word fails (gopher_below_avg_threshold)"),
        OptionSpec("max-avg-word-length", .real(min: 0, max: 1e9), default: .real(10), help: "gopher-quality: a longer mean word fails (gopher_above_avg_threshold)"),
        OptionSpec("max-symbol-word-ratio", .real(min: 0, max: 1e9), default: .real(0.1), help: "gopher-quality: '#' or ellipses per word above this fail (gopher_too_many_hashes, gopher_too_many_ellipsis)"),
        OptionSpec("max-bullet-lines-ratio", .real(min: 0, max: 1), default: .real(0.9), help: "gopher-quality: share of lines starting with a bullet (gopher_too_many_bullets)"),
        OptionSpec("max-ellipsis-lines-ratio", .real(min: 0, max: 1), default: .real(0.3), help: "gopher-quality: share of lines ending with an ellipsis (gopher_too_many_end_ellipsis)"),
        OptionSpec("max-non-alpha-words-ratio", .real(min: 0, max: 1), default: .real(0.8), help: "gopher-quality: a smaller share of words with a letter fails (gopher_below_alpha_threshold; datatrove's name)"),
        OptionSpec("min-stop-words", .integer(min: 0, max: 1000), default: .integer(2), help: "gopher-quality: fewer distinct stop words fail (gopher_enough_stop_words)"),
        OptionSpec("stop-words", .list, default: .list(["the", "be", "to", "of", "and", "that", "have", "with"]), help: "gopher-quality: the stop words"),
        // Gopher repetition
        OptionSpec("dup-line-frac", .real(min: 0, max: 1), default: .real(0.3), help: "gopher-repetition: share of duplicate lines (dup_line_frac)"),
        OptionSpec("dup-para-frac", .real(min: 0, max: 1), default: .real(0.3), help: "gopher-repetition: share of duplicate paragraphs (dup_para_frac)"),
        OptionSpec("dup-line-char-frac", .real(min: 0, max: 1), default: .real(0.2), help: "gopher-repetition: characters in duplicate lines (dup_line_char_frac)"),
        OptionSpec("dup-para-char-frac", .real(min: 0, max: 1), default: .real(0.2), help: "gopher-repetition: characters in duplicate paragraphs (dup_para_char_frac)"),
        OptionSpec("top-n-grams", .list, default: .list(["2:0.2", "3:0.18", "4:0.16"]), help: "gopher-repetition: N:FRACTION, the most frequent N-gram's characters (top_N_gram)"),
        OptionSpec("dup-n-grams", .list, default: .list(["5:0.15", "6:0.14", "7:0.13", "8:0.12", "9:0.11", "10:0.1"]), help: "gopher-repetition: N:FRACTION, characters in repeated N-grams (duplicated_N_n_grams)"),
        // C4
        OptionSpec("split-paragraph", .flag, default: .flag(true), help: "c4: judge lines (true) or spaCy sentences (false)"),
        OptionSpec("remove-citations", .flag, default: .flag(true), help: "c4: remove [1], [edit], [citation needed]"),
        OptionSpec("filter-no-terminal-punct", .flag, default: .flag(true), help: "c4: drop lines not ending in . ? ! \" ' (or ending in ...)"),
        OptionSpec("min-num-sentences", .integer(min: -1, max: 1_000_000), default: .integer(5), help: "c4: fewer sentences in the kept lines fail (too_few_sentences); -1 is off"),
        OptionSpec("min-words-per-line", .integer(min: -1, max: 1_000_000), default: .integer(3), help: "c4: drop lines with fewer words"),
        OptionSpec("max-word-length", .integer(min: -1, max: Int64(Int32.max)), default: .integer(1000), help: "c4: drop lines with a longer word; -1 is off"),
        OptionSpec("filter-lorem-ipsum", .flag, default: .flag(true), help: "c4: 'lorem ipsum' fails the document (lorem_ipsum)"),
        OptionSpec("filter-javascript", .flag, default: .flag(true), help: "c4: drop lines mentioning javascript"),
        OptionSpec("filter-curly-bracket", .flag, default: .flag(true), help: "c4: a '{' fails the document (curly_bracket)"),
        OptionSpec("filter-policy", .flag, default: .flag(true), help: "c4: drop lines about cookies and terms of use"),
        // FineWeb quality
        OptionSpec("line-punct-thr", .real(min: 0, max: 1), default: .real(0.12), help: "fineweb-quality: a smaller share of lines ending in terminal punctuation fails (line_punct_ratio)"),
        OptionSpec("line-punct-exclude-zero", .flag, default: .flag(false), help: "fineweb-quality: a share of exactly 0 passes"),
        OptionSpec("stop-chars", .text, help: "fineweb-quality: the characters a punctuated line ends with (default: datatrove's TERMINAL_PUNCTUATION)"),
        OptionSpec("short-line-thr", .real(min: 0, max: 1), default: .real(0.67), help: "fineweb-quality: share of short lines (short_line_ratio)"),
        OptionSpec("short-line-length", .integer(min: 0, max: Int64(Int32.max)), default: .integer(30), help: "fineweb-quality: a line this long or shorter is short"),
        OptionSpec("char-duplicates-ratio", .real(min: 0, max: 1), default: .real(0.01), help: "fineweb-quality: characters in duplicate lines (char_dup_ratio)"),
        OptionSpec("new-line-ratio", .real(min: 0, max: 1e9), default: .real(0.3), help: "fineweb-quality: newlines per word (list_ratio)"),
        // URL
        OptionSpec("blocklist", .list, default: .list([]), help: "url: folders in UT1's layout (DIR/CATEGORY/domains and urls, or DIR/domains and urls)"),
        OptionSpec("blocklist-categories", .list, default: .list([]), help: "url: the UT1 categories read (default: all)"),
        OptionSpec("extra-domains", .list, default: .list([]), help: "url: more blocked domains"),
        OptionSpec("extra-urls", .list, default: .list([]), help: "url: more blocked URLs"),
        OptionSpec("banned-words", .list, default: .list([]), help: "url: a URL word among these fails (hard_blacklisted)"),
        OptionSpec("banned-subwords", .list, default: .list([]), help: "url: one of these inside the URL's letters and digits fails (blacklisted_subword)"),
        OptionSpec("soft-banned-words", .list, default: .list([]), help: "url: soft-word-threshold of these among the URL's words fail (soft_blacklisted)"),
        OptionSpec("banned-words-file", .text, help: "url: banned words, one per line (datatrove's banned_words.txt layout)"),
        OptionSpec("banned-subwords-file", .text, help: "url: banned sub-words, one per line"),
        OptionSpec("soft-banned-words-file", .text, help: "url: soft-banned words, one per line"),
        OptionSpec("soft-word-threshold", .integer(min: 0, max: 1000), default: .integer(2), help: "url: soft-banned words that fail a URL"),
        OptionSpec("public-suffix-list", .text, default: .text(PublicSuffixList.defaultPath), help: "url: the Public Suffix List (Debian's publicsuffix package)"),
    ])

    /// - Throws: `.usage` for a malformed `keep` expression (naming the column).
    public init(_ values: OptionValues) throws {
        self.values = values
        rules = values.list("rules")
        annotate = values.bool("annotate")
        explain = values.bool("explain")
        keep = try values.optionalString("keep").map(KeepExpression.init)
    }

    /// The files whose contents decide the output (for a pipeline step's fingerprint).
    public var inputFiles: [String] {
        guard rules.contains("url") else { return [] }
        var files = [values.string("public-suffix-list")]
        for key in ["banned-words-file", "banned-subwords-file", "soft-banned-words-file"] {
            if let f = values.optionalString(key) { files.append(f) }
        }
        return files
    }

    /// Checks what the schema cannot: some rule or a keep expression, known rule names, none twice, well-formed
    /// N:FRACTION lists, a keep expression that parses.
    public static func validate(_ values: OptionValues) throws {
        let rules = values.list("rules")
        guard !rules.isEmpty || values.optionalString("keep") != nil else {
            throw ThreshError(.usage, "filter: give --rules (\(ruleNames.joined(separator: ", "))) or --keep EXPR")
        }
        if let keep = values.optionalString("keep") { _ = try KeepExpression(keep) }
        for r in rules where !ruleNames.contains(r) {
            throw ThreshError(.usage, "rules: unknown rule '\(r)'\(suggestion(for: r, among: ruleNames)); the rules are \(ruleNames.joined(separator: ", "))")
        }
        if Set(rules).count != rules.count { throw ThreshError(.usage, "rules: a rule is named twice") }
        _ = try nGramThresholds(values, "top-n-grams")
        _ = try nGramThresholds(values, "dup-n-grams")
    }

    static func nGramThresholds(_ values: OptionValues, _ key: String) throws -> [(Int, Double)] {
        try values.list(key).map { item in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let n = Int(parts[0]), n >= 1, n <= 1000, let f = Double(parts[1]), f.isFinite, f >= 0 else {
                throw ThreshError(.usage, "\(key): '\(item)' is not N:FRACTION (N from 1 to 1000, a fraction ≥ 0)")
            }
            return (n, f)
        }
    }
}

/// The configured rules, built once (lists and the suffix list read) and shared by every task.
public struct FilterRules: Sendable {
    let rules: [any FilterRule]

    /// - Throws: `.usage` for a bad option, a missing or unreadable list file.
    public init(_ options: FilterOptions) throws {
        try FilterOptions.validate(options.values)
        guard options.values.string("language") == "en" else { throw ThreshError(.usage, "language: only en is ported") }
        let v = options.values
        var built: [any FilterRule] = []
        for name in options.rules {
            switch name {
            case "gopher-quality":
                var r = GopherQualityRule()
                r.minDocWords = Double(v.int("min-doc-words"))
                r.maxDocWords = Double(v.int("max-doc-words"))
                r.minAvgWordLength = v.double("min-avg-word-length")
                r.maxAvgWordLength = v.double("max-avg-word-length")
                r.maxSymbolWordRatio = v.double("max-symbol-word-ratio")
                r.maxBulletLinesRatio = v.double("max-bullet-lines-ratio")
                r.maxEllipsisLinesRatio = v.double("max-ellipsis-lines-ratio")
                r.maxNonAlphaWordsRatio = v.double("max-non-alpha-words-ratio")
                r.minStopWords = Double(v.int("min-stop-words"))
                r.stopWords = Array(Set(v.list("stop-words"))).sorted().map(PythonText.scalars)
                built.append(r)
            case "gopher-repetition":
                var r = GopherRepetitionRule()
                r.dupLineFrac = v.double("dup-line-frac")
                r.dupParaFrac = v.double("dup-para-frac")
                r.dupLineCharFrac = v.double("dup-line-char-frac")
                r.dupParaCharFrac = v.double("dup-para-char-frac")
                r.topNGrams = try FilterOptions.nGramThresholds(v, "top-n-grams")
                r.dupNGrams = try FilterOptions.nGramThresholds(v, "dup-n-grams")
                built.append(r)
            case "c4":
                var r = C4Rule()
                r.splitParagraph = v.bool("split-paragraph")
                r.removeCitations = v.bool("remove-citations")
                r.filterNoTerminalPunct = v.bool("filter-no-terminal-punct")
                r.minNumSentences = v.int("min-num-sentences")
                r.minWordsPerLine = v.int("min-words-per-line")
                r.maxWordLength = v.int("max-word-length")
                r.filterLoremIpsum = v.bool("filter-lorem-ipsum")
                r.filterJavascript = v.bool("filter-javascript")
                r.filterCurlyBracket = v.bool("filter-curly-bracket")
                r.filterPolicy = v.bool("filter-policy")
                built.append(r)
            case "fineweb-quality":
                var r = FineWebQualityRule()
                r.linePunctThr = v.double("line-punct-thr")
                r.linePunctExcludeZero = v.bool("line-punct-exclude-zero")
                if let chars = v.optionalString("stop-chars") { r.stopChars = ScalarSet(scalars: chars) }
                r.shortLineThr = v.double("short-line-thr")
                r.shortLineLength = v.int("short-line-length")
                r.charDuplicatesRatio = v.double("char-duplicates-ratio")
                r.newLineRatio = v.double("new-line-ratio")
                built.append(r)
            case "url":
                let listPath = v.string("public-suffix-list")
                guard Paths.exists(listPath) else {
                    throw ThreshError(.usage, "url: no public suffix list at \(listPath) (install Debian's publicsuffix package or pass --public-suffix-list)")
                }
                var r = URLRule(suffixes: try PublicSuffixList(path: listPath))
                r.softWordThreshold = v.int("soft-word-threshold")
                for d in v.list("extra-domains") { r.blockedDomains.add(d.trimmingPythonWhitespace()) }
                for u in v.list("extra-urls") { r.blockedURLs.add(u.trimmingPythonWhitespace()) }
                for dir in v.list("blocklist") {
                    guard Paths.isDirectory(dir) else { throw ThreshError(.usage, "blocklist: \(dir) is not a folder (UT1's layout: DIR/CATEGORY/domains)") }
                    try URLRule.readBlocklist(dir, categories: v.list("blocklist-categories"), into: &r.blockedDomains, &r.blockedURLs)
                }
                for w in v.list("banned-words") { r.bannedWords.add(URLRule.normalize(w)) }
                for w in v.list("soft-banned-words") { r.softBannedWords.add(URLRule.normalize(w)) }
                var subwords = Set(v.list("banned-subwords").map(URLRule.normalize))
                if let f = v.optionalString("banned-words-file") { for w in URLRule.parseLines(try readTextFile(f), normalizing: true) { r.bannedWords.add(w) } }
                if let f = v.optionalString("soft-banned-words-file") { for w in URLRule.parseLines(try readTextFile(f), normalizing: true) { r.softBannedWords.add(w) } }
                if let f = v.optionalString("banned-subwords-file") { subwords.formUnion(URLRule.parseLines(try readTextFile(f), normalizing: true)) }
                r.bannedSubwords = subwords.sorted().map { Array($0.utf8) }
                built.append(r)
            default:
                throw ThreshError(.usage, "rules: unknown rule '\(name)'")
            }
        }
        rules = built
    }
}

/// `thresh filter` as a stage: the rules in order; a document fails at its first failing rule and is dropped,
/// counted as `RULE:reason` (datatrove's reason). With `annotate`, every document is kept, with
/// `attrs.drop_reason` and `attrs.drop_rule` when one fails, and every rule's signals as `attrs.RULE_NAME`
/// (`gopher_quality`, …). C4's line edits change the text the later rules see, as in datatrove's chain. A document
/// without string text is dropped as `no-text`, never judged.
public struct FilterStage: DocumentStage {
    public let rules: FilterRules
    public let options: FilterOptions
    public private(set) var statistics = StageStatistics(stage: "filter")
    /// Receives `--explain`'s lines.
    private let explain: (@Sendable (String) -> Void)?

    public init(rules: FilterRules, options: FilterOptions, explain: (@Sendable (String) -> Void)? = nil) {
        self.rules = rules
        self.options = options
        // Named by its rules, so two filter stages of a recipe (FineWeb's URL filter, then its text filters) have
        // rows of their own in a run's statistics.
        if !options.rules.isEmpty { statistics.stage = "filter " + options.rules.joined(separator: ",") }
        self.explain = options.explain ? explain : nil
    }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        guard let original = statistics.admitText(document) else { return }
        let complete = options.annotate || explain != nil
        var text = FilterText(original)
        var firstFailure: (rule: String, reason: String)?
        var signals: [(String, JSONObject)] = []
        let url = document.url
        var report: [String] = []
        var textEdited = false
        for rule in rules.rules {
            // In filter mode a failed document is not evaluated further.
            if firstFailure != nil && !complete { break }
            let outcome = rule.evaluate(text, url: url, complete: complete)
            for (name, n) in outcome.counters where n > 0 { statistics.count("\(rule.name).\(name)", n) }
            if options.annotate {
                var object = JSONObject()
                for m in outcome.measurements where object[m.name] == nil { object[m.name] = .double(m.value) }
                signals.append((rule.name.replacing("-", with: "_"), object))
            }
            if explain != nil {
                for m in outcome.measurements {
                    let verdict = m.threshold == nil ? "" : " \(m.failsWhen == "<" ? "min" : "max") \(formatDouble(m.threshold!))\(m.failed ? " FAIL \(m.reason)" : "")"
                    report.append("  \(rule.name) \(m.name) = \(formatDouble(m.value))\(verdict)")
                }
                if let reason = outcome.reason, outcome.measurements.allSatisfy({ $0.reason != reason || !$0.failed }) {
                    report.append("  \(rule.name) FAIL \(reason)")
                }
            }
            if let reason = outcome.reason {
                if firstFailure == nil { firstFailure = (rule.name, reason) }
            } else if let edited = outcome.editedText, firstFailure == nil {
                text = FilterText(scalars: edited)
                textEdited = true
            }
        }
        if let explain {
            explain("\(document.id): \(firstFailure.map { "dropped by \($0.rule) (\($0.reason))" } ?? "kept")\n" + report.joined(separator: "\n"))
        }
        var out = document
        if textEdited { out.text = text.string }
        if options.annotate {
            var attrs = out.attrs
            for (name, object) in signals { attrs[name] = .object(object) }
            if let firstFailure {
                attrs["drop_reason"] = .string(firstFailure.reason)
                attrs["drop_rule"] = .string(firstFailure.rule)
                statistics.count("failed.\(firstFailure.rule):\(firstFailure.reason)")
            }
            out.attrs = attrs
        } else if let firstFailure {
            statistics.drop("\(firstFailure.rule):\(firstFailure.reason)")
            return
        }
        // The keep expression sees the document as it would be written (annotations included).
        if let keep = options.keep, !keep.keeps(out) {
            statistics.drop("keep-false")
            return
        }
        statistics.documentsOut += 1
        statistics.bytesOut += Int64(out.text.utf8.count)
        try emit(out)
    }
}
