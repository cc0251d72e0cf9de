import Testing
import ThreshCore
import ThreshIO
@testable import ThreshFilters
import ThreshTestSupport

/// The rules against datatrove 0.10.1 itself: documents written to trip each check, with datatrove's verdict per
/// rule, for the chain, and C4's edited text (`scripts/make-filter-fixtures`).
@Suite struct FilterRulesTests {
    static let fixtures = TestPaths.fixtures + "/filters"
    static let chain = ["gopher-repetition", "gopher-quality", "c4", "fineweb-quality"]

    static func stage(_ rules: [String], annotate: Bool = true, extra: [String] = []) throws -> FilterStage {
        var arguments = ["--rules", rules.joined(separator: ",")] + extra
        if annotate { arguments.append("--annotate") }
        let (values, _) = try FilterOptions.schema.parse(arguments: arguments)
        let options = try FilterOptions(values)
        return FilterStage(rules: try FilterRules(options), options: options)
    }

    static var urlOptions: [String] {
        ["--blocklist", fixtures + "/lists/ut1", "--blocklist-categories", "adult",
         "--banned-words-file", fixtures + "/lists/banned_words.txt",
         "--banned-subwords-file", fixtures + "/lists/banned_subwords.txt",
         "--soft-banned-words-file", fixtures + "/lists/soft_banned_words.txt"]
    }

    /// Runs a stage on one document in annotate mode: the reason (RULE:reason) and the text written.
    static func verdict(_ stage: inout FilterStage, _ row: JSONObject) throws -> (String?, String) {
        var fields: JSONObject = ["id": row["id"]!, "text": row["text"]!]
        if let url = row["url"] { fields["url"] = url }
        var out: Document?
        try stage.process(Document(fields: fields)) { out = $0 }
        let document = try #require(out)
        let attrs = document.attrs
        let reason = attrs["drop_reason"]?.stringValue.map { attrs["drop_rule"]!.stringValue! + ":" + $0 }
        return (reason, document.text)
    }

    @Test(arguments: chain + ["chain"])
    func decisionsMatchDatatrove(rule: String) throws {
        var stage = try Self.stage(rule == "chain" ? Self.chain : [rule])
        let rows = try readJSONLines(Self.fixtures + "/decisions.jsonl")
        #expect(rows.count >= 25)
        var reasons = Set<String>()
        for row in rows {
            let expected = row[rule]!.stringValue
            let (reason, text) = try Self.verdict(&stage, row)
            #expect(reason == expected, "\(rule) on \(row["id"]!.stringValue!)")
            if let expected { reasons.insert(expected) }
            if rule == "c4" || rule == "chain", expected == nil {
                #expect(text == row[rule == "c4" ? "c4_text" : "chain_text"]!.stringValue!, "\(rule) text of \(row["id"]!.stringValue!)")
            }
        }
        // The fixture exercises several checks of each rule, not one.
        #expect(reasons.count >= (rule == "chain" ? 4 : 3), "\(rule): \(reasons.sorted())")
    }

    @Test func urlDecisionsMatchDatatrove() throws {
        guard TestPaths.exists(PublicSuffixList.defaultPath) || TestPaths.isCI else { return }
        var stage = try Self.stage(["url"], extra: Self.urlOptions)
        var checked = 0
        for row in try readJSONLines(Self.fixtures + "/decisions.jsonl") where row["url"] != nil {
            let (reason, _) = try Self.verdict(&stage, row)
            #expect(reason == row["url_rule"]!.stringValue, "url on \(row["id"]!.stringValue!)")
            checked += 1
        }
        #expect(checked >= 9)
    }

    /// tldextract's reading of hosts: case kept, scheme and user and port dropped, IP addresses have no domain,
    /// wildcard and exception rules of the suffix list.
    @Test func registeredDomains() throws {
        guard TestPaths.exists(PublicSuffixList.defaultPath) else { return }
        let psl = try PublicSuffixList(path: PublicSuffixList.defaultPath)
        #expect(psl.domains(ofURL: "http://forums.bbc.co.uk/path").registered == "bbc.co.uk")
        #expect(psl.domains(ofURL: "http://forums.bbc.co.uk/path").fqdn == "forums.bbc.co.uk")
        #expect(psl.domains(ofURL: "https://user:pw@Sub.Example.COM:8080/x").registered == "Example.COM")
        #expect(psl.domains(ofURL: "http://93.184.216.34/page").registered == "")
        #expect(psl.domains(ofURL: "http://localhost:8080").registered == "")
        #expect(psl.domains(ofURL: "www.example.com.").registered == "example.com")
        #expect(Punycode.decodeLabel("xn--p1ai") == "рф")
        #expect(psl.domains(ofURL: "http://пример.xn--p1ai/").registered == "пример.xn--p1ai")
    }

    /// The list set's bulk load (lines placed in home-slot order) and single adds (placed one by one, the table
    /// rebuilt as it fills) find every entry and nothing else, as parse_list reads lines.
    @Test func listSetsFindExactlyTheirEntries() {
        var set = ByteStringSet()
        let listed = (0..<50_000).map { "site-\($0).example" }
        set.addLines(of: Array(("# a comment line\n" + listed.joined(separator: "\n") + "\n  padded.example \t\n").utf8))
        for i in 0..<3_000 { set.add("added-\(i).example") }
        #expect(set.count == listed.count + 1 + 3_000)
        #expect(listed.allSatisfy { set.contains(Substring($0)) })
        #expect((0..<3_000).allSatisfy { set.contains(Substring("added-\($0).example")) })
        #expect(set.contains(Substring("padded.example")))
        #expect(!set.contains(Substring("# a comment line")))
        #expect(!(0..<3_000).contains { set.contains(Substring("site-\($0 + 50_000).example")) })
        #expect(!set.contains(Substring("site-1.exampl")) && !set.contains(Substring("")))
    }

    /// Filter mode drops at the first failing rule, counted as RULE:reason; text that is not a string is dropped as
    /// no-text and never judged; --annotate keeps everything with signals.
    @Test func droppingCountingAndAnnotating() throws {
        var dropping = try Self.stage(Self.chain, annotate: false)
        var kept: [Document] = []
        try dropping.process(Document(id: "a", text: "Too short.")) { kept.append($0) }
        try dropping.process(Document(fields: ["id": .string("b"), "text": .int(7)])) { kept.append($0) }
        try dropping.process(Document(fields: ["id": .string("c")])) { kept.append($0) }
        #expect(kept.isEmpty)
        #expect(dropping.statistics.dropped["no-text"] == 2)
        #expect(dropping.statistics.dropped["gopher-repetition:top_2_gram"] == 1) // as datatrove: "Too short" is 90% of the text
        #expect(dropping.statistics.documentsIn == 3)

        var annotating = try Self.stage(["gopher-quality", "fineweb-quality"])
        try annotating.process(Document(id: "a", text: "Too short.")) { kept.append($0) }
        let attrs = try #require(kept.first).attrs
        #expect(attrs["drop_reason"] == .string("gopher_short_doc"))
        #expect(attrs["drop_rule"] == .string("gopher-quality"))
        // Signals of every rule, even after the first failure.
        #expect(attrs["gopher_quality"]?.objectValue?["words"]?.doubleValue == 2)
        #expect(attrs["fineweb_quality"]?.objectValue?["line_punct_ratio"]?.doubleValue == 1)
    }

    @Test func badOptionsAreUsageErrors() throws {
        #expect(throws: ThreshError.self) { _ = try Self.stage(["gopher-quailty"]) }
        #expect(throws: ThreshError.self) { _ = try Self.stage(["c4", "c4"]) }
        #expect(throws: ThreshError.self) { _ = try Self.stage(["gopher-repetition"], extra: ["--top-n-grams", "2:x"]) }
        #expect(throws: ThreshError.self) { _ = try Self.stage(["url"], extra: ["--blocklist", Self.fixtures + "/lists/ut1", "--blocklist-categories", "adlt"]) }
        #expect(throws: ThreshError.self) { _ = try Self.stage(["url"], extra: ["--public-suffix-list", "/nonexistent/psl.dat"]) }
    }
}

@Suite struct KeepExpressionTests {
    static let document = Document(fields: [
        "id": .string("d1"), "text": .string("héllo world"), "url": .string("https://a.example/x"),
        "attrs": .object(["lang": .string("en"), "lang_score": .double(0.8), "quality": .double(0.25), "tags": .array([.string("x")])]),
        "meta": .object(["http_status": .int(200)]),
    ])

    @Test(arguments: [
        ("attrs.lang == \"en\" && attrs.lang_score >= 0.65", true),
        ("attrs.quality > 0.3", false),
        ("len(text) > 10", true),          // 11 code points
        ("len(text) == 11", true),
        ("meta.http_status == 200", true),
        ("!(meta.http_status == 200) || attrs.lang in [\"de\", \"fr\"]", false),
        ("attrs.lang in [\"de\", \"en\"]", true),
        ("\"world\" in text", true),
        ("attrs.missing == null", true),
        ("attrs.missing > 0", false),      // null is not ordered
        ("attrs.lang > 1", false),         // a string and a number are not ordered
        ("attrs.lang_score * 2 - 1 > 0.5", true),
        ("-attrs.quality < 0", true),
        ("len(attrs.tags) == 1 && len(attrs) == 4", true),
        ("attrs.lang != \"en\"", false),
    ])
    func evaluates(expression: String, expected: Bool) throws {
        #expect(try KeepExpression(expression).keeps(Self.document) == expected, "\(expression)")
    }

    @Test(arguments: [
        ("attrs.lang == ", "column 15"),
        ("attrs.lang === \"en\"", "column 14"),
        ("len text", "column 1"),
        ("(attrs.a > 1", "column 13"),
        ("attrs.a > \"open", "column 16"),
        ("size(text) > 1", "column 1"),
        ("attrs. > 1", "column 7"),
    ])
    func malformedExpressionsNameTheColumn(expression: String, column: String) {
        do {
            _ = try KeepExpression(expression)
            Issue.record("parsed: \(expression)")
        } catch let error as ThreshError {
            #expect(error.code == .usage)
            #expect("\(error)".contains(column), "\(expression): \(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
