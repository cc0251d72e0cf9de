#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ThreshWARC

/// `text` in `charset`, through glibc's iconv (the test's own transcoder, apart from the code under test's use).
func encoded(_ text: String, as charset: String) -> [UInt8] {
    let cd = iconv_open(charset, "UTF-8")
    precondition(cd != iconv_t(bitPattern: -1), "iconv lacks \(charset)")
    defer { iconv_close(cd) }
    var input = Array(text.utf8)
    var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
    var inLeft = input.count, outLeft = output.count
    input.withUnsafeMutableBytes { i in
        output.withUnsafeMutableBytes { o in
            var ip: UnsafeMutablePointer<CChar>? = i.baseAddress?.assumingMemoryBound(to: CChar.self)
            var op: UnsafeMutablePointer<CChar>? = o.baseAddress?.assumingMemoryBound(to: CChar.self)
            _ = iconv(cd, &ip, &inLeft, &op, &outLeft)
            _ = iconv(cd, nil, nil, &op, &outLeft)  // the shift back to ASCII a stateful encoding needs
        }
    }
    return Array(output[0..<(output.count - outLeft)])
}

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

    /// Pages with no declaration, in the legacy encodings of their languages, are detected (uchardet) and decode to
    /// their text.
    @Test(arguments: [
        ("windows-1251", "Москва — столица России, крупнейший по численности населения город страны. Здесь находятся органы власти, музеи и театры."),
        ("koi8-r", "Москва - столица России, крупнейший по численности населения город страны. Здесь находятся органы власти, музеи и театры."),
        ("shift_jis", "東京は日本の首都であり、世界有数の大都市です。多くの人々がここで働き、学び、暮らしています。美術館や公園もたくさんあります。"),
        ("euc-jp", "東京は日本の首都であり、世界有数の大都市です。多くの人々がここで働き、学び、暮らしています。美術館や公園もたくさんあります。"),
        ("iso-2022-jp", "東京は日本の首都であり、世界有数の大都市です。多くの人々がここで働き、学び、暮らしています。美術館や公園もたくさんあります。"),
        ("gb18030", "北京是中华人民共和国的首都，也是全国的政治中心和文化中心。这座城市有着三千多年的历史，拥有许多名胜古迹和博物馆。"),
        ("big5", "臺北是中華民國的首都，也是全國的政治中心和文化中心。這座城市有著悠久的歷史，擁有許多名勝古蹟和博物館。"),
        ("windows-1253", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και μία από τις αρχαιότερες πόλεις του κόσμου, με πολλά μουσεία και μνημεία."),
    ])
    func undeclaredLegacyPagesAreDetected(charset: String, text: String) {
        let page = "<html><body><p>" + String(repeating: text + " ", count: 3) + "</p></body></html>"
        let bytes = encoded(page, as: charset.uppercased())
        let charsets = CharsetTranscoder()
        bytes.withUnsafeBytes { raw in
            let decision = charsets.decide(raw, httpCharset: nil, isHTML: true)
            #expect(decision.source == "detected")
            let (decoded, replaced) = charsets.decode(raw, as: decision.name)
            #expect(decoded == page && replaced == 0, "\(charset) detected as \(decision.name)")
        }
    }

    /// A page declared UTF-8 that is Latin-1 is detected instead; one bad byte in a real UTF-8 page is not enough.
    @Test func aFalseUTF8DeclarationIsOverruled() {
        let charsets = CharsetTranscoder()
        let latin = encoded("<p>Les élèves étudièrent à l'école où l'été déçoit rarement; Größe, Müller, Straße, Bäcker.</p>", as: "ISO-8859-1")
        latin.withUnsafeBytes { raw in
            let decision = charsets.decide(raw, httpCharset: "utf-8", isHTML: true)
            #expect(decision.source == "detected-over-declared" && decision.name != "utf-8", "\(decision)")
            #expect(charsets.decode(raw, as: decision.name).text.contains("élèves"))
        }
        let utf8 = Array("<p>Les élèves étudièrent à l'école où l'été déçoit rarement; Größe, Müller, Straße.</p>".utf8) + [0xFF]
        utf8.withUnsafeBytes { raw in
            #expect(charsets.decide(raw, httpCharset: "utf-8", isHTML: true) == CharsetDecision(name: "utf-8", source: "http"))
        }
    }

    /// Declared labels map as the WHATWG Encoding Standard maps them.
    @Test func labelsMapAsBrowsersMapThem() {
        let charsets = CharsetTranscoder()
        for (label, name) in [("ISO-8859-1", "windows-1252"), ("us-ascii", "windows-1252"), ("latin1", "windows-1252"),
                              ("gb2312", "gb18030"), ("GBK", "gb18030"), ("iso-8859-9", "windows-1254"),
                              ("ks_c_5601-1987", "euc-kr"), ("x-sjis", "shift_jis"), ("cp1251", "windows-1251"),
                              ("koi8", "koi8-r"), ("tis-620", "windows-874"), ("x-mac-cyrillic", "x-mac-cyrillic")] {
            #expect(charsets.canonicalName(label) == name, "\(label)")
        }
    }

    /// A Western page with the euro sign: ISO-8859-15 writes it 0xA4 (with no byte in 0x80-0x9F), windows-1252
    /// writes it 0x80; each decodes back to the page.
    @Test func theEuroSignTellsISO885915FromWindows1252() {
        let page = "<html><body><p>Le café coûte 3 € à Paris; la crème brûlée 7 €. Größe: Über 50 Stück für nur 20 €.</p></body></html>"
        for charset in ["ISO-8859-15", "WINDOWS-1252"] {
            let bytes = encoded(page, as: charset)
            let charsets = CharsetTranscoder()
            bytes.withUnsafeBytes { raw in
                let decision = charsets.decide(raw, httpCharset: nil, isHTML: true)
                #expect(decision.name == charset.lowercased(), "\(charset)")
                #expect(charsets.decode(raw, as: decision.name).text == page)
            }
        }
    }

    /// ICU's detector is there to compare with (`charset-detector = "icu"`): it decodes a Japanese page too.
    @Test func icuDetectorCanBeChosen() {
        let page = "<html><body><p>" + String(repeating: "東京は日本の首都であり、世界有数の大都市です。多くの人々がここで働き、学び、暮らしています。", count: 3) + "</p></body></html>"
        let bytes = encoded(page, as: "SHIFT_JIS")
        let charsets = CharsetTranscoder(detector: .icu)
        bytes.withUnsafeBytes { raw in
            let decision = charsets.decide(raw, httpCharset: nil, isHTML: true)
            #expect(decision.name == "shift_jis" && charsets.decode(raw, as: decision.name).text == page, "\(decision)")
        }
    }
}
