import Testing
import ThreshCore
import ThreshIO
@testable import ThreshShards
import ThreshTestSupport

/// GPT-2 BPE against tiktoken's ids on every text of ../shared/data/tokenizer/gpt2-reference.
@Suite(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
struct TokenizerTests {

    @Test(arguments: ["r50k_base.tiktoken", "encoder.json"])
    func matchesTiktokenOnEveryReferenceText(vocabulary: String) throws {
        let tokenizer = try GPT2Tokenizer(path: TestPaths.sharedData + "/tokenizer/gpt2/" + vocabulary)
        let reader = try DocumentReader(path: TestPaths.sharedData + "/tokenizer/gpt2-reference/gpt2-reference-tokenizations.jsonl")
        var n = 0
        while let d = try reader.next() {
            let text = d.fields["text"]?.stringValue ?? ""
            let expected = d.fields["ids"]?.arrayValue?.compactMap(\.intValue).map(UInt32.init) ?? []
            let ids = tokenizer.encode(text)
            #expect(ids == expected, "\(d.fields["source"]?.stringValue ?? ""): \(String(text.prefix(60)).debugDescription)")
            #expect(tokenizer.decode(ids) == text || text.unicodeScalars.contains { $0.value >= 0xD800 && $0.value < 0xE000 })
            n += 1
        }
        #expect(n >= 77)
    }

    @Test func matchesTiktokenOnTheCommittedTrickyStrings() throws {
        let tokenizer = try GPT2Tokenizer(path: TestPaths.sharedData + "/tokenizer/gpt2")
        let reader = try DocumentReader(path: TestPaths.fixtures + "/gpt2-tricky-strings.jsonl")
        var n = 0
        while let d = try reader.next() {
            let expected = d.fields["ids"]?.arrayValue?.compactMap(\.intValue).map(UInt32.init) ?? []
            #expect(tokenizer.encode(d.text) == expected, "\(d.id): \(d.text.debugDescription)")
            n += 1
        }
        #expect(n >= 50)
    }

    @Test func endOfTextIsOrdinaryTextWhenEncoding() throws {
        let tokenizer = try GPT2Tokenizer(path: TestPaths.sharedData + "/tokenizer/gpt2")
        #expect(!tokenizer.encode("a<|endoftext|>b").contains(GPT2Tokenizer.endOfText))
        #expect(GPT2Tokenizer.endOfText == 50256)
    }
}
