import Foundation
import Testing
import ThreshCore
import ThreshIO
@testable import ThreshShards
import ThreshTestSupport

@Suite(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
struct ShardTests {
    let vocabulary = TestPaths.sharedData + "/tokenizer/gpt2"

    /// Three sources of different sizes: documents of varied length, written here.
    func sources(_ dir: String) throws -> [MixSource] {
        var result: [MixSource] = []
        for (name, count, words) in [("big", 400, 120), ("medium", 120, 80), ("small", 30, 60)] {
            let lines = (0..<count).map { i in
                JSONWriter.string(.object(["id": .string("\(name)-\(i)"), "text": .string((0..<(words + i % 37)).map { "\(name)\($0 % 50) word\(i)" }.joined(separator: " "))]))
            }
            try writeFile(dir + "/\(name).jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
            result.append(MixSource(name: name, files: [dir + "/\(name).jsonl"], weight: name == "big" ? 0.6 : (name == "medium" ? 0.3 : 0.1)))
        }
        return result
    }

    @Test func realisedSharesAreTheWeightsWithinATenthOfAPercent() throws {
        let dir = makeTemporaryDirectory()
        var plan = MixPlan(sources: try sources(dir), budgetTokens: 250_000)
        plan.sequencesPerShard = 64
        let manifest = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/out").run()
        for s in try #require(manifest["sources"]?.arrayValue) {
            let o = s.objectValue!
            #expect(abs(o["realised_share"]!.doubleValue! - o["weight"]!.doubleValue!) < 0.001, "\(o["name"]!)")
        }
        // The small source is drawn for several epochs; the big one is subsampled.
        let epochs = Dictionary(uniqueKeysWithValues: manifest["sources"]!.arrayValue!.map { ($0.objectValue!["name"]!.stringValue!, $0.objectValue!["epochs"]!.doubleValue!) })
        #expect(epochs["small"]! > 2 && epochs["big"]! < 1)
        #expect(try ShardVerifier.verify(dir + "/out").isEmpty)
    }

    @Test func manifestDigestsAreKeyedByFileNameAndCheckedByVerify() throws {
        let dir = makeTemporaryDirectory()
        var plan = MixPlan(sources: try sources(dir), budgetTokens: 20_000)
        plan.sequencesPerShard = 4
        let manifest = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/out").run()
        let first = try #require(manifest["shards"]?.arrayValue?.first?.objectValue)
        let keys = Set((first["sha256"]?.objectValue ?? [:]).map(\.key))
        #expect(keys == ["shard-00000.bin", "shard-00000.idx", "shard-00000.jsonl.zst"], "\(keys)")
        for key in keys { #expect(FileManager.default.fileExists(atPath: dir + "/out/" + key)) }
        // A changed byte in a listed file is found by name.
        var bin = try readFile(dir + "/out/shard-00000.bin")
        bin[10] ^= 0xFF
        try writeFile(dir + "/out/shard-00000.bin", bin)
        #expect(try ShardVerifier.verify(dir + "/out").contains("shard-00000.bin: sha256 differs from the manifest"))
        // A manifest of the earlier layout (digests keyed "000000.bin") is named as such, not half-checked.
        var old = manifest
        old["version"] = .int(1)
        try writeFile(dir + "/out/manifest.json", Array(JSONWriter.string(.object(old)).utf8))
        #expect(try ShardVerifier.verify(dir + "/out").first?.contains("this build reads version \(ShardVerifier.manifestVersion)") == true)
    }

    @Test func textShardsHoldExactlyTheDocumentsOfTheirTokensWithTheirOrigins() throws {
        let dir = makeTemporaryDirectory()
        // Documents of about 30 to 200 tokens in sequences of 256, shards of 2 sequences: many documents cross a
        // boundary, and the last 200 tokens are a partial sequence whose documents are in no shard.
        let lines = (0..<24).map { i in
            JSONWriter.string(.object(["id": .string("doc-\(i)"), "url": .string("https://example.org/\(i)"),
                                       "text": .string((0..<(15 + 4 * i)).map { "w\($0 % 97)" }.joined(separator: " "))]))
        }
        try writeFile(dir + "/a.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
        var plan = MixPlan(sources: [MixSource(name: "a", files: [dir + "/a.jsonl"], weight: 1)], budgetTokens: 7 * 256 + 200)
        plan.sequenceLength = 256
        plan.sequencesPerShard = 2
        plan.allowEpochs = true
        let manifest = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/out").run()
        let shards = try #require(manifest["shards"]?.arrayValue).compactMap(\.objectValue)
        let drawn = manifest["sources"]!.arrayValue![0].objectValue!["documents_drawn"]!.intValue!
        let listed = shards.reduce(0) { $0 + $1["documents_started"]!.intValue! }
        let tail = try #require(manifest["dropped_tail_documents"]?.intValue)
        #expect(listed + tail == drawn && tail > 0, "listed \(listed), tail \(tail), drawn \(drawn)")
        var lineCount = 0
        for shard in shards {
            let reader = try DocumentReader(path: dir + "/out/" + shard["name"]!.stringValue! + ".jsonl.zst")
            while let d = try reader.next() {
                lineCount += 1
                #expect(d.id.hasPrefix("doc-") && d.url == "https://example.org/" + d.id.dropFirst(4) && d.source == "a", "\(d.id)")
            }
        }
        #expect(lineCount == listed)
        let tokenizer = try GPT2Tokenizer(path: vocabulary)
        #expect(try ShardVerifier.verify(dir + "/out", tokenizer: tokenizer) == [])
        // A text shard that loses a document, or whose text differs from its tokens, is found.
        let path = dir + "/out/shard-00001.jsonl.zst"
        var documents: [Document] = []
        let reader = try DocumentReader(path: path)
        while let d = try reader.next() { documents.append(d) }
        func rewrite(_ docs: [Document]) throws {
            let writer = try DocumentWriter(path: path)
            for d in docs { try writer.write(d) }
            try writer.close()
        }
        try rewrite(Array(documents.dropLast()))
        var problems = try ShardVerifier.verify(dir + "/out", tokenizer: tokenizer).joined(separator: "\n")
        #expect(problems.contains("shard-00001.jsonl.zst"), "\(problems)")
        var edited = documents
        edited[0].text = edited[0].text.replacingOccurrences(of: "w1 ", with: "w2 ")
        try rewrite(edited)
        problems = try ShardVerifier.verify(dir + "/out", tokenizer: tokenizer).joined(separator: "\n")
        #expect(problems.contains("does not tokenise") || problems.contains("tokenises to"), "\(problems)")
    }

    @Test func noDocumentRepeatsWithinAnEpochAndOrderDependsOnlyOnTheSeed() {
        var a = EpochStream(documents: 50, seed: 3, source: "s"), b = EpochStream(documents: 50, seed: 3, source: "s")
        let first = (0..<50).map { _ in a.next() }
        #expect(Set(first).count == 50)
        let second = (0..<50).map { _ in a.next() }
        #expect(Set(second).count == 50 && second != first)
        #expect((0..<50).map { _ in b.next() } == first)
        var c = EpochStream(documents: 50, seed: 4, source: "s")
        #expect((0..<50).map { _ in c.next() } != first)
    }

    @Test func outputsAreDeterministic() throws {
        let dir = makeTemporaryDirectory()
        var plan = MixPlan(sources: try sources(dir), budgetTokens: 200_000)
        plan.sequencesPerShard = 32
        plan.seed = 9
        try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/one").run()
        // Tokenising on three threads writes the same bytes as on one.
        let threaded = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/two")
        threaded.workers = 3
        try threaded.run()
        #expect(try readFile(dir + "/one/manifest.json") == readFile(dir + "/two/manifest.json"))
        #expect(try readFile(dir + "/one/shard-00000.bin") == readFile(dir + "/two/shard-00000.bin"))
    }

    /// Runs a Python script and returns the JSON object it prints (the failure message is its stderr).
    func runPython(_ python: String, _ arguments: [String]) throws -> JSONObject {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(arguments.joined(separator: " ")): \(errors.suffix(2000))")
        return try #require(try JSONParser.parse(String(decoding: data, as: UTF8.self)).objectValue)
    }

    /// An independent numpy reader, written from the format's description, reads the Megatron .bin/.idx: one entry
    /// per document, each ending in `<|endoftext|>` but for the shard's last (a document running into the next
    /// shard), none holding one inside; laid end to end they are the nanoGPT view of the .bin.
    @Test func megatronEntriesAreDocumentsReadBackWithNumpy() throws {
        let dir = makeTemporaryDirectory()
        var plan = MixPlan(sources: try sources(dir), budgetTokens: 150_000)
        plan.sequencesPerShard = 16
        plan.sequenceLength = 1024
        let manifest = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/out").run()
        #expect(manifest["megatron_entries"] == .string("document"))
        let shard = try #require(manifest["shards"]?.arrayValue?.first?.objectValue)
        let result = try runPython("python3", [TestPaths.fixtures + "/read_megatron.py", dir + "/out/shard-00000"])
        let entries = try #require(result["sequences"]?.intValue)
        #expect(entries == shard["megatron_entries"]?.intValue)
        #expect(entries > shard["sequences"]!.intValue! * 2, "documents are shorter than a sequence here")
        #expect(result["tokens"]?.intValue == shard["tokens"]?.intValue)
        #expect(result["doc_idx_is_range"] == .bool(true))
        #expect(result["nanogpt_equal"] == .bool(true))
        #expect(result["entries_with_inner_eot"]?.intValue == 0)
        #expect(result["entries_ending_in_eot"]?.intValue == entries - 1)
        #expect(result["eot_count"]?.intValue == entries - 1)
        #expect(try ShardVerifier.verify(dir + "/out").isEmpty)
        // An .idx that is not the documents' (here: the per-sequence one) is caught.
        let sequences = shard["sequences"]!.intValue!
        try writeFile(dir + "/out/shard-00000.idx", MegatronIndex.bytes(entryLengths: Array(repeating: 1024, count: sequences)))
        #expect(try ShardVerifier.verify(dir + "/out").contains { $0.contains("shard-00000.idx: not the index of the .bin's") })
    }

    /// `megatron-entries = "sequence"` keeps the pre-packed layout: one entry per sequence.
    @Test func megatronEntriesCanBeSequences() throws {
        let dir = makeTemporaryDirectory()
        var plan = MixPlan(sources: try sources(dir), budgetTokens: 150_000)
        plan.sequencesPerShard = 16
        plan.sequenceLength = 1024
        plan.megatronEntries = .sequence
        let manifest = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/out").run()
        #expect(manifest["megatron_entries"] == .string("sequence"))
        let result = try runPython("python3", [TestPaths.fixtures + "/read_megatron.py", dir + "/out/shard-00000"])
        #expect(result["sequences"]?.intValue == 16)
        #expect(result["sizes"] == .array([.int(1024)]))
        #expect(result["nanogpt_equal"] == .bool(true))
        #expect(try ShardVerifier.verify(dir + "/out").isEmpty)
    }

    /// A remainder under half a shard joins the last full shard (Megatron cannot split a tiny dataset); a larger
    /// one is its own shard.
    @Test func aShortRemainderJoinsTheLastFullShard() throws {
        let dir = makeTemporaryDirectory()
        for (sequences, expected) in [(4 * 16 + 3, [16, 16, 16, 19]), (4 * 16 + 8, [16, 16, 16, 16, 8])] {
            var plan = MixPlan(sources: try sources(dir), budgetTokens: sequences * 512 + 100)
            plan.sequencesPerShard = 16
            plan.sequenceLength = 512
            plan.textShards = false
            let manifest = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/out\(sequences)").run()
            #expect(manifest["shards"]?.arrayValue?.map { $0.objectValue!["sequences"]!.intValue! } == expected)
            #expect(manifest["dropped_tail_tokens"]?.intValue == 100)
            #expect(try ShardVerifier.verify(dir + "/out\(sequences)").isEmpty)
        }
    }

    /// The trainers' own loaders on Thresh's shards: megatron-core's IndexedDataset, GPTDataset and
    /// BlendedMegatronDatasetBuilder (split 90,10,0 and a blend over every shard; every sample checked against the
    /// entries it names, positions reset at every document boundary), in both layouts; and Hugging Face datasets
    /// on the text shards, row for row what Thresh's reader reads. The environment comes from
    /// `scripts/venv trainers` (scripts/test makes it); without it the test is skipped, but under CI it fails.
    @Test(.enabled(if: TestPaths.trainersPython != nil || TestPaths.isCI, "THRESH_TRAINERS_PYTHON is not set (scripts/test sets it)"))
    func megatronAndHuggingFaceReadTheShards() throws {
        let python = try #require(TestPaths.trainersPython, "THRESH_TRAINERS_PYTHON is not set: run scripts/test, which makes the environment")
        let dir = makeTemporaryDirectory()
        var plan = MixPlan(sources: try sources(dir), budgetTokens: 200_000)
        plan.sequencesPerShard = 40
        plan.sequenceLength = 1024
        let manifest = try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/out").run()
        let shards = try #require(manifest["shards"]?.arrayValue)
        // 195 sequences: four shards of 40 and one of 35 (over half a shard, so a shard of its own).
        #expect(shards.count == 5)
        let result = try runPython(python, [TestPaths.fixtures + "/trainers_read_shards.py", "megatron", dir + "/out", "90,10,0", dir + "/cache"])
        #expect(result["shards"]?.intValue == shards.count)
        #expect(result["entries"]?.intValue == shards.reduce(0) { $0 + $1.objectValue!["megatron_entries"]!.intValue! })
        #expect(result["splits_built"] == .array([.bool(true), .bool(true), .bool(false)]))
        #expect(result["samples"]!.intValue! >= 190)
        #expect(result["blended_samples"]!.intValue! >= 190)
        // Every boundary inside a sample restarts positions, but where a document's head runs into the next shard.
        let boundaries = try #require(result["boundaries"]?.intValue)
        #expect(boundaries > 100)
        #expect(result["resets"]!.intValue! + result["head_joins"]!.intValue! == boundaries)
        #expect(result["head_joins"]!.intValue! <= shards.count)

        // The per-sequence layout: each entry one sequence, read and blended the same way.
        plan.megatronEntries = .sequence
        try Sharder(plan: plan, vocabulary: vocabulary, output: dir + "/packed").run()
        let packed = try runPython(python, [TestPaths.fixtures + "/trainers_read_shards.py", "megatron", dir + "/packed", "90,10,0", dir + "/cache-packed"])
        #expect(packed["entries"]?.intValue == 195)

        // Hugging Face datasets on the text shards: the rows Thresh's reader reads, in order.
        let hf = try runPython(python, [TestPaths.fixtures + "/trainers_read_shards.py", "hf", dir + "/out"])
        var digest = SHA256()
        var rows = 0
        for n in shards.indices {
            let reader = try DocumentReader(path: dir + "/out/shard-\(String(format6(n))).jsonl.zst")
            while let d = try reader.next() {
                let bytes = Array(d.id.utf8) + [0] + Array(d.text.utf8) + [0]
                bytes.withUnsafeBytes { digest.update($0) }
                rows += 1
            }
        }
        #expect(hf["rows"]?.intValue == rows)
        #expect(hf["digest"]?.stringValue == hexString(digest.finalize()))
        #expect(hf["columns"] == .array(["attrs", "id", "source", "text", "url"].map { .string($0) }))
    }

    @Test func mixFileErrorsNameFileLineAndKey() throws {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/mix.toml", Array("budget-tokens = 4096\n[[source]]\nname = \"a\"\npath = \"nowhere\"\nweight = -1\n".utf8))
        do {
            _ = try MixPlan.load(dir + "/mix.toml")
            Issue.record("expected an error")
        } catch let e as ThreshError {
            #expect(e.file == dir + "/mix.toml" && e.line == 5 && e.message.contains("source[0].weight"), "\(e)")
        }
    }

    /// A source folder is read recursively, with every JSONL spelling; other files are left out and named.
    @Test func sourceFoldersAreReadRecursivelyAndSkippedFilesNamed() throws {
        let dir = makeTemporaryDirectory()
        try Paths.makeDirectories(dir + "/docs/sub/deeper")
        let line = Array("{\"id\":\"x\",\"text\":\"words\"}\n".utf8)
        for name in ["a.jsonl", "B.JSONL", "sub/c.json", "sub/deeper/d.ndjson", "sub/e.jsonl.zst"] {
            if name.hasSuffix(".zst") {
                let out = try DocumentWriter(path: dir + "/docs/" + name)
                try out.write(Document(id: "z", text: "words"))
                try out.close()
            } else {
                try writeFile(dir + "/docs/" + name, line)
            }
        }
        try writeFile(dir + "/docs/README.md", Array("notes".utf8))
        try writeFile(dir + "/mix.toml", Array("budget-tokens = 4096\n[[source]]\nname = \"a\"\npath = \"docs\"\nweight = 1\n".utf8))
        let plan = try MixPlan.load(dir + "/mix.toml")
        #expect(plan.sources[0].files.map { String($0.dropFirst(dir.count + 6)) }.sorted()
                == ["B.JSONL", "a.jsonl", "sub/c.json", "sub/deeper/d.ndjson", "sub/e.jsonl.zst"])
        #expect(plan.skippedFiles == [dir + "/docs/README.md"])
    }
}
