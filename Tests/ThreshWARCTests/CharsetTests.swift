import Testing
@testable import ThreshWARC

@Suite struct CharsetTests {
    /// Valid UTF-8 is handed over in place (no copy), a byte-order mark dropped; anything else comes out as the
    /// string `decode` gives, with its count of replaced sequences.
    @Test func withUTF8GivesWhatDecodeGives() {
        let charsets = CharsetTranscoder()
        let cases: [([UInt8], String)] = [
            (Array("<p>naïve café</p>".utf8), "utf-8"),
            ([0xEF, 0xBB, 0xBF] + Array("<p>bom</p>".utf8), "utf-8"),
            (Array("<p>bad ".utf8) + [0xC3, 0x28, 0xFF] + Array(" end</p>".utf8), "utf-8"),
            ([0x3C, 0x70, 0x3E, 0xE9, 0x80, 0x3C], "windows-1252"),
            ([], "utf-8"),
        ]
        for (bytes, charset) in cases {
            bytes.withUnsafeBytes { raw in
                let (expected, expectedReplaced) = charsets.decode(raw, as: charset)
                charsets.withUTF8(raw, as: charset) { text, replaced in
                    #expect(Array(text) == Array(expected.utf8), "\(bytes)")
                    #expect(replaced == expectedReplaced)
                    if charset == "utf-8" && expectedReplaced == 0 && !text.isEmpty {
                        // In place: the pointer is inside the input.
                        let start = UnsafeRawPointer(text.baseAddress!)
                        #expect(start >= raw.baseAddress! && start < raw.baseAddress! + raw.count)
                    }
                }
            }
        }
    }
}
