import Testing
import ThreshCore
import ThreshIO
@testable import ThreshDedup
import ThreshTestSupport

/// GPT-3's decontamination as janitor.py's `clean_python` computes it (expectations derived from its rules).
@Suite struct DecontaminationTests {
    func words(_ prefix: String, _ n: Int) -> String { (0..<n).map { "\(prefix)\($0)" }.joined(separator: " ") }

    func index(_ items: [String], n: Int = 13) throws -> ContaminationIndex {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/bench.jsonl", Array(items.map { JSONWriter.string(.object(["text": .string($0)])) }.joined(separator: "\n").utf8))
        return try ContaminationIndex(files: [dir + "/bench.jsonl"], n: n)
    }

    /// A 20-word benchmark passage inside a long document: its eight 13-grams are cut with 200 characters either side,
    /// leaving the text before and after as two pieces; case and ASCII punctuation do not hide a match.
    @Test func aPassageIsCutWithItsWindows() throws {
        let passage = words("item", 20)
        let idx = try index([passage])
        let before = words("lead", 120), after = words("tail", 120)
        let shouted = passage.uppercased().split(separator: " ").enumerated().map { $0.offset == 3 ? $0.element + "," : String($0.element) }.joined(separator: " ")
        let text = before + " " + shouted + " " + after
        let result = idx.clean(text, options: DecontaminationOptions())
        let pieces = try #require(result.pieces)
        #expect(result.matches.count == 8)
        let scalars = Array(text.unicodeScalars)
        let start = before.unicodeScalars.count + 1, end = start + shouted.unicodeScalars.count - 1
        #expect(pieces == [String(String.UnicodeScalarView(scalars[0..<(start - 200)])),
                           String(String.UnicodeScalarView(scalars[(end + 200 + 1)...]))])
        // A document with no benchmark n-gram is left whole.
        #expect(idx.clean(before, options: DecontaminationOptions()).pieces == nil)
    }

    /// More than ten matching n-grams drop the document; pieces of 200 characters or fewer are dropped.
    @Test func tooDirtyDocumentsAndShortPiecesAreDropped() throws {
        let passage = words("item", 30)
        let idx = try index([passage])
        #expect(idx.clean(words("lead", 100) + " " + passage, options: DecontaminationOptions()).pieces == [])
        let short = words("item", 14)
        let result = idx.clean("a few words " + short + " and a few more", options: DecontaminationOptions())
        #expect(result.pieces == [])
        #expect(result.matches.count == 2)
    }

    @Test func theStageSplitsCountsAndReports() throws {
        let passage = words("item", 20)
        let idx = try index([passage, words("other", 20)])
        var stage = DecontaminateStage(index: idx, options: DecontaminationOptions())
        var out: [Document] = []
        try stage.process(Document(id: "d", text: words("lead", 120) + " " + passage + " " + words("tail", 120))) { out.append($0) }
        try stage.process(Document(id: "clean", text: words("lead", 50))) { out.append($0) }
        #expect(out.map(\.id) == ["d#0", "d#1", "clean"])
        #expect(out[0].meta["decontaminated_from"] == .string("d"))
        let row = try #require(stage.report.arrayValue?.first?.objectValue)
        #expect(row["items"] == .int(2) && row["items_with_overlap"] == .int(1) && row["matching_ngrams"] == .int(8) && row["documents_touched"] == .int(1))
    }

    @Test func benchmarkFilesThatAreEmptyOrNotTextAreErrors() throws {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/empty.txt", [])
        try writeFile(dir + "/binary.bin", [0xFF, 0xFE, 0x00, 0x81])
        for name in ["empty.txt", "binary.bin"] {
            do {
                _ = try ContaminationIndex(files: [dir + "/" + name], n: 13)
                Issue.record("\(name) was read")
            } catch let error as ThreshError {
                #expect(error.file == dir + "/" + name && error.message.contains("benchmark file"), "\(error)")
            }
        }
    }
}
