/// Counters every stage keeps, merged across tasks and printed at the end of every command.
///
/// Nothing is dropped silently: each document a stage does not pass on is counted under a reason.
public struct StageStatistics: Sendable, Equatable {
    /// The stage's name (`warc`, `cat`, `extract`, …).
    public var stage: String
    public var documentsIn = 0
    public var documentsOut = 0
    public var bytesIn: Int64 = 0
    public var bytesOut: Int64 = 0
    /// Wall-clock seconds spent in the stage.
    public var seconds = 0.0
    /// Documents (or records) not passed on, by reason.
    public var dropped: [String: Int] = [:]
    /// Other counts worth reporting (records by type, charsets found, …), by name.
    public var counters: [String: Int] = [:]

    public init(stage: String) { self.stage = stage }

    /// Counts one dropped item under `reason`.
    public mutating func drop(_ reason: String, count: Int = 1) { dropped[reason, default: 0] += count }

    /// Adds `count` to a named counter.
    public mutating func count(_ name: String, _ count: Int = 1) { counters[name, default: 0] += count }

    /// Counts a document in and returns its text; a document without string text is counted dropped as `no-text`
    /// (never judged) and gives nil.
    public mutating func admitText(_ document: Document) -> String? {
        documentsIn += 1
        guard case .string(let text)? = document.fields["text"] else { drop("no-text"); return nil }
        bytesIn += Int64(text.utf8.count)
        return text
    }

    /// Total dropped, over all reasons.
    public var droppedTotal: Int { dropped.values.reduce(0, +) }

    /// Adds another task's counters for the same stage.
    public mutating func merge(_ other: StageStatistics) {
        documentsIn += other.documentsIn
        documentsOut += other.documentsOut
        bytesIn += other.bytesIn
        bytesOut += other.bytesOut
        seconds += other.seconds
        for (k, v) in other.dropped { dropped[k, default: 0] += v }
        for (k, v) in other.counters { counters[k, default: 0] += v }
    }

    /// The counters as a JSON object, keys sorted so the output is deterministic.
    public var json: JSONObject {
        var o = JSONObject()
        o["stage"] = .string(stage)
        o["documents_in"] = .int(documentsIn)
        o["documents_out"] = .int(documentsOut)
        o["bytes_in"] = .int(bytesIn)
        o["bytes_out"] = .int(bytesOut)
        o["seconds"] = .number(String(format3(seconds)))
        o["dropped"] = .object(JSONObject(dropped.sorted { $0.key < $1.key }.map { (key: $0.key, value: .int($0.value)) }))
        o["counters"] = .object(JSONObject(counters.sorted { $0.key < $1.key }.map { (key: $0.key, value: .int($0.value)) }))
        return o
    }

    /// Reads counters written by `json`.
    public init?(json o: JSONObject) {
        guard let stage = o["stage"]?.stringValue else { return nil }
        self.stage = stage
        documentsIn = o["documents_in"]?.intValue ?? 0
        documentsOut = o["documents_out"]?.intValue ?? 0
        bytesIn = Int64(o["bytes_in"]?.intValue ?? 0)
        bytesOut = Int64(o["bytes_out"]?.intValue ?? 0)
        seconds = o["seconds"]?.doubleValue ?? 0
        for (k, v) in o["dropped"]?.objectValue ?? [:] { dropped[k] = v.intValue ?? 0 }
        for (k, v) in o["counters"]?.objectValue ?? [:] { counters[k] = v.intValue ?? 0 }
    }

    /// A few human-readable lines for stderr.
    public var summary: String {
        var lines: [String] = []
        let rate = seconds > 0 ? Double(documentsIn) / seconds : 0
        let mbps = seconds > 0 ? Double(bytesIn) / seconds / 1e6 : 0
        lines.append("\(stage): \(documentsIn) in, \(documentsOut) out, \(droppedTotal) dropped; "
            + "\(formatBytes(bytesIn)) in, \(formatBytes(bytesOut)) out; \(format3(seconds)) s "
            + "(\(format1(rate)) docs/s, \(format1(mbps)) MB/s)")
        for (reason, n) in dropped.sorted(by: { $0.key < $1.key }) { lines.append("  dropped \(reason): \(n)") }
        for (name, n) in counters.sorted(by: { $0.key < $1.key }) { lines.append("  \(name): \(n)") }
        return lines.joined(separator: "\n")
    }
}

/// Formats with three decimals (no Foundation in the core).
public func format3(_ x: Double) -> String { formatFixed(x, digits: 3) }
/// Formats with one decimal.
public func format1(_ x: Double) -> String { formatFixed(x, digits: 1) }

func formatFixed(_ x: Double, digits: Int) -> String {
    guard x.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(x) * scale).rounded()
    let whole = Int64(scaled / scale)
    let frac = Int64(scaled) - whole * Int64(scale)
    var fracString = String(frac)
    while fracString.count < digits { fracString = "0" + fracString }
    return (x < 0 && scaled > 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + fracString : "")
}

/// Formats a byte count with a binary-free decimal unit (kB, MB, GB).
public func formatBytes(_ n: Int64) -> String {
    let x = Double(n)
    if x >= 1e9 { return format1(x / 1e9) + " GB" }
    if x >= 1e6 { return format1(x / 1e6) + " MB" }
    if x >= 1e3 { return format1(x / 1e3) + " kB" }
    return "\(n) B"
}
