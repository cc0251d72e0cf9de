/// An error with the context a user needs to find the problem: the file, and where in it.
///
/// A struct with an open set of codes (not an enum) so that new kinds of error do not break callers.
public struct ThreshError: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable kind, also used as the statistics reason when the error is counted.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let io = Code(rawValue: "io")
        public static let usage = Code(rawValue: "usage")
        public static let invalidJSON = Code(rawValue: "invalid-json")
        public static let compression = Code(rawValue: "compression")
        public static let unsupportedFormat = Code(rawValue: "unsupported-format")
        /// The reader of our output went away (`thresh … | head`): not a failure of ours.
        public static let brokenPipe = Code(rawValue: "broken-pipe")
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
    /// The error this one wraps.
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
        return prefix + message
    }
}
