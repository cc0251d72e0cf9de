import ArgumentParser
import ThreshCore
import ThreshIO

/// `thresh text`: plain-text files (books, corpora) to documents.
struct Text: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn plain-text files into documents, cut at blank lines into pieces of about --chunk characters.")

    @Argument(help: "Text files (plain, .gz or .zst; '-' is stdin).")
    var inputs: [String]

    @Option(help: "Target document size in characters (0: one document per file).")
    var chunk: Int = 4000

    @Option(help: "The 'source' field (default: the file's name).")
    var source: String?

    @OptionGroup var outputArguments: OutputArguments

    var options: StageOptions { outputArguments.options }

    func run() throws {
        try runReportingErrors {
            var stats = StageStatistics(stage: "text")
            let writer = try DocumentWriter(path: options.output)
            let started = monotonicSeconds()
            for input in inputs {
                let name = String(input.split(separator: "/").last ?? Substring(input))
                let lines = LineReader(try DecompressingReader(path: input))
                var piece: [String] = []
                var size = 0
                var n = 0
                func emit() throws {
                    let text = piece.joined(separator: "\n").trimmingNewlines()
                    piece.removeAll()
                    size = 0
                    guard !text.isEmpty else { return }
                    try writer.write(Document(id: "\(name)#\(n)", source: source ?? name, text: text,
                                              meta: ["file": .string(input), "piece": .int(n)]))
                    n += 1
                    stats.documentsOut += 1
                }
                while let line = try lines.nextLine({ String(decoding: $0, as: UTF8.self) }) {
                    stats.bytesIn += Int64(line.utf8.count + 1)
                    if chunk > 0 && line.allSatisfy({ $0 == " " || $0 == "\t" }) && size >= chunk { try emit(); continue }
                    piece.append(line)
                    size += line.count + 1
                }
                try emit()
                stats.documentsIn += 1
            }
            try writer.close()
            stats.bytesOut = writer.bytesWritten
            stats.seconds = monotonicSeconds() - started
            try finishStatistics([stats], options: options)
        }
    }
}

extension String {
    func trimmingNewlines() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
