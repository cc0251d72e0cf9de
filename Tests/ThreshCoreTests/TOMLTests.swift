import Testing
@testable import ThreshCore

@Suite struct TOMLTests {
    @Test func readsTablesArraysOfTablesAndValues() throws {
        let text = """
            # a mix
            budget_tokens = 300_000_000_000
            seed = 7
            name = "gpt3 \\"mix\\""
            path = 'C:\\raw'
            formats = ["megatron",
                       "nanogpt"]  # across lines
            ratio = 0.5
            on = true

            [[source]]
            name = "crawl"
            weight = 0.6
            inline = { a = 1, b = "x" }

            [[source]]
            name = "books"
            weight = 0.4

            [stage.extract]
            favor = "precision"
            """
        let doc = try TOMLDocument.parse(text, file: "mix.toml")
        #expect(doc.root["budget_tokens"] == .number("300000000000"))
        #expect(doc.root["name"] == .string("gpt3 \"mix\""))
        #expect(doc.root["path"] == .string("C:\\raw"))
        #expect(doc.root["formats"] == .array([.string("megatron"), .string("nanogpt")]))
        #expect(doc.root["on"] == .bool(true))
        let sources = try #require(doc.root["source"]?.arrayValue)
        #expect(sources.count == 2)
        #expect(sources[1].objectValue?["name"] == .string("books"))
        #expect(sources[0].objectValue?["inline"]?.objectValue?["b"] == .string("x"))
        #expect(doc.root["stage"]?.objectValue?["extract"]?.objectValue?["favor"] == .string("precision"))
        #expect(doc.lines["source[1].weight"] == 18)
        #expect(doc.error("must be positive", at: "source[1].weight").description == "mix.toml, line 18: source[1].weight: must be positive")
    }

    @Test(arguments: [("a = ", 1), ("a = 1\nb = oops", 2), ("[t]\nx = 1\nx = 2", 3), ("a = \"open", 1), ("[x\n", 1)])
    func syntaxErrorsNameTheLine(text: String, line: Int) {
        do {
            _ = try TOMLDocument.parse(text, file: "p.toml")
            Issue.record("expected an error for \(text)")
        } catch let error as ThreshError {
            #expect(error.file == "p.toml" && error.line == line, "\(error)")
        } catch { Issue.record("\(error)") }
    }
}
