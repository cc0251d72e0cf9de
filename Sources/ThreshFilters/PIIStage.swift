public import ThreshCore
internal import CThreshICU

/// An ICU regular expression (a backtracking engine with Python's leftmost-first alternation, so datatrove's patterns
/// mean the same), owned by one stage: ICU's handle is used by one thread at a time.
final class ICURegex {
    private let handle: UnsafeMutableRawPointer
    private var pairs = [Int32](repeating: 0, count: 64)

    /// - Throws: `.usage` when ICU cannot compile the pattern.
    init(_ pattern: String) throws {
        guard let h = thresh_icu_regex_open(pattern) else { throw ThreshError(.usage, "regular expression does not compile: \(pattern)") }
        handle = h
    }

    deinit { thresh_icu_regex_close(handle) }

    /// The matches in `text` as UTF-16 offset ranges, left to right, not overlapping.
    func matches(in text: [UInt16]) -> [Range<Int>] {
        while true {
            let found = text.withUnsafeBufferPointer { t in
                pairs.withUnsafeMutableBufferPointer { p in
                    thresh_icu_regex_find_all(handle, t.baseAddress, Int32(t.count), p.baseAddress, Int32(p.count / 2))
                }
            }
            if found < 0 { return [] }
            if Int(found) * 2 <= pairs.count {
                return (0..<Int(found)).map { Int(pairs[2 * $0])..<Int(pairs[2 * $0 + 1]) }
            }
            pairs = [Int32](repeating: 0, count: Int(found) * 2)
        }
    }
}

/// Options of `thresh pii`: datatrove 0.10.1's `PIIFormatter` options under its names.
public struct PIIOptions: Sendable {
    public static let schema = OptionsSchema("pii", [
        OptionSpec("remove-emails", .flag, default: .flag(true), help: "replace email addresses"),
        OptionSpec("remove-ips", .flag, default: .flag(true), help: "replace IPv4 addresses"),
        OptionSpec("only-remove-public-ips", .flag, default: .flag(true), help: "only addresses Python's ipaddress calls global"),
        OptionSpec("email-replacement", .list, default: .list(["email@example.com", "firstname.lastname@example.org"]),
                   help: "replacements, used in turn within each document"),
        OptionSpec("ip-replacement", .list, default: .list(["22.214.171.124", "126.96.36.199", "188.8.131.52", "184.108.40.206", "220.127.116.11", "18.104.22.168"]),
                   help: "replacements, used in turn within each document"),
    ])
}

/// `thresh pii` as a stage: datatrove's `PIIFormatter` — email addresses, then public IPv4 addresses, found by its
/// own regular expressions and replaced by its replacement strings in turn; counted per kind (`pii.email`,
/// `pii.ip`). datatrove's turn goes on from one document to the next within a worker, which makes a document's
/// output depend on the sharding; Thresh starts the turn afresh in every document.
public struct PIIStage: DocumentStage {
    public private(set) var statistics = StageStatistics(stage: "pii")
    private let emails: ICURegex?
    private let ips: ICURegex?
    private let publicOnly: Bool
    private let emailReplacements: [String]
    private let ipReplacements: [String]

    static let emailPattern = #"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)])"#
    static let ipPattern = #"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"#

    /// - Throws: `.usage` for an empty replacement list.
    public init(_ values: OptionValues) throws {
        emails = values.bool("remove-emails") ? try ICURegex(Self.emailPattern) : nil
        ips = values.bool("remove-ips") ? try ICURegex(Self.ipPattern) : nil
        publicOnly = values.bool("only-remove-public-ips")
        emailReplacements = values.list("email-replacement")
        ipReplacements = values.list("ip-replacement")
        guard !emailReplacements.isEmpty, !ipReplacements.isEmpty else {
            throw ThreshError(.usage, "pii: email-replacement and ip-replacement need at least one string")
        }
    }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        guard let original = statistics.admitText(document) else { return }
        var text = Array(original.utf16)
        var changed = false
        if let emails {
            let (replaced, n) = Self.replace(text, emails.matches(in: text), with: emailReplacements) { _ in true }
            if n > 0 { text = replaced; changed = true; statistics.count("pii.email", n) }
        }
        if let ips {
            let publicOnly = self.publicOnly
            let (replaced, n) = Self.replace(text, ips.matches(in: text), with: ipReplacements) { Self.isValidIPv4($0, publicOnly: publicOnly) }
            if n > 0 { text = replaced; changed = true; statistics.count("pii.ip", n) }
        }
        var out = document
        if changed { out.text = String(decoding: text, as: UTF16.self) }
        statistics.documentsOut += 1
        statistics.bytesOut += Int64(out.text.utf8.count)
        try emit(out)
    }

    /// The text with each match the validator accepts replaced by the next replacement in turn.
    static func replace(_ text: [UInt16], _ matches: [Range<Int>], with replacements: [String], valid: ([UInt16]) -> Bool) -> ([UInt16], Int) {
        guard !matches.isEmpty else { return (text, 0) }
        var out: [UInt16] = []
        out.reserveCapacity(text.count)
        var last = 0, turn = 0
        for m in matches {
            let found = Array(text[m])
            guard valid(found) else { continue }
            out.append(contentsOf: text[last..<m.lowerBound])
            out.append(contentsOf: replacements[turn % replacements.count].utf16)
            turn += 1
            last = m.upperBound
        }
        out.append(contentsOf: text[last...])
        return (out, turn)
    }

    /// Python's `ipaddress.ip_address(s)` accepting it (four decimal octets, no leading zeros) and, with
    /// `publicOnly`, `is_global` (Python 3.11: outside 100.64.0.0/10 and every private network it lists).
    static func isValidIPv4(_ s: [UInt16], publicOnly: Bool) -> Bool {
        let parts = s.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        var octets: [UInt32] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            if p.count > 1 && p.first == 0x30 { return false }
            let v = p.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - 0x30) }
            guard v <= 255 else { return false }
            octets.append(v)
        }
        guard publicOnly else { return true }
        let a = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
        for (network, prefix) in nonGlobal {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            if a & mask == network & mask { return false }
        }
        return true
    }

    /// Python 3.11's `_IPv4Constants._private_networks` and its shared address space (100.64.0.0/10).
    private static let nonGlobal: [(UInt32, UInt32)] = [
        (0x0000_0000, 8), (0x0A00_0000, 8), (0x7F00_0000, 8), (0xA9FE_0000, 16), (0xAC10_0000, 12), (0xC000_0000, 29),
        (0xC000_00AA, 31), (0xC000_0200, 24), (0xC0A8_0000, 16), (0xC612_0000, 15), (0xC633_6400, 24), (0xCB00_7100, 24),
        (0xF000_0000, 4), (0xFFFF_FFFF, 32), (0x6440_0000, 10),
    ]
}
