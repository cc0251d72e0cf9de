import Testing
@testable import ThreshCore

@Suite struct JSONCodecTests {
    func roundTrip(_ text: String) throws -> String {
        JSONWriter.string(try JSONParser.parse(text))
    }

    @Test func keepsKeyOrderNumbersAndUnknownFields() throws {
        let line = #"{"text":"a","id":7,"metadata":{"z":1,"a":[1.50,2e10,-0.0]},"added":"2024-01-01","x":null,"ok":true}"#
        #expect(try roundTrip(line) == line)
    }

    @Test(arguments: [
        (#""a\"b\\c\/d\n\t\r\b\f""#, #""a\"b\\c/d\n\t\r\u0008\u000c""#),
        (#""\u00e9\u4e2d\ud83d\ude00""#, "\"é中😀\""),
        (#""\ud800x""#, "\"\u{FFFD}x\""),
    ])
    func decodesEscapes(input: String, expected: String) throws {
        #expect(try roundTrip(input) == expected)
    }

    /// The string scanner skips eight plain bytes at a time: put each kind of special byte at every offset
    /// around those blocks, after ASCII and multi-byte text.
    @Test func findsQuotesEscapesAndControlCharactersAtEveryOffset() throws {
        for filler in ["a", "é"] {
            for length in 0..<20 {
                let prefix = String(repeating: filler, count: length)
                #expect(try JSONParser.parse("\"\(prefix)\"") == .string(prefix))
                #expect(try JSONParser.parse("\"\(prefix)\\\"x\"") == .string(prefix + "\"x"))
                #expect(try JSONParser.parse("\"\(prefix)\\\\\(prefix)\\n\"") == .string(prefix + "\\" + prefix + "\n"))
                for control in ["\n", "\u{01}", "\u{1F}"] {
                    #expect(throws: JSONSyntaxError.self) { try JSONParser.parse("\"\(prefix)\(control)\(prefix)\"") }
                }
                // Bytes just above the control range and above ASCII are plain.
                #expect(try JSONParser.parse("\"\(prefix) !#[]~\u{7F}\(prefix)\"") == .string(prefix + " !#[]~\u{7F}" + prefix))
            }
        }
    }

    @Test(arguments: [
        (#"{"a":1,}"#, 7), (#"{"a" 1}"#, 5), (#"[1,2"#, 4), (#"{"a":tru}"#, 5), ("\"abc", 4), (#"{"a":"x\qy"}"#, 8), ("{} x", 3),
    ])
    func rejectsInvalidJSONWithItsOffset(input: String, offset: Int) {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(input) }
        do { _ = try JSONParser.parse(input) } catch { #expect(error.offset == offset, "\(input): \(error)") }
    }

    @Test func duplicateKeysLastWinsInSmallAndLargeObjects() throws {
        #expect(try roundTrip(#"{"a":1,"b":2,"a":3}"#) == #"{"a":3,"b":2}"#)
        let many = (0..<100).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let parsed = try #require(try JSONParser.parse("{" + many + ",\"k5\":-1,\"k99\":-2}").objectValue)
        #expect(parsed.count == 100 && parsed["k5"] == .number("-1") && parsed["k99"] == .number("-2"))
    }

    @Test func rejectsHostileNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
    }

    @Test func writesControlCharactersEscaped() {
        var out: [UInt8] = []
        JSONWriter.writeString("a\u{01}\u{1F}\"", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\u0001\u001f\"""#)
    }

    @Test func documentAccessorsReadAndWriteFields() throws {
        var doc = try Document.parse(parseBytes(#"{"id":3,"text":"hi","media":[]}"#))
        #expect(doc.id == "3")
        #expect(doc.text == "hi")
        doc.attrs["quality"] = .double(0.25)
        var out: [UInt8] = []
        doc.write(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"id":3,"text":"hi","media":[],"attrs":{"quality":0.25}}"# + "\n")
    }

    func parseBytes(_ s: String) -> [UInt8] { Array(s.utf8) }
}

extension Document {
    static func parse(_ bytes: [UInt8]) throws -> Document {
        try bytes.withUnsafeBytes { try Document.parse($0) }
    }
}

@Suite struct DigestTests {
    @Test(arguments: [
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownAnswers(input: String, sha1: String, sha256: String) {
        let bytes = Array(input.utf8)
        #expect(hexString(bytes.withUnsafeBytes { SHA1.hash($0) }) == sha1)
        #expect(hexString(bytes.withUnsafeBytes { SHA256.hash($0) }) == sha256)
    }

    @Test func incrementalEqualsOneShot() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var s = SHA1()
        var t = SHA256()
        var i = 0
        for size in [1, 63, 64, 65, 127, 1000, 7] + Array(repeating: 500, count: 20) where i < bytes.count {
            let end = min(bytes.count, i + size)
            bytes[i..<end].withUnsafeBytes { s.update($0); t.update($0) }
            i = end
        }
        bytes[i...].withUnsafeBytes { s.update($0); t.update($0) }
        #expect(s.finalize() == bytes.withUnsafeBytes { SHA1.hash($0) })
        #expect(t.finalize() == bytes.withUnsafeBytes { SHA256.hash($0) })
    }

    @Test func base32RoundTrip() {
        let digest = Array("abc".utf8).withUnsafeBytes { SHA1.hash($0) }
        let text = Base32.encode(digest)
        #expect(text == "VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5")
        #expect(Base32.decode(text) == digest)
        #expect(Base32.decode("not base32!") == nil)
    }
}

@Suite struct StatisticsTests {
    @Test func mergesAndReportsDeterministically() {
        var a = StageStatistics(stage: "warc")
        a.documentsIn = 3; a.documentsOut = 1; a.drop("mime"); a.drop("status")
        var b = StageStatistics(stage: "warc")
        b.documentsIn = 2; b.documentsOut = 2; b.drop("mime")
        a.merge(b)
        #expect(a.documentsIn == 5 && a.documentsOut == 3 && a.dropped == ["mime": 2, "status": 1])
        let json = JSONWriter.string(.object(a.json))
        #expect(json.contains(#""dropped":{"mime":2,"status":1}"#))
    }
}
