import Testing
import ThreshCore
import ThreshIO
@testable import ThreshFastText
import ThreshTestSupport

/// Thresh's fastText against fastText itself: models trained and predictions made by fasttext-wheel 0.9.2 and
/// fasttext-predict 0.9.2.4 (`scripts/make-lang-fixtures`).
@Suite struct FastTextTests {
    static let fixtures = TestPaths.fixtures + "/fasttext"

    /// Every label's probability for 60 held-out lines, for softmax, one-vs-all and hierarchical-softmax models and
    /// a quantized (product-quantized, qnorm) softmax model, all with word bigrams and character n-grams: the same
    /// labels in the same order, and probabilities within 1e-6.
    @Test(arguments: ["softmax", "ova", "hs", "softmax.ftz"])
    func predictionsMatchFastText(model name: String) throws {
        let model = try FastTextModel(path: Self.fixtures + "/" + (name.contains(".") ? name : name + ".bin"))
        var scratch = FastTextModel.Scratch()
        var lines = 0
        var worst = 0.0
        for row in try readJSONLines(Self.fixtures + "/predictions.jsonl") {
            let line = row["line"]!.stringValue!
            let expected = row[name]!.arrayValue!.map { ($0.arrayValue![0].stringValue!, $0.arrayValue![1].doubleValue!) }
            let got = model.predict(Array(line.utf8), k: model.labels.count, scratch: &scratch)
            // Labels whose probabilities tie may come in either order; compare as label → probability.
            #expect(got.count == expected.count, "\(name): \(line.prefix(40))")
            let byLabel = Dictionary(got.map { ($0.label, $0.probability) }, uniquingKeysWith: { a, _ in a })
            for (label, p) in expected {
                let q = try #require(byLabel[label], "\(name): \(label) missing")
                worst = max(worst, abs(p - q))
            }
            #expect(got.first?.label == expected.first?.0 || abs(got[0].probability - expected[0].1) < 1e-6, "\(name): \(line.prefix(40))")
            lines += 1
        }
        #expect(lines == 60)
        #expect(worst < 1e-6, "\(name): worst probability difference \(worst)")
    }

    /// lid.176.ftz (quantized, pruned, hierarchical softmax) on 300 multilingual lines: fasttext-predict's top 5,
    /// label for label, probabilities within 1e-6.
    @Test(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
    func lid176MatchesFastTextPredict() throws {
        let model = try FastTextModel(path: TestPaths.sharedData + "/models/fasttext-lid/lid.176.ftz")
        #expect(model.labels.count == 176 && model.labels.contains("en") && model.labels.contains("de"))
        var scratch = FastTextModel.Scratch()
        var lines = 0, sameLabels = 0
        var worst = 0.0
        for row in try readJSONLines(Self.fixtures + "/lid-predictions.jsonl") {
            let expected = row["top5"]!.arrayValue!.map { ($0.arrayValue![0].stringValue!, $0.arrayValue![1].doubleValue!) }
            let got = model.predict(Array(row["line"]!.stringValue!.utf8), k: 5, scratch: &scratch)
            lines += 1
            if got.map(\.label) == expected.map(\.0) {
                sameLabels += 1
                for (g, e) in zip(got, expected) { worst = max(worst, abs(g.probability - e.1)) }
            }
        }
        #expect(lines == 300)
        #expect(sameLabels == lines)
        #expect(worst < 1e-6, "worst probability difference \(worst)")
    }

    /// Training on one thread as fastText does: on the fixture's training lines with the fixture softmax model's
    /// options, Thresh's model (written as fastText's .bin, read back) predicts the held-out lines as fastText's own
    /// model does (the same top label on nearly all, probabilities close).
    @Test func trainingReproducesFastTextsModel() throws {
        let dir = makeTemporaryDirectory()
        var options = FastTextTrainingOptions()
        options.dimension = 10
        options.epochs = 3
        options.wordNgrams = 2
        options.minn = 2
        options.maxn = 4
        options.bucket = 2000
        options.seed = 7
        let examples = try FastTextTrainer.train(input: Self.fixtures + "/train.txt", output: dir + "/model.bin", options: options)
        #expect(examples > 200)
        let mine = try FastTextModel(path: dir + "/model.bin")
        #expect(mine.labels.sorted() == ["book", "web", "wiki"])
        var scratch = FastTextModel.Scratch()
        var lines = 0, sameTop = 0
        var worst = 0.0
        for row in try readJSONLines(Self.fixtures + "/predictions.jsonl") {
            let expected = row["softmax"]!.arrayValue!.map { ($0.arrayValue![0].stringValue!, $0.arrayValue![1].doubleValue!) }
            let got = mine.predict(Array(row["line"]!.stringValue!.utf8), k: 3, scratch: &scratch)
            lines += 1
            if got.first?.label == expected.first?.0 { sameTop += 1 }
            let byLabel = Dictionary(got.map { ($0.label, $0.probability) }, uniquingKeysWith: { a, _ in a })
            for (label, p) in expected { worst = max(worst, abs(p - (byLabel[label] ?? 0))) }
        }
        #expect(sameTop >= lines - 1, "\(sameTop) of \(lines) with fastText's top label")
        #expect(worst < 0.01, "worst probability difference \(worst)")
        // A file with no labelled line is an error naming it.
        try writeFile(dir + "/unlabelled.txt", Array("just text\nmore text\n".utf8))
        #expect(throws: ThreshError.self) { try FastTextTrainer.train(input: dir + "/unlabelled.txt", output: dir + "/x.bin", options: options) }
    }

    /// Quantizing (product quantization of the input matrix, norms apart): the .ftz reads back, and predicts the
    /// held-out lines as the dense model does.
    @Test func quantizedModelsPredictAsTheDenseOnes() throws {
        let dir = makeTemporaryDirectory()
        try FastTextQuantizer.quantize(path: Self.fixtures + "/softmax.bin", output: dir + "/softmax.ftz", dsub: 2, qnorm: true)
        let dense = try FastTextModel(path: Self.fixtures + "/softmax.bin"), quantized = try FastTextModel(path: dir + "/softmax.ftz")
        guard case .quantized = quantized.input else { Issue.record("not quantized"); return }
        var a = FastTextModel.Scratch(), b = FastTextModel.Scratch()
        var lines = 0, same = 0
        for row in try readJSONLines(Self.fixtures + "/predictions.jsonl") {
            let line = Array(row["line"]!.stringValue!.utf8)
            lines += 1
            if dense.predict(line, scratch: &a).first?.label == quantized.predict(line, scratch: &b).first?.label { same += 1 }
        }
        #expect(same >= lines * 95 / 100, "\(same) of \(lines)")
        #expect(Paths.size(of: dir + "/softmax.ftz") < Paths.size(of: Self.fixtures + "/softmax.bin") / 2)
        #expect(throws: ThreshError.self) { try FastTextQuantizer.quantize(path: dir + "/softmax.ftz", output: dir + "/again.ftz") }
    }

    @Test func badModelFilesAreErrorsNamingTheFile() throws {
        let dir = makeTemporaryDirectory()
        let good = try readFile(Self.fixtures + "/softmax.ftz")
        let cases: [(String, [UInt8], String)] = [
            ("notes.txt", Array("not a model at all, just some words".utf8), "not a fastText model"),
            ("tiny.bin", [1, 2], "not a fastText model"),
            ("truncated.ftz", Array(good.prefix(good.count / 2)), "truncated"),
            ("future.ftz", Array(good.prefix(4)) + [13, 0, 0, 0] + Array(good.dropFirst(8)), "version 13"),
            ("longer.ftz", good + [0], "bytes after its output matrix"),
        ]
        for (name, bytes, message) in cases {
            try writeFile(dir + "/" + name, bytes)
            do {
                _ = try FastTextModel(path: dir + "/" + name)
                Issue.record("\(name) loaded")
            } catch let error as ThreshError {
                #expect(error.code == .invalidModel && error.file == dir + "/" + name && error.message.contains(message), "\(error)")
            }
        }
    }

    /// The lang stage: attrs.lang, lang_score and lang_top; `keep` and `min-score` drop and count the rest; a
    /// document without text is dropped as no-text, never judged.
    @Test(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
    func languageStageRecordsKeepsAndCounts() throws {
        let model = try FastTextModel(path: TestPaths.sharedData + "/models/fasttext-lid/lid.176.ftz")
        var options = LanguageOptions()
        options.topK = 3
        options.keep = ["en", "de"]
        options.minimumScore = 0.5
        var stage = LanguageStage(model: model, options: options)
        var out: [Document] = []
        for (id, text) in [("en", "This is an English sentence about the weather,\nwritten on two lines."),
                           ("de", "Das ist ein deutscher Satz über das Wetter."), ("fr", "Ceci est une phrase en français.")] {
            try stage.process(Document(id: id, text: text)) { out.append($0) }
        }
        try stage.process(Document(fields: ["id": .string("no-text")])) { out.append($0) }
        #expect(out.map(\.id) == ["en", "de"])
        #expect(out[0].attrs["lang"] == .string("en") && (out[0].attrs["lang_score"]?.doubleValue ?? 0) > 0.5)
        #expect(out[0].attrs["lang_top"]?.arrayValue?.count == 3)
        #expect(stage.statistics.dropped["lang-not-kept"] == 1)
        #expect(stage.statistics.dropped["no-text"] == 1)
        #expect(stage.statistics.documentsIn == 4 && stage.statistics.documentsIn == stage.statistics.documentsOut + stage.statistics.droppedTotal)
        // Under min-score: dropped as lang-score.
        options.minimumScore = 0.9999999
        var strict = LanguageStage(model: model, options: options)
        try strict.process(Document(id: "en", text: "This is an English sentence about the weather.")) { _ in Issue.record("kept") }
        #expect(strict.statistics.dropped["lang-score"] == 1)
    }
}
