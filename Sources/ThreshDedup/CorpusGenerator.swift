import ThreshCore
public import ThreshIO

/// Builds dedup test corpora from real text: base documents cut from the given texts, plus edited copies planted
/// at a spread of similarities (word replacements, deletions and insertions), so recall and precision can be
/// measured against brute-force truth. Deterministic for a seed.
public struct DedupCorpusGenerator {
    public var seed: UInt64
    /// Share of base documents that get a planted copy.
    public var plantedShare = 0.15
    /// Edits per 100 words of the copies, cycled through (0.5 to 25: from near-identical to far apart).
    public var editRates: [Double] = [0.5, 1, 2, 3, 5, 8, 12, 18, 25]

    public init(seed: UInt64 = 1) { self.seed = seed }

    private typealias Random = SplitMix64

    /// Writes about `documents` documents of about `wordsPerDocument` words each (bases cut from `texts` in order,
    /// reusing them with shuffled words when the texts run out) plus the planted copies; returns how many of each.
    public func generate(texts: [String], documents: Int, wordsPerDocument: Int, to writer: DocumentWriter) throws -> (bases: Int, copies: Int) {
        var random = Random(state: seed)
        let words = texts.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) }
        precondition(!words.isEmpty, "no words to build documents from")
        let bases = Int(Double(documents) / (1 + plantedShare))
        var copies = 0
        var position = 0
        for b in 0..<bases {
            var doc: [Substring] = []
            if position + wordsPerDocument <= words.count {
                doc = Array(words[position..<(position + wordsPerDocument)])
                position += wordsPerDocument
            } else {
                // Past the end of the real text: documents of words drawn at random from it.
                doc = (0..<wordsPerDocument).map { _ in words[random.below(words.count)] }
            }
            let text = doc.joined(separator: " ")
            try writer.write(Document(id: "base-\(b)", source: "generated", text: text))
            if random.below(10_000) < Int(plantedShare * 10_000) {
                let rate = editRates[copies % editRates.count]
                var copy = doc
                let edits = max(1, Int(Double(copy.count) * rate / 100))
                for _ in 0..<edits {
                    switch random.below(3) {
                    case 0: copy[random.below(copy.count)] = words[random.below(words.count)]
                    case 1: if copy.count > 1 { copy.remove(at: random.below(copy.count)) }
                    default: copy.insert(words[random.below(words.count)], at: random.below(copy.count + 1))
                    }
                }
                try writer.write(Document(id: "copy-\(copies)-of-\(b)", source: "generated", text: copy.joined(separator: " "),
                                          meta: ["edits_per_100_words": .double(rate)]))
                copies += 1
            }
        }
        return (bases, copies)
    }
}
