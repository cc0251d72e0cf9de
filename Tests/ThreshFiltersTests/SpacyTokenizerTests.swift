import Testing
import ThreshCore
import ThreshIO
@testable import ThreshFilters
import ThreshTestSupport

/// The port of spaCy's English tokenizer against spaCy 3.8 itself, on texts written to exercise each of its rules
/// (`scripts/make-spacy-fixtures`): every token's offsets and whitespace flag, and the sentencizer's count.
@Suite struct SpacyTokenizerTests {
    @Test func tokensMatchSpacy() throws {
        let rows = try readJSONLines(TestPaths.fixtures + "/spacy/tokens.jsonl")
        #expect(rows.count >= 30)
        var mismatches: [String] = []
        for row in rows {
            let text = row["text"]!.stringValue!
            let scalars = PythonText.scalars(text)
            let expected = row["tokens"]!.arrayValue!.map { t -> TextToken in
                let a = t.arrayValue!
                return TextToken(start: a[0].intValue!, end: a[1].intValue!, isSpace: a[2] == .bool(true))
            }
            let got = SpacyEnglishTokenizer.shared.tokens(scalars)
            if got != expected {
                let show = { (ts: [TextToken]) in ts.map { PythonText.string(scalars, $0.start..<$0.end) }.joined(separator: "|") }
                mismatches.append("\(text.debugDescription)\n  spaCy:  \(show(expected))\n  Thresh: \(show(got))")
            }
            let sentences = SpacyEnglishTokenizer.shared.sentenceCount(scalars, got)
            #expect(sentences == row["sentences"]!.intValue!, "sentences of \(text.debugDescription)")
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) texts differ:\n\(mismatches.joined(separator: "\n"))")
    }

    /// The URL pattern's parts: scheme, user, host labels and TLD, IPv4 ranges, port, path.
    @Test func urlPattern() {
        let t = SpacyEnglishTokenizer.shared
        func url(_ s: String) -> Bool { let a = PythonText.scalars(s); return t.matchesURL(a, 0, a.count) }
        #expect(url("https://example.com/path?q=1"))
        #expect(url("www.example.org/page"))
        #expect(url("me@example.com"))
        #expect(url("user:pass@host.example.co.uk:443/a#frag"))
        #expect(url("8.8.8.8/dns"))
        #expect(!url("127.0.0.1:8080/x"))   // loopback is excluded
        #expect(!url("192.168.1.1/admin"))  // private
        #expect(!url("example.c0m/x"))      // the TLD is letters
        #expect(!url("example.com:8/x"))    // a port has 2 to 5 digits
        #expect(!url("no-dots-here/x"))
    }
}
