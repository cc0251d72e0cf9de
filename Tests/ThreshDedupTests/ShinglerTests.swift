import Testing
import ThreshCore
import ThreshIO
@testable import ThreshDedup
import ThreshTestSupport

/// The fast word splitter and the MinHash kernel, each against a plain reference written the obvious way.
@Suite struct ShinglerTests {
    /// Words as the normalisation defines them, one scalar at a time through Unicode properties: the behaviour
    /// `normalisedWords` must keep.
    static func referenceWords(_ text: String, _ n: Shingler.Normalisation) -> [String] {
        var words: [String] = []
        var current = ""
        func end() { if !current.isEmpty { words.append(current); current = "" } }
        for scalar in text.unicodeScalars {
            let p = scalar.properties
            let isASCIIWord = scalar.isASCII && (scalar == "_" || p.isAlphabetic || p.numericType == .decimal)
            let isWhitespace = scalar.isASCII ? (scalar == " " || (0x09...0x0D).contains(scalar.value)) : p.isWhitespace
            if isWhitespace { end(); continue }
            if scalar.isASCII && !isASCIIWord {
                // ASCII punctuation and symbols end a word unless they are removed without separating.
                if !n.removePunctuation || n.punctuationSeparates { end() }
                continue
            }
            if !scalar.isASCII && n.removePunctuation && (p.generalCategory.isPunctuation || p.generalCategory.isSymbol) {
                if n.punctuationSeparates { end() }
                continue
            }
            if n.digitsToZero && p.numericType == .decimal { current += "0" }
            else if n.lowercase && p.changesWhenLowercased { current += p.lowercaseMapping }
            else { current.unicodeScalars.append(scalar) }
        }
        end()
        return words
    }

    static func words(_ text: String, _ n: Shingler.Normalisation) -> [String] {
        let (buffer, bounds) = Shingler(kind: .words(1), normalisation: n).normalisedWords(text)
        var joined: [String] = []
        for i in stride(from: 0, to: bounds.count, by: 2) {
            joined.append(String(decoding: buffer[Int(bounds[i])..<Int(bounds[i + 1])], as: UTF8.self))
        }
        // The buffer is the words with single spaces between, nothing before or after.
        #expect(String(decoding: buffer.dropLast(Shingler.padding), as: UTF8.self) == joined.joined(separator: " "))
        #expect(buffer.suffix(Shingler.padding).allSatisfy { $0 == 0 })
        return joined
    }

    static let normalisations: [Shingler.Normalisation] = {
        var all: [Shingler.Normalisation] = []
        for lowercase in [true, false] {
            for separates in [true, false] {
                for remove in [true, false] {
                    for digits in [true, false] {
                        var n = Shingler.Normalisation()
                        n.lowercase = lowercase; n.punctuationSeparates = separates; n.removePunctuation = remove; n.digitsToZero = digits
                        all.append(n)
                    }
                }
            }
        }
        return all
    }()

    @Test func wordsOfSmallTexts() {
        let n = Shingler.Normalisation()
        #expect(Self.words("Hello, World! It's 2024.", n) == ["hello", "world", "it", "s", "2024"])
        #expect(Self.words("  leading and trailing  ", n) == ["leading", "and", "trailing"])
        #expect(Self.words("", n) == [])
        #expect(Self.words("...!!", n) == [])
        #expect(Self.words("snake_case stays", n) == ["snake_case", "stays"])
        #expect(Self.words("Ünïcödé  ÉTÉ\u{00A0}naïve—dash", n) == ["ünïcödé", "été", "naïve", "dash"])
        #expect(Self.words("İstanbul Ⱥ", n) == ["i\u{307}stanbul", "\u{2C65}"])
        #expect(Self.words("東京都 の 天気", n) == ["東京都", "の", "天気"])
        var joining = n
        joining.punctuationSeparates = false
        #expect(Self.words("it's e-mail", joining) == ["its", "email"])
        var digits = n
        digits.digitsToZero = true
        #expect(Self.words("Route 66 and ٣٤", digits) == ["route", "00", "and", "00"])
    }

    @Test func wordsMatchTheReferenceOnMixedText() {
        let samples = [
            "The quick brown fox — jumps over the lazy dog. «Quoted» text, 3.14 and 2,718; e-mail: a_b@c.de",
            "Ελληνικά κείμενα, Русский текст! 中文，标点。日本語「引用」 한국어 😀 emoji ✓ symbols © ® ™ € 12",
            "tabs\tand\nnewlines\r\nand\u{2028}separators\u{3000}ideographic space",
            "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ and ﬁ ligatures; Straße STRASSE ǅ ǈ",
        ]
        for text in samples {
            for n in Self.normalisations {
                #expect(Self.words(text, n) == Self.referenceWords(text, n), "\(text.prefix(20)) \(n)")
            }
        }
    }

    @Test(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
    func wordsMatchTheReferenceOnRealCrawlText() throws {
        var checked = 0
        for name in ["cc_en_head-0091.jsonl.gz", "cc_en_head-0174.jsonl.gz", "raw-cc-documents-000.json.gz"] {
            let reader = try DocumentReader(path: TestPaths.sharedData + "/text/dolma-cc-samples/" + name)
            while let doc = try reader.next() {
                for n in Self.normalisations {
                    #expect(Self.words(doc.text, n) == Self.referenceWords(doc.text, n), "\(doc.id)")
                }
                checked += 1
            }
        }
        #expect(checked == 30)
    }

    @Test func shortHashEqualsXXH64() {
        var bytes = [UInt8](repeating: 0, count: 64)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
        bytes.withUnsafeBytes { raw in
            for count in 0..<32 {
                for seed: UInt64 in [0, 7] {
                    #expect(XXH64.hashShort(raw.baseAddress!, count: count, seed: seed)
                        == XXH64.hash(UnsafeRawBufferPointer(rebasing: raw[0..<count]), seed: seed), "\(count)")
                }
            }
        }
    }

    @Test func shingleValuesHoldTheSameSetAsShingles() {
        let text = "a b c d e a b c d e a b c d e f g"
        let shingler = Shingler(kind: .words(5))
        let values = shingler.shingleValues(text)
        #expect(values.count == 13)  // every 5-gram, repeats included
        #expect(Set(values) == Set(shingler.shingles(text)))
        #expect(shingler.shingles(text) == shingler.shingles(text).sorted())
        #expect(shingler.shingles(text).count == 7)
        // Fewer words than n: one shingle of all of them.
        #expect(shingler.shingleValues("two words").count == 1)
        #expect(shingler.shingleValues(" ,; ").isEmpty)
    }

    @Test func signatureKernelMatchesThePlainLoop() {
        print("MinHash kernel on this machine: \(MinHash64.kernel)")
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state ^ (state >> 29) }
        // Permutation counts that exercise the 32-wide blocks, the 8-wide tail and the scalar tail.
        for permutations in [1, 7, 8, 9, 31, 32, 33, 112, 128, 130] {
            let family = MinHash64(permutations: permutations, seed: UInt64(permutations))
            for count in [0, 1, 2, 17, 250] {
                let shingles = (0..<count).map { _ in next() } + [UInt64.max, 0, MinHash64.prime, MinHash64.prime - 1].prefix(count > 0 ? 4 : 0)
                let reference = family.referenceSignature(shingles)
                #expect(family.signature(shingles) == reference, "\(permutations) × \(count)")
                #expect(family.portableSignature(shingles) == reference, "portable \(permutations) × \(count)")
            }
        }
    }
}
