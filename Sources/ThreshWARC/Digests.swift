import ThreshCore

/// Verifies WARC-Block-Digest and WARC-Payload-Digest the way `warcio check` does: the block digest over
/// the whole block, the payload digest over the block after the HTTP head (for HTTP records) or the whole
/// block; revisit payload digests name another record's payload and are not checked.
public enum DigestVerifier {
    /// The outcome for one record.
    public struct Verdict: Sendable, Equatable {
        /// Digests present and checked, that matched.
        public var passed: Bool { failures.isEmpty }
        /// Present digests that were checked.
        public var checked: [String] = []
        /// Failure descriptions (`block digest failed: …`, `payload digest failed: …`).
        public var failures: [String] = []
        /// Present digests not checked (revisit payload digests, unknown algorithms).
        public var notChecked: [String] = []

        /// warcio's wording: `digest pass`, `no digest to check`, `… failed`, or not checked (revisit).
        public var summary: String {
            if !failures.isEmpty { return failures.joined(separator: "; ") }
            if !checked.isEmpty { return "digest pass" }
            if !notChecked.isEmpty { return "digest present but not checked" }
            return "no digest to check"
        }
    }

    public static func check(_ record: WARCRecord, block: UnsafeRawBufferPointer) -> Verdict {
        var verdict = Verdict()
        if record.type == "revisit" || block.isEmpty {
            // A revisit's digests describe the record it revisits, and an empty block has nothing to check;
            // warcio does not check either.
            if record.header("WARC-Block-Digest") != nil || record.header("WARC-Payload-Digest") != nil {
                verdict.notChecked.append("revisit")
            }
            return verdict
        }
        if let declared = record.header("WARC-Block-Digest") {
            switch matches(declared, block) {
            case .some(true): verdict.checked.append("block")
            case .some(false): verdict.failures.append("block digest failed: \(declared)")
            case .none: verdict.notChecked.append("block")
            }
        }
        if let declared = record.header("WARC-Payload-Digest") {
            if record.type == "revisit" {
                verdict.notChecked.append("payload")
            } else {
                var payload = block
                if record.hasHTTPBlock, let head = HTTPHead.parse(block) {
                    payload = UnsafeRawBufferPointer(rebasing: block[head.length...])
                }
                switch matches(declared, payload) {
                case .some(true): verdict.checked.append("payload")
                case .some(false): verdict.failures.append("payload digest failed: \(declared)")
                case .none: verdict.notChecked.append("payload")
                }
            }
        }
        return verdict
    }

    /// Whether `bytes` hash to the declared `algorithm:value` (base32 or hex); nil for unknown algorithms.
    public static func matches(_ declared: String, _ bytes: UnsafeRawBufferPointer) -> Bool? {
        let parts = declared.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { return false }
        let algorithm = parts[0].lowercased().replacingDash()
        let value = String(parts[1]).trimmingSpaces()
        let actual: [UInt8]
        switch algorithm {
        case "sha1": actual = SHA1.hash(bytes)
        case "sha256": actual = SHA256.hash(bytes)
        default: return nil
        }
        if value.count == actual.count * 2, value.allSatisfy(\.isHexDigit) {
            return value.lowercased() == hexString(actual)
        }
        // Writers use base32 (most), hex, or base64 (standard or URL-safe alphabet).
        if let expected = Base32.decode(value), expected.count == actual.count { return expected == actual }
        if let expected = Base64.decode(value), expected.count == actual.count { return expected == actual }
        return false
    }

    /// `sha1:` + base32 of the SHA-1 of `bytes`, as WARC writers and CDX indexes spell digests.
    public static func sha1Base32(_ bytes: UnsafeRawBufferPointer) -> String { Base32.encode(SHA1.hash(bytes)) }
}

extension String {
    fileprivate func replacingDash() -> String { String(filter { $0 != "-" }) }
}
