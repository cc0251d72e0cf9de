#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO
import Foundation

/// Options of `thresh dedup lines` (CCNet's paragraph dedup).
public struct LineDedupOptions: Sendable {
    /// Lines occurring in at least this many documents are removed from every document.
    public var minimumCount = 2
    /// Documents left with fewer characters than this are dropped (`empty-after-lines`).
    public var minimumLength = 1
    /// Most repeated lines kept for the report.
    public var reportLines = 50
    /// Records held in memory before a sorted run is written to disk.
    public var runRecords = 4 << 20

    public init() {}

    public static let schema = OptionsSchema("dedup-lines", [
        OptionSpec("min-count", .integer(min: 2, max: 1 << 40), default: .integer(2), help: "lines in at least this many documents are removed"),
        OptionSpec("min-length", .integer(min: 0, max: 1 << 30), default: .integer(1), help: "documents left shorter (characters) are dropped as empty-after-lines"),
        OptionSpec("report-lines", .integer(min: 0, max: 100_000), default: .integer(50), help: "most repeated lines listed in the report"),
    ])

    public init(_ values: OptionValues) {
        self.init()
        minimumCount = values.int("min-count")
        minimumLength = values.int("min-length")
        reportLines = values.int("report-lines")
    }
}

/// Removes lines repeated across a corpus, as CCNet removes repeated paragraphs: each line's hash (after CCNet's
/// normalisation: lower-cased, accents stripped, digits made 0, punctuation removed, blanks collapsed) is counted
/// once per document; lines in at least `minimumCount` documents are removed from every document. Two passes over
/// the inputs, with the counting done on disk (sorted runs of (line hash, document), merged): memory holds one run
/// buffer (16 bytes a record) and, for the second pass, the repeated lines' hashes (16 bytes each).
public final class LineDedupJob {
    public let inputs: [String]
    public let output: String
    public let options: LineDedupOptions
    public private(set) var statistics = StageStatistics(stage: "dedup lines")
    /// The most repeated lines: count of documents, and the line as first seen.
    public private(set) var mostRepeated: [(documents: Int, line: String)] = []
    public var progress: ((String) -> Void)?

    public init(inputs: [String], output: String, options: LineDedupOptions) {
        self.inputs = inputs
        self.output = output
        self.options = options
    }

    /// Where each input's kept documents go: `kept/` and the input's path below the inputs' common folder, so
    /// inputs with one file name never collide.
    public var keptPaths: [String] {
        Paths.distinctRelativeNames(inputs).map { output + "/kept/" + $0 }
    }

    /// CCNet's `normalize_line`: lower-cased, accents stripped, digits made 0, punctuation removed, blanks collapsed.
    static func normalized(_ line: Substring) -> [UInt8] {
        var out: [UInt8] = []
        var pendingSpace = false
        // Canonical decomposition (NFD) puts accents apart as combining marks, which are then left out.
        for scalar in line.lowercased().decomposedStringWithCanonicalMapping.unicodeScalars {
            let properties = scalar.properties
            if properties.canonicalCombiningClass != .notReordered { continue }  // accents
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: continue
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
                 .finalPunctuation, .otherPunctuation: continue
            default: break
            }
            if properties.isWhitespace { pendingSpace = !out.isEmpty; continue }
            if pendingSpace { out.append(0x20); pendingSpace = false }
            if properties.numericType == .decimal { out.append(0x30); continue }
            UTF8.encode(scalar) { out.append($0) }
        }
        return out
    }

    static func lineHash(_ line: Substring) -> UInt64? {
        let n = normalized(line)
        return n.isEmpty ? nil : n.withUnsafeBytes { XXH64.hash($0) }
    }

    /// Runs both passes; returns the statistics.
    @discardableResult
    public func run() throws -> StageStatistics {
        let started = monotonicSeconds()
        var seenInputs = Set<String>()
        for input in inputs where !seenInputs.insert(Paths.absolute(input)).inserted {
            throw ThreshError(.usage, "dedup lines: the input is given twice", file: input)
        }
        let work = output + "/work"
        // Runs left by an interrupted run are not reused: the counting starts afresh.
        try Paths.removeTree(work)
        try Paths.makeDirectories(work)
        // Pass 1: (line hash, document) once per document, sorted on disk.
        var runs = RunWriter(directory: work, prefix: "lines", partitions: 1, limit: options.runRecords)
        var document: UInt64 = 0
        for input in inputs {
            let reader = try DocumentReader(path: input)
            while let d = try reader.next() {
                var seen = Set<UInt64>()
                for line in d.text.split(separator: "\n", omittingEmptySubsequences: true) {
                    if let h = Self.lineHash(line), seen.insert(h).inserted { try runs.append(partition: 0, key: h, value: document) }
                }
                document += 1
                if document % 10_000 == 0 { progress?("lines: counting, \(document) documents") }
            }
        }
        try runs.finish()
        // Documents per line hash; those at or above the minimum are repeated.
        var repeated: [UInt64] = []
        var top: [(count: Int, hash: UInt64)] = []
        var current: UInt64?
        var count = 0
        func close() {
            guard let h = current else { return }
            if count >= options.minimumCount { repeated.append(h) }
            if options.reportLines > 0 {
                top.append((count, h))
                if top.count > options.reportLines * 4 { top.sort { $0.count > $1.count || ($0.count == $1.count && $0.hash < $1.hash) }; top.removeLast(top.count - options.reportLines) }
            }
        }
        try RunWriter.merge(directory: work, prefix: "lines", partition: 0) { key, _ in
            if key != current { close(); current = key; count = 0 }
            count += 1
        }
        close()
        top.sort { $0.count > $1.count || ($0.count == $1.count && $0.hash < $1.hash) }
        top = Array(top.prefix(options.reportLines)).filter { $0.count >= options.minimumCount }
        let repeatedSet = HashSet64(repeated)
        var examples: [UInt64: String] = [:]
        let wanted = Set(top.map(\.hash))
        statistics.count("repeated-lines", repeated.count)
        // Pass 2: every document without its repeated lines, into kept/ under each input's path below the inputs'
        // common folder (inputs with one file name never collide).
        for (input, target) in zip(inputs, keptPaths) {
            try Paths.makeDirectories(Paths.directory(of: target))
            let reader = try DocumentReader(path: input)
            let writer = try DocumentWriter(path: target)
            while let d = try reader.next() {
                statistics.documentsIn += 1
                statistics.bytesIn += Int64(d.text.utf8.count)
                var keptLines: [Substring] = []
                var removed = 0
                for line in d.text.split(separator: "\n", omittingEmptySubsequences: false) {
                    if let h = Self.lineHash(line), repeatedSet.contains(h) {
                        removed += 1
                        statistics.count("bytes-removed", line.utf8.count + 1)
                        if wanted.contains(h), examples[h] == nil { examples[h] = String(line) }
                        continue
                    }
                    keptLines.append(line)
                }
                statistics.count("lines-removed", removed)
                var out = d
                if removed > 0 {
                    out.text = keptLines.joined(separator: "\n").trimmingBlankLines()
                    var attrs = out.attrs
                    attrs["lines_removed"] = .int(removed)
                    out.attrs = attrs
                }
                if out.text.count < max(options.minimumLength, 1) || out.text.allSatisfy(\.isWhitespace) {
                    statistics.drop("empty-after-lines")
                    continue
                }
                statistics.documentsOut += 1
                statistics.bytesOut += Int64(out.text.utf8.count)
                try writer.write(out)
            }
            try writer.close()
        }
        mostRepeated = top.map { ($0.count, examples[$0.hash] ?? "") }
        statistics.seconds = monotonicSeconds() - started
        let report = JSONObject([
            ("repeated_lines", .int(repeated.count)),
            ("most_repeated", .array(mostRepeated.map { .object(["documents": .int($0.documents), "line": .string($0.line)]) })),
        ])
        let file = try OutputFile(path: output + "/lines-report.json", compression: .none)
        try file.write(JSONWriter.string(.object(report)) + "\n")
        try file.close()
        try Paths.removeTree(work)
        return statistics
    }
}

extension String {
    /// Without blank lines at the start and end.
    fileprivate func trimmingBlankLines() -> String {
        var lines = split(separator: "\n", omittingEmptySubsequences: false)
        while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

}
