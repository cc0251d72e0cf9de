import ArgumentParser
import Dispatch
import Foundation
import Synchronization
import ThreshCore
import ThreshIO
import ThreshWARC
import ThreshQuality
import ThreshShards
import ThreshFastText
import ThreshFilters

/// `thresh bench`: throughput figures in the same JSON shape as the reference tools' benchmarks, so a
/// script can run both in one go and print ratios (see scripts/bench-warc).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput (JSON lines on stdout; compare with scripts/bench-*).",
        subcommands: [BenchWarc.self, BenchJSONL.self, BenchScore.self, BenchTokenize.self, BenchDigest.self, BenchCharset.self, BenchLang.self, BenchFilter.self])
}

struct BenchWarc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warc",
        abstract: "Iterate responses with HTTP parsed and payload read (as FastWARC's benchmark), and produce documents.")

    @Argument(help: "Archive files; with --threads, files are spread over threads.")
    var inputs: [String]

    @Option(name: .customLong("repeat"), help: "Passes over the input.")
    var passes: Int = 1

    @Option(help: "Threads for the documents measurement (one file per task).")
    var threads: Int = 1

    @Option(help: "What to measure: iterate (responses + payload), documents (thresh warc without output), or both.")
    var mode: String = "both"


    @OptionGroup var summary: SummaryArguments

    func run() throws {
        var inputBytes: Int64 = 0
        for input in inputs {
            var info = stat()
            if stat(input, &info) == 0 { inputBytes += Int64(info.st_size) }
        }
        if mode == "iterate" || mode == "both" {
            let start = monotonicSeconds()
            var responses = 0
            var payloadBytes = 0
            for _ in 0..<passes {
                for input in inputs {
                    let reader = try WARCReader(path: input)
                    while let record = try reader.next() {
                        guard record.type == "response" else { continue }
                        guard let block = try reader.readBlock() else { continue }
                        if let head = HTTPHead.parse(block) { payloadBytes += block.count - head.length } else { payloadBytes += block.count }
                        responses += 1
                    }
                }
            }
            let seconds = monotonicSeconds() - start
            printJSON(["tool": "thresh", "measure": "iterate", "responses": "\(responses)", "payload_bytes": "\(payloadBytes)",
                       "seconds": format3(seconds), "responses_per_s": format1(Double(responses) / seconds),
                       "input_mb_per_s": format1(Double(inputBytes * Int64(passes)) / seconds / 1e6)])
        }
        if mode == "documents" || mode == "both" {
            let tasks = (0..<passes).flatMap { _ in inputs }
            let totals = Mutex<(documents: Int, textBytes: Int64)>((0, 0))
            let next = Atomic<Int>(0)
            let start = monotonicSeconds()
            let workers = max(1, threads)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let i = next.add(1, ordering: .relaxed).oldValue
                    guard i < tasks.count else { break }
                    let ingest = WARCIngest()
                    var documents = 0
                    var bytes: Int64 = 0
                    var line: [UInt8] = []
                    try? ingest.process(path: tasks[i]) { document in
                        line.removeAll(keepingCapacity: true)
                        document.write(to: &line)  // serialised as the command would, not written
                        documents += 1
                        bytes += Int64(line.count)
                    }
                    totals.withLock { $0.documents += documents; $0.textBytes += bytes }
                }
            }
            let seconds = monotonicSeconds() - start
            let (documents, jsonBytes) = totals.withLock { ($0.documents, $0.textBytes) }
            printJSON(["tool": "thresh", "measure": "documents", "threads": "\(workers)", "documents": "\(documents)",
                       "jsonl_bytes": "\(jsonBytes)", "seconds": format3(seconds),
                       "documents_per_s": format1(Double(documents) / seconds),
                       "input_mb_per_s": format1(Double(inputBytes * Int64(passes)) / seconds / 1e6)])
        }
        try BenchResults.shared.write(to: summary.stats)
    }
}

struct BenchJSONL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonl",
        abstract: "Parse and serialise JSONL documents with Thresh's codec and with Foundation's JSONSerialization.")

    @Argument(help: "A JSONL file (plain, .gz or .zst).")
    var input: String

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        var lines: [[UInt8]] = []
        let reader = LineReader(try DecompressingReader(path: input))
        while let line = try reader.nextLine({ Array($0) }) { if !line.isEmpty { lines.append(line) } }
        let bytes = lines.reduce(0) { $0 + $1.count }

        var start = monotonicSeconds()
        var out: [UInt8] = []
        for line in lines {
            let document = try line.withUnsafeBytes { try Document.parse($0) }
            out.removeAll(keepingCapacity: true)
            document.write(to: &out)
        }
        let threshSeconds = monotonicSeconds() - start

        start = monotonicSeconds()
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line))
            _ = try JSONSerialization.data(withJSONObject: object)
        }
        let foundationSeconds = monotonicSeconds() - start
        printJSON(["documents": "\(lines.count)", "mb": format1(Double(bytes) / 1e6),
                   "thresh_mb_per_s": format1(Double(bytes) / threshSeconds / 1e6),
                   "foundation_mb_per_s": format1(Double(bytes) / foundationSeconds / 1e6),
                   "ratio": format1(foundationSeconds / threshSeconds)])
        try BenchResults.shared.write(to: summary.stats)
    }
}

struct BenchScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Quality scoring throughput (Tokenizer + HashingTF + dot product) on documents held in memory, one thread.")

    @Option(help: "The model file.")
    var model: String

    @Argument(help: "JSONL files whose texts are scored.")
    var inputs: [String]

    @Option(name: .customLong("repeat"), help: "Passes over the texts.")
    var passes: Int = 3

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        let scorer = QualityScorer(model: try loadQualityModel(model))
        var texts: [String] = []
        for input in inputs {
            let reader = try DocumentReader(path: input)
            while let d = try reader.next() { texts.append(d.text) }
        }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let ascii = texts.reduce(0) { $0 + ($1.utf8.allSatisfy { $0 < 0x80 } ? $1.utf8.count : 0) }
        var sink = 0.0
        let start = monotonicSeconds()
        for _ in 0..<passes { for t in texts { sink += scorer.score(t) } }
        let seconds = monotonicSeconds() - start
        printJSON(["tool": "thresh", "documents": "\(texts.count)", "mb": format1(Double(bytes) / 1e6),
                   "ascii_share": format3(Double(ascii) / Double(max(bytes, 1))),
                   "mb_per_s": format1(Double(bytes * passes) / seconds / 1e6), "checksum": format3(sink)])
        try BenchResults.shared.write(to: summary.stats)
    }
}

struct BenchTokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "GPT-2 BPE throughput on documents held in memory (one thread, or several over the documents).")

    @Option(help: "The GPT-2 vocabulary directory or file (default: found as 'thresh tokenize' finds it).")
    var vocabulary: String?

    @Argument(help: "JSONL files whose texts are tokenised.")
    var inputs: [String]

    @Option(help: "Threads.")
    var threads: Int = 1

    @Option(name: .customLong("repeat"), help: "Passes over the texts.")
    var passes: Int = 3

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        var texts: [String] = []
        for input in inputs {
            let reader = try DocumentReader(path: input)
            while let d = try reader.next() { texts.append(d.text) }
        }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let vocabulary = try VocabularyLocator.locate(explicit: vocabulary)
        let tokenizers = try (0..<max(1, threads)).map { _ in try GPT2Tokenizer(path: vocabulary) }
        final class Box: @unchecked Sendable { var tokenizers: [GPT2Tokenizer] = []; var texts: [String] = [] }
        let box = Box()
        box.tokenizers = tokenizers
        box.texts = texts
        let counts = Mutex<Int>(0)
        let start = monotonicSeconds()
        DispatchQueue.concurrentPerform(iterations: max(1, threads)) { t in
            var n = 0
            for _ in 0..<passes {
                for (i, text) in box.texts.enumerated() where i % max(1, threads) == t { n += box.tokenizers[t].count(text) }
            }
            counts.withLock { $0 += n }
        }
        let seconds = monotonicSeconds() - start
        printJSON(["tool": "thresh", "threads": "\(threads)", "documents": "\(texts.count)", "mb": format1(Double(bytes) / 1e6),
                   "tokens": "\(counts.withLock { $0 } / passes)", "mb_per_s": format1(Double(bytes * passes) / seconds / 1e6)])
        try BenchResults.shared.write(to: summary.stats)
    }
}

struct BenchLang: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lang",
        abstract: "fastText prediction throughput (thresh lang's, newlines made spaces) on documents held in memory, one thread or several.")

    @Option(help: "The fastText model (default: found as 'thresh lang' finds it).")
    var model: String?

    @Argument(help: "JSONL files whose texts are classified.")
    var inputs: [String]

    @Option(help: "Labels per document.")
    var k: Int = 1

    @Option(help: "Threads (documents are split into contiguous parts).")
    var threads: Int = 1

    @Option(name: .customLong("repeat"), help: "Passes over the documents.")
    var passes: Int = 3

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let fastText = try FastTextModel(path: try LanguageModelLocator.locate(explicit: model))
            var texts: [[UInt8]] = []
            for input in inputs {
                let reader = try DocumentReader(path: input)
                while let d = try reader.next() { texts.append(d.text.utf8.map { $0 == 0x0A ? 0x20 : $0 }) }
            }
            let bytes = texts.reduce(0) { $0 + $1.count }
            let workers = max(1, threads), k = max(1, self.k)
            let checksum = Mutex<Double>(0)
            let start = monotonicSeconds()
            let shared = texts
            for _ in 0..<max(1, passes) {
                DispatchQueue.concurrentPerform(iterations: workers) { part in
                    var scratch = FastTextModel.Scratch()
                    var sum = 0.0
                    for i in (shared.count * part / workers)..<(shared.count * (part + 1) / workers) {
                        sum += fastText.predict(shared[i], k: k, scratch: &scratch).first?.probability ?? 0
                    }
                    checksum.withLock { $0 += sum }
                }
            }
            let seconds = monotonicSeconds() - start
            printJSON(["tool": "thresh", "threads": "\(workers)", "documents": "\(texts.count)", "mb": format1(Double(bytes) / 1e6),
                       "documents_per_s": format1(Double(texts.count * max(1, passes)) / seconds),
                       "mb_per_s": format1(Double(bytes * max(1, passes)) / seconds / 1e6), "checksum": format3(checksum.withLock { $0 })])
            try BenchResults.shared.write(to: summary.stats)
        }
    }
}

struct BenchCharset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charset",
        abstract: "Charset detection's share of `thresh warc` time: documents made from the archive with detection and with none (alternating), then the decision alone (BOM, labels, detection) on every HTML response's decoded payload.")

    @Argument(help: "An archive.")
    var input: String

    @Option(name: .customLong("repeat"), help: "Passes of each ingest (the fastest is kept).")
    var passes: Int = 3

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        // The whole ingest, as `thresh warc` runs it (documents built, not written): with detection, and with none
        // (declarations trusted, UTF-8 when valid, else windows-1252), alternating; the fastest of each is kept.
        var documents = 0
        var fastest: [CharsetTranscoder.CharsetDetector: Double] = [:]
        for _ in 0..<max(1, passes) {
            for kind in [CharsetTranscoder.CharsetDetector.none, .uchardet] {
                var options = WARCIngestOptions()
                options.charsetDetector = kind
                let ingest = WARCIngest(options: options)
                documents = 0
                let start = monotonicSeconds()
                try ingest.process(path: input) { _ in documents += 1 }
                fastest[kind] = min(fastest[kind] ?? .infinity, monotonicSeconds() - start)
            }
        }
        let ingestSeconds = fastest[.uchardet]!, withoutSeconds = fastest[.none]!
        var start = 0.0
        // The decision alone, on the same payloads (reading and HTTP decoding are not timed).
        let reader = try WARCReader(path: input)
        let charsets = CharsetTranscoder()
        var decideSeconds = 0.0
        var decided = 0
        var sources: [String: Int] = [:]
        while let record = try reader.next() {
            guard record.type == "response", let block = try reader.readBlock(), let head = HTTPHead.parse(block),
                  head.mimeType == "text/html" else { continue }
            let payload = UnsafeRawBufferPointer(rebasing: block[head.length...])
            let decoded = HTTPBody.decode(payload, head: head, limit: 64 << 20)
            func time(_ bytes: UnsafeRawBufferPointer) {
                start = monotonicSeconds()
                let decision = charsets.decide(bytes, httpCharset: head.charsetParameter, isHTML: true)
                decideSeconds += monotonicSeconds() - start
                sources[decision.source, default: 0] += 1
            }
            if let bytes = decoded.bytes { bytes.withUnsafeBytes(time) } else { time(payload) }
            decided += 1
        }
        printJSON(["tool": "thresh", "documents": "\(documents)", "ingest_seconds": format3(ingestSeconds),
                   "ingest_seconds_without_detection": format3(withoutSeconds),
                   "detection_share": format3((ingestSeconds - withoutSeconds) / max(ingestSeconds, 1e-9)),
                   "pages_decided": "\(decided)", "decide_seconds": format3(decideSeconds),
                   "decisions_share": format3(decideSeconds / max(ingestSeconds, 1e-9)),
                   "sources": sources.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")])
        try BenchResults.shared.write(to: summary.stats)
    }
}

struct BenchDigest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "SHA-1 and SHA-256 throughput (the WARC digests' and the shard manifests' hashes) over a file read once into memory.")

    @Argument(help: "The file to hash.")
    var input: String

    @Option(name: .customLong("repeat"), help: "Passes over the file.")
    var passes: Int = 3

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        let bytes = try readEntireRawFile(input)
        for algorithm in ["sha1", "sha256"] {
            var digest: [UInt8] = []
            let start = monotonicSeconds()
            for _ in 0..<max(1, passes) {
                // Streamed in 64 KiB pieces, as WARC blocks and shard files are hashed.
                bytes.withUnsafeBytes { all in
                    var sha1 = SHA1(), sha256 = SHA256()
                    var offset = 0
                    while offset < all.count {
                        let piece = UnsafeRawBufferPointer(rebasing: all[offset..<min(all.count, offset + 65536)])
                        if algorithm == "sha1" { sha1.update(piece) } else { sha256.update(piece) }
                        offset += piece.count
                    }
                    digest = algorithm == "sha1" ? sha1.finalize() : sha256.finalize()
                }
            }
            let seconds = monotonicSeconds() - start
            printJSON(["tool": "thresh", "algorithm": algorithm, "mb": format1(Double(bytes.count) / 1e6),
                       "mb_per_s": format1(Double(bytes.count * max(1, passes)) / seconds / 1e6), "digest": hexString(digest)])
        }
        try BenchResults.shared.write(to: summary.stats)
    }
}

func printJSON(_ pairs: KeyValuePairs<String, String>) {
    var o = JSONObject()
    for (k, v) in pairs {
        if let _ = Double(v), !v.isEmpty { o[k] = .number(v) } else { o[k] = .string(v) }
    }
    print(JSONWriter.string(.object(o)))
    BenchResults.shared.append(o)
}

/// The measurements a bench command printed, for `--stats FILE` (a bench's statistics are its measurements).
/// `@unchecked Sendable`: guarded by its mutex.
final class BenchResults: @unchecked Sendable {
    static let shared = BenchResults()
    private let results = Mutex<[JSONValue]>([])

    func append(_ o: JSONObject) { results.withLock { $0.append(.object(o)) } }

    /// Writes `{"measurements": [...]}` to `path`, when given.
    func write(to path: String?) throws {
        guard let path else { return }
        let out = try OutputFile(path: path, compression: .none)
        try out.write(JSONWriter.string(.object(["measurements": .array(results.withLock { $0 })])) + "\n")
        try out.close()
    }
}

/// `thresh bench filter`: the filter rules on documents held in memory, one thread, nothing written — the loop
/// datatrove's filters are timed in (scripts/bench-filters).
struct BenchFilter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter rules' throughput on documents held in memory (one thread; the documents are read first and nothing is written).")

    @Argument(parsing: .allUnrecognized, help: "JSONL files and thresh filter's options (--rules …).")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let (values, inputs) = try FilterOptions.schema.parse(arguments: arguments)
            try FilterOptions.validate(values)
            let options = try FilterOptions(values)
            let loadStart = monotonicSeconds()
            let rules = try FilterRules(options)
            let loadSeconds = monotonicSeconds() - loadStart
            var documents: [Document] = []
            for input in inputs {
                let reader = try DocumentReader(path: input)
                while let d = try reader.next() { documents.append(d) }
            }
            var stage = FilterStage(rules: rules, options: options)
            var kept = 0
            let start = monotonicSeconds()
            for d in documents { try stage.process(d) { _ in kept += 1 } }
            let seconds = monotonicSeconds() - start
            printJSON(["tool": "thresh", "rules": options.rules.joined(separator: ","), "documents": "\(documents.count)", "kept": "\(kept)",
                       "seconds": format3(seconds), "lists_seconds": format3(loadSeconds),
                       "documents_per_s": format1(Double(documents.count) / max(seconds, 1e-9))])
        }
    }
}
