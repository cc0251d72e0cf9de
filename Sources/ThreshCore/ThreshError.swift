/// An error with the context a user needs to find the problem: the file, and where in it.
public struct ThreshError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem it is: a closed set, so that callers can map every code to an exit status.
    public enum Code: String, Sendable, CaseIterable, CustomStringConvertible {
        /// A file could not be opened, read or written.
        case io
        /// The command line is wrong (unknown flag, missing argument, a value out of range).
        case usage
        /// A pipeline, mix or options file is wrong (unknown key, wrong type, out-of-range number).
        case config = "invalid-config"
        /// A JSON line or file is not valid JSON.
        case invalidJSON = "invalid-json"
        /// Compressed data is corrupt or truncated.
        case compression
        /// The input is not in a format Thresh reads.
        case unsupportedFormat = "unsupported-format"
        /// A WARC/ARC record or its HTTP message is malformed.
        case malformedRecord = "malformed-record"
        /// A model file is not a valid quality or fastText model.
        case invalidModel = "invalid-model"
        /// A tokenizer vocabulary is not valid.
        case invalidVocabulary = "invalid-vocabulary"
        /// A statistics, manifest or other file Thresh wrote is not as expected.
        case invalidOutput = "invalid-output"
        /// Data contradicts itself or the plan (too few documents to train, an over-long mix, …).
        case data
        /// The Slurm scheduler refused or failed a job.
        case slurm
        /// The reader of our output went away (`thresh … | head`): not a failure of ours.
        case brokenPipe = "broken-pipe"

        public var description: String { rawValue }

        /// The process exit status for this kind of error: 2 for usage and configuration, 1 for data and I/O.
        public var exitStatus: Int32 {
            switch self {
            case .usage, .config: return 2
            case .brokenPipe: return 0
            default: return 1
            }
        }
    }

    public var code: Code
    public var message: String
    /// The file the problem is in (`-` for standard input).
    public var file: String?
    /// 1-based line number, for line-oriented inputs.
    public var line: Int?
    /// 0-based record number, for record-oriented inputs.
    public var record: Int?
    /// Byte offset in the file (compressed offset for compressed files, where known).
    public var offset: Int64?
    /// The error this one wraps (printed after the message).
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, record: Int? = nil,
                offset: Int64? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.record = record
        self.offset = offset
        self.underlying = underlying
    }

    public var description: String {
        var place: [String] = []
        if let file { place.append(file) }
        if let line { place.append("line \(line)") }
        if let record { place.append("record \(record)") }
        if let offset { place.append("offset \(offset)") }
        let prefix = place.isEmpty ? "" : place.joined(separator: ", ") + ": "
        var text = prefix + message
        if let underlying { text += " (cause: \(underlying))" }
        return text
    }
}
