import Testing
import ThreshCore
import ThreshIO
@testable import ThreshDedup
import ThreshTestSupport

/// `thresh dedup lines` against a brute-force count of the same normalised lines.
@Suite struct LineDedupTests {
    @Test func repeatedLinesAreRemovedAsABruteForceCountSays() throws {
        let dir = makeTemporaryDirectory()
        var docs: [Document] = []
        // (Digits count as 0 in the comparison, so the paragraphs differ by words.)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let subjects: [String] = (0..<40).map { (i: Int) -> String in String([letters[i % 26], letters[i / 26]]) + "topic" }
        for i in 0..<40 {
            var lines = ["Share this article!", "A paragraph about \(subjects[i]) says something of its own, at length."]
            if i % 2 == 0 { lines.append("Cookies help us deliver our services.") }
            if i % 10 == 0 { lines.append("Rare line \(i / 10) that repeats only a little") }
            lines.append("© 2024 Example Média, all rights reserved 19\(i % 3)")
            docs.append(Document(id: "d\(i)", text: lines.joined(separator: "\n")))
        }
        docs.append(Document(id: "only-boilerplate", text: "SHARE this article\nCookies help us deliver our services."))
        try Paths.makeDirectories(dir + "/a")
        try Paths.makeDirectories(dir + "/b")
        for (k, half) in [Array(docs.prefix(20)), Array(docs.dropFirst(20))].enumerated() {
            let out = try DocumentWriter(path: dir + (k == 0 ? "/a" : "/b") + "/docs.jsonl")
            for d in half { try out.write(d) }
            try out.close()
        }
        var options = LineDedupOptions()
        options.minimumCount = 5
        let job = LineDedupJob(inputs: [dir + "/a/docs.jsonl", dir + "/b/docs.jsonl"], output: dir + "/out", options: options)
        let stats = try job.run()
        // Brute force: documents per normalised line.
        var documentsPerLine: [[UInt8]: Int] = [:]
        for d in docs {
            let distinct = Set(d.text.split(separator: "\n").map { LineDedupJob.normalized($0) }.filter { !$0.isEmpty })
            for line in distinct { documentsPerLine[line, default: 0] += 1 }
        }
        var expected: [String: String] = [:]
        for d in docs {
            let kept = d.text.split(separator: "\n", omittingEmptySubsequences: false).filter { documentsPerLine[LineDedupJob.normalized($0), default: 0] < 5 }
            let text = kept.joined(separator: "\n")
            if !text.isEmpty { expected[d.id] = text }
        }
        var got: [String: String] = [:]
        for file in ["/out/kept/a/docs.jsonl", "/out/kept/b/docs.jsonl"] {
            let reader = try DocumentReader(path: dir + file)
            while let d = try reader.next() { got[d.id] = d.text }
        }
        #expect(got == expected)
        #expect(got["d4"] == "A paragraph about eatopic says something of its own, at length.")
        // "© 2024 Example Média … 190/191/192" are one line once digits are 0 and the accent and punctuation go.
        #expect(stats.dropped["empty-after-lines"] == 1)
        #expect(stats.documentsIn == 41 && stats.documentsIn == stats.documentsOut + stats.droppedTotal)
        #expect(job.mostRepeated.first?.documents == 41 && job.mostRepeated.first?.line.lowercased().hasPrefix("share this article") == true)
    }
}
