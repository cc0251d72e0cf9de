import Foundation
import Testing
import ThreshCore
import ThreshIO
@testable import ThreshQuality
import ThreshTestSupport

/// Golden vectors from Spark 4.3 (../shared/data/golden/spark): every case reproduced.
@Suite(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
struct SparkFeatureTests {
    static func golden(_ name: String) throws -> JSONObject {
        let bytes = try readFile(TestPaths.sharedData + "/golden/spark/" + name)
        return try #require(try JSONParser.parse(String(decoding: bytes, as: UTF8.self)).objectValue)
    }

    @Test func tokenizerMatchesSparkOnEveryCase() throws {
        let cases = try #require(Self.golden("tokenizer.json")["cases"]?.arrayValue)
        #expect(cases.count == 57)
        for c in cases {
            let object = try #require(c.objectValue)
            let input = try #require(object["input"]?.stringValue)
            let expected = try #require(object["tokenizer"]?.arrayValue).compactMap(\.stringValue)
            #expect(SparkTokenizer.tokenize(input) == expected, "case \(object["id"].map { JSONWriter.string($0) } ?? "?"): \(object["description"]?.stringValue ?? "")")
            // The byte-level fast path must agree with the general path.
            let hasher = FeatureHasher()
            var fast: [Int] = []
            hasher.forEachIndex(of: input) { fast.append($0) }
            #expect(fast == expected.map { hasher.index(of: $0) }, "fast path, case \(object["id"].map { JSONWriter.string($0) } ?? "?")")
        }
    }

    @Test func hashingMatchesSparkForEveryTerm() throws {
        let terms = try #require(Self.golden("hashingtf.json")["terms"]?.arrayValue)
        #expect(terms.count == 203)
        for t in terms {
            let o = try #require(t.objectValue)
            let hex = try #require(o["utf8_hex"]?.stringValue)
            let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                let s = hex.index(hex.startIndex, offsetBy: i)
                return UInt8(hex[s..<hex.index(s, offsetBy: 2)], radix: 16)!
            }
            let standard = bytes.withUnsafeBytes { Murmur3.hash($0) }
            let legacy = bytes.withUnsafeBytes { Murmur3.hash($0, variant: .spark2) }
            #expect(Int(standard) == o["murmur3_spark3_signed"]?.intValue)
            #expect(Int(legacy) == o["murmur3_spark2_legacy_signed"]?.intValue)
            for (size, key, legacyKey) in [(1 << 18, "index_2p18", "legacy_index_2p18"), (1 << 20, "index_2p20", "legacy_index_2p20")] {
                #expect(bytes.withUnsafeBytes { FeatureHasher(numFeatures: size).index(of: $0) } == o[key]?.intValue)
                #expect(bytes.withUnsafeBytes { FeatureHasher(numFeatures: size, hashVariant: .spark2).index(of: $0) } == o[legacyKey]?.intValue)
            }
        }
    }

    @Test func nonStringTermsHashLikeSpark() throws {
        let terms = try #require(Self.golden("hashingtf.json")["non_string_terms"]?.arrayValue)
        #expect(terms.count == 13)
        for t in terms {
            let o = try #require(t.objectValue)
            let type = try #require(o["jvm_type"]?.stringValue)
            let term: FeatureHasher.Term
            switch (type, o["value"]) {
            case ("int", let v?): term = .int(Int32(v.intValue!))
            case ("long", let v?): term = .long(Int64(v.intValue!))
            case ("double", .number(let s)?): term = .double(Double(s)!)
            case ("double", .string(let s)?): term = .double(Double(s)!)
            case ("boolean", .bool(let b)?): term = .bool(b)
            case ("null", _): term = .null
            default: Issue.record("unexpected term \(type)"); continue
            }
            for (size, key) in [(1 << 18, "index_2p18"), (1 << 20, "index_2p20")] {
                #expect(FeatureHasher(numFeatures: size).index(of: term) == o[key]?.intValue, "\(type) \(o["value"].map { JSONWriter.string($0) } ?? "")")
            }
        }
    }

    @Test func typedTermArraysMatchSpark() throws {
        let docs = try #require(Self.golden("hashingtf.json")["typed_documents"]?.arrayValue)
        #expect(docs.count == 12)
        for d in docs {
            let o = try #require(d.objectValue)
            let type = try #require(o["sql_type"]?.stringValue)
            let hasher = FeatureHasher(numFeatures: try #require(o["numFeatures"]?.intValue))
            let terms: [FeatureHasher.Term] = try #require(o["terms"]?.arrayValue).map { v in
                switch (type, v) {
                case (_, .null): return .null
                case ("ARRAY<INT>", _): return .int(Int32(v.intValue!))
                case ("ARRAY<BIGINT>", _): return .long(Int64(v.intValue!))
                case ("ARRAY<DOUBLE>", .string(let s)): return .double(Double(s)!)
                case ("ARRAY<BOOLEAN>", .bool(let b)): return .bool(b)
                case (_, .string(let s)): return .string(s)
                default: return .null
                }
            }
            var counts: [Int: Double] = [:]
            for t in terms { counts[hasher.index(of: t), default: 0] += 1 }
            let expected = try #require(o["tf"]?.objectValue)
            #expect(counts.keys.sorted() == expected["indices"]?.arrayValue?.compactMap(\.intValue), "\(type)")
            #expect(counts.sorted { $0.key < $1.key }.map(\.value) == expected["values"]?.arrayValue?.compactMap(\.doubleValue), "\(type)")
        }
    }

    @Test func documentVectorsMatchSpark() throws {
        for d in try #require(Self.golden("hashingtf.json")["documents"]?.arrayValue) {
            let o = try #require(d.objectValue)
            let text = try #require(o["text"]?.stringValue)
            for (key, hasher) in [("tf_2p18", FeatureHasher()), ("tf_2p20", FeatureHasher(numFeatures: 1 << 20)),
                                  ("tf_2p18_binary", FeatureHasher(binary: true)),
                                  ("tf_2p20_binary", FeatureHasher(numFeatures: 1 << 20, binary: true)),
                                  ("legacy_spark2_tf_2p18", FeatureHasher(hashVariant: .spark2)),
                                  ("legacy_spark2_tf_2p20", FeatureHasher(numFeatures: 1 << 20, hashVariant: .spark2))] {
                let expected = try #require(o[key]?.objectValue, "\(key)")
                let v = hasher.vector(of: text)
                #expect(v.indices.map(Int.init) == expected["indices"]?.arrayValue?.compactMap(\.intValue), "\(key) of document \(o["id"].map { JSONWriter.string($0) } ?? "")")
                #expect(v.values == expected["values"]?.arrayValue?.compactMap(\.doubleValue), "\(key)")
            }
        }
    }
}

@Suite struct FeatureVectorTests {
    /// The radix sort behind `vector(of:)` sorts like `sort()` at every size and width of index.
    @Test(arguments: [4, 10, 18, 24])
    func radixSortAgreesWithSort(bits: Int) {
        var state: UInt64 = UInt64(bits)
        for count in [0, 1, 31, 32, 33, 500, 5000] {
            var values = (0..<count).map { _ -> Int32 in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int32(truncatingIfNeeded: (state >> 33) & ((1 << UInt64(bits)) - 1))
            }
            let expected = values.sorted()
            FeatureHasher.radixSort(&values, bits: bits)
            #expect(values == expected, "\(count) values of \(bits) bits")
        }
    }

    /// Term counts: repeated terms counted, indices ascending; `binary` marks presence.
    @Test func vectorCountsTermsInAscendingIndexOrder() {
        let text = (0..<200).map { "w\($0 % 37)" }.joined(separator: " ")
        let counts = FeatureHasher(numFeatures: 1 << 10).vector(of: text)
        #expect(counts.indices == counts.indices.sorted() && Set(counts.indices).count == counts.indices.count)
        #expect(counts.values.reduce(0, +) == 200)
        let binary = FeatureHasher(numFeatures: 1 << 10, binary: true).vector(of: text)
        #expect(binary.indices == counts.indices && binary.values.allSatisfy { $0 == 1 })
    }

    /// Lowercasing without ICU (all text without a capital sigma) gives what Foundation's en-US lowercasing gives,
    /// which matched Java on every tokenizer case (SEMANTICS.md §6): checked for every scalar of the first two
    /// planes, alone, inside a word and at its end, and for words with Σ in each position.
    @Test func lowercasingMatchesTheLocaleAwarePath() {
        let enUS = Locale(identifier: "en_US")
        var mismatches: [String] = []
        for value in UInt32(0x80)..<0x20000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let c = String(Character(scalar))
            for text in [c, "A" + c + "B", "Ab" + c] where SparkTokenizer.javaLowercase(text) != text.lowercased(with: enUS) {
                mismatches.append(String(value, radix: 16))
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20))")
        for text in ["ΟΔΟΣ", "ΑΣ.", "ΣΑ", "ΑΣΑ", "Σ", "aΣ", "ΟΣΟΣ"] {
            #expect(SparkTokenizer.javaLowercase(text) == text.lowercased(with: enUS), "\(text)")
        }
        #expect(SparkTokenizer.javaLowercase("ΟΔΟΣ") == "οδος")
    }
}
