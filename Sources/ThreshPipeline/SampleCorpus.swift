public import ThreshCore
import ThreshIO
import ThreshWARC

/// The project's own sample data (Samples/): a small crawl and small reference corpora, generated from text
/// written here (a phrase grammar over a few topics), deterministic for a seed. The crawl has articles,
/// boilerplate-heavy pages, spam and keyword lists, near-duplicates at several similarities, copies of reference
/// documents, non-HTML records, errors, requests and metadata, and one malformed record.
public struct SampleCorpus {
    public var seed: UInt64 = 2026

    public init() {}

    typealias Random = SplitMix64

    static let topics: [(name: String, nouns: [String], places: [String])] = [
        ("rivers", ["river", "valley", "delta", "flood", "current", "bank", "sediment", "estuary"], ["the Rhine", "the Danube", "the Nile", "the Mekong"]),
        ("astronomy", ["telescope", "galaxy", "comet", "orbit", "planet", "nebula", "observatory", "eclipse"], ["Chile", "Hawaii", "the Canary Islands", "Arizona"]),
        ("cooking", ["bread", "sauce", "oven", "recipe", "flour", "spice", "kitchen", "harvest"], ["Naples", "Lyon", "Oaxaca", "Kyoto"]),
        ("music", ["symphony", "orchestra", "melody", "rhythm", "choir", "piano", "composer", "concert"], ["Vienna", "Leipzig", "Havana", "Lagos"]),
        ("engineering", ["bridge", "engine", "turbine", "circuit", "steel", "design", "factory", "prototype"], ["Glasgow", "Detroit", "Osaka", "Turin"]),
        ("history", ["archive", "treaty", "empire", "chronicle", "harbor", "guild", "manuscript", "dynasty"], ["Venice", "Samarkand", "Lisbon", "Kraków"]),
    ]
    static let adjectives = ["ancient", "remarkable", "quiet", "careful", "unusual", "growing", "modern", "forgotten", "steady", "complex"]
    static let verbs = ["shaped", "described", "changed", "supported", "measured", "revealed", "connected", "preserved", "challenged", "explained"]
    static let connectors = ["while", "because", "although", "after", "before", "since", "so that", "even though"]
    static let subjects = ["researchers", "local farmers", "the city council", "historians", "engineers", "students", "the museum", "visitors"]

    static let syllables = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "ni", "qua", "zel", "bri", "mor", "tan", "ei", "ul"]

    /// A made-up proper name: documents mention different people and places, as real ones do, so they do not
    /// all share one small vocabulary.
    static func name(_ r: inout Random) -> String {
        let n = (0..<(2 + r.below(2))).map { _ in r.pick(syllables) }.joined()
        return n.prefix(1).uppercased() + n.dropFirst()
    }

    static func sentence(_ r: inout Random, topic: Int) -> String {
        let t = topics[topic]
        let s = "The \(r.pick(adjectives)) \(r.pick(t.nouns)) of \(r.pick(t.places)) \(r.pick(verbs)) the \(r.pick(t.nouns)) of \(name(&r)), "
            + "\(r.pick(connectors)) \(r.pick(subjects)) in \(name(&r)) \(r.pick(verbs)) a \(r.pick(adjectives)) \(r.pick(t.nouns))."
        return s
    }

    static func paragraph(_ r: inout Random, topic: Int, sentences: Int) -> String {
        (0..<sentences).map { _ in sentence(&r, topic: topic) }.joined(separator: " ")
    }

    static func escape(_ s: String) -> String { s.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;") }

    static func page(title: String, paragraphs: [String], boilerplate: Bool, r: inout Random) -> String {
        let nav = (0..<(boilerplate ? 25 : 6)).map { "<li><a href=\"/section/\($0)\">Section \($0)</a></li>" }.joined()
        let related = boilerplate ? "<aside class=\"related\"><h3>Related</h3><ul>" + (0..<12).map { "<li><a href=\"/r/\($0)\">Read also: story \($0 * 7 + r.below(9))</a></li>" }.joined() + "</ul></aside>" : ""
        let cookie = boilerplate ? "<div id=\"cookie-consent\"><p>We use cookies to improve your experience. By continuing you accept our cookie policy.</p><button>Accept</button></div>" : ""
        let share = "<div class=\"share-buttons\"><a href=\"#\">Share on Facebook</a> <a href=\"#\">Share on Twitter</a></div>"
        let body = paragraphs.map { "<p>\(escape($0))</p>" }.joined(separator: "\n")
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <script>var tracking = "sample";</script><style>body{font-family:serif}</style></head>
            <body>\(cookie)<header class="site-header"><a href="/">Sample Site</a></header><nav><ul>\(nav)</ul></nav>
            <main><article><h1>\(escape(title))</h1>
            \(body)
            \(share)</article>\(related)</main>
            <footer><p>Copyright 2026 Sample Site. All rights reserved. Imprint. Privacy policy.</p></footer></body></html>
            """
    }

    /// A reference document in a style: webtext (short posts), books (long chapters), wikipedia (encyclopedic).
    static func reference(_ r: inout Random, style: String, topic: Int) -> String {
        switch style {
        case "books": return (0..<12).map { _ in paragraph(&r, topic: topic, sentences: 6) }.joined(separator: "\n\n")
        case "wikipedia":
            let t = topics[topic]
            return "\(t.nouns[0].capitalizedFirst) is a subject of study in \(t.places[0]) and elsewhere.\n\n"
                + (0..<5).map { _ in paragraph(&r, topic: topic, sentences: 4) }.joined(separator: "\n\n")
        default:
            // Posts as a web page's main text reads: a title line, then paragraphs.
            return "On \(topics[topic].nouns[r.below(8)])s, part \(r.below(100))\n\n" + (0..<3).map { _ in paragraph(&r, topic: topic, sentences: 4) }.joined(separator: "\n\n")
        }
    }

    /// Writes Samples/crawl/crawl-0000N.warc.gz (two shards), Samples/reference/<style>/part-0.jsonl, and returns
    /// the counts.
    public func write(to directory: String) throws -> JSONObject {
        var r = Random(state: seed)
        for d in [directory, directory + "/crawl", directory + "/reference", directory + "/reference/webtext",
                  directory + "/reference/books", directory + "/reference/wikipedia"] { try Paths.makeDirectories(d) }
        // Reference corpora.
        var references: [String: [String]] = [:]
        for (style, count) in [("webtext", 160), ("books", 40), ("wikipedia", 90)] {
            let writer = try DocumentWriter(path: directory + "/reference/\(style)/part-0.jsonl")
            var texts: [String] = []
            for i in 0..<count {
                let text = Self.reference(&r, style: style, topic: i % Self.topics.count)
                texts.append(text)
                try writer.write(Document(id: "\(style)-\(i)", source: style, text: text))
            }
            try writer.close()
            references[style] = texts
        }
        // The crawl, in two shards.
        var counts: [String: Int] = [:]
        var recordNumber = 0
        var articleTexts: [[String]] = []
        for shard in 0..<2 {
            let writer = try WARCWriter(path: directory + "/crawl/crawl-0000\(shard).warc.gz")
            func id() -> String {
                recordNumber += 1
                return SampleCrawl.recordID(key: "sample-record-\(recordNumber)")
            }
            func capture(url: String, status: String = "200 OK", contentType: String, body: [UInt8]) throws {
                let date = "2026-03-\(10 + shard)T12:\(String(format2(recordNumber % 60))):00Z"
                try writer.write(headers: [("WARC-Type", "request"), ("WARC-Record-ID", id()), ("WARC-Date", date), ("WARC-Target-URI", url),
                                           ("Content-Type", "application/http; msgtype=request")],
                                 block: Array("GET / HTTP/1.1\r\nHost: sample\r\n\r\n".utf8))
                let block = Array("HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
                try writer.write(headers: [("WARC-Type", "response"), ("WARC-Record-ID", id()), ("WARC-Date", date), ("WARC-Target-URI", url),
                                           ("Content-Type", "application/http; msgtype=response")], block: block)
                try writer.write(headers: [("WARC-Type", "metadata"), ("WARC-Record-ID", id()), ("WARC-Date", date), ("WARC-Target-URI", url),
                                           ("Content-Type", "application/warc-fields")], block: Array("fetchTimeMs: 42\r\n".utf8))
            }
            // Like a raw crawl, mostly not worth training on: few articles, many portal pages and spam.
            for i in 0..<35 {  // articles
                let topic = r.below(Self.topics.count)
                let paragraphs = (0..<(4 + r.below(4))).map { _ in Self.paragraph(&r, topic: topic, sentences: 3 + r.below(3)) }
                articleTexts.append(paragraphs)
                try capture(url: "https://news\(shard).example.org/\(Self.topics[topic].name)/\(i)", contentType: "text/html; charset=utf-8",
                            body: Array(Self.page(title: "On \(Self.topics[topic].nouns[i % 8])s, part \(i)", paragraphs: paragraphs, boilerplate: false, r: &r).utf8))
                counts["articles", default: 0] += 1
            }
            for i in 0..<90 {  // boilerplate-heavy pages with little content
                let topic = r.below(Self.topics.count)
                try capture(url: "https://portal\(shard).example.com/page/\(i)", contentType: "text/html",
                            body: Array(Self.page(title: "Portal page \(i)", paragraphs: [Self.sentence(&r, topic: topic), Self.sentence(&r, topic: topic)], boilerplate: true, r: &r).utf8))
                counts["boilerplate", default: 0] += 1
            }
            let spamWords = ["buy", "cheap", "pills", "casino", "bonus", "free", "click", "here", "best", "price", "discount", "winner", "loans", "crypto"]
            for i in 0..<60 {  // spam and keyword lists
                let text = (0..<(60 + r.below(60))).map { _ in r.pick(spamWords) }.joined(separator: " ")
                let list = "<ul>" + (0..<20).map { _ in "<li>\(r.pick(spamWords)) \(r.pick(spamWords))</li>" }.joined() + "</ul>"
                try capture(url: "http://spam\(shard)-\(i).example.biz/", contentType: "text/html",
                            body: Array("<html><head><title>\(r.pick(spamWords)) \(r.pick(spamWords))</title></head><body><p>\(text)</p>\(list)</body></html>".utf8))
                counts["spam", default: 0] += 1
            }
            for i in 0..<20 where !articleTexts.isEmpty {  // near-duplicates of earlier articles
                let original = articleTexts[r.below(articleTexts.count)]
                let editRate = [0, 2, 5, 10, 25][i % 5]
                let edited = original.map { p -> String in
                    var words = p.split(separator: " ").map(String.init)
                    for _ in 0..<(words.count * editRate / 100) { words[r.below(words.count)] = r.pick(Self.adjectives) }
                    return words.joined(separator: " ")
                }
                try capture(url: "https://mirror\(shard).example.net/copy/\(i)", contentType: "text/html",
                            body: Array(Self.page(title: "Mirrored story \(i)", paragraphs: edited, boilerplate: i % 2 == 0, r: &r).utf8))
                counts["near-duplicates", default: 0] += 1
            }
            for i in 0..<6 {  // copies of reference documents (removed by cross-dataset dedup)
                let text = references["webtext"]![(shard * 6 + i) * 3]
                try capture(url: "https://blog\(shard).example.org/repost/\(i)", contentType: "text/html",
                            body: Array(Self.page(title: "Repost \(i)", paragraphs: text.components(separatedByBlankLines: ()), boilerplate: false, r: &r).utf8))
                counts["reference-copies", default: 0] += 1
            }
            for i in 0..<5 {  // non-HTML and errors
                try capture(url: "https://cdn\(shard).example.org/img/\(i).jpg", contentType: "image/jpeg", body: (0..<200).map { _ in UInt8(r.below(256)) })
                try capture(url: "https://news\(shard).example.org/missing/\(i)", status: "404 Not Found", contentType: "text/html",
                            body: Array("<html><body><h1>Not found</h1></body></html>".utf8))
                counts["non-html-or-error", default: 0] += 2
            }
            // One malformed record (no Content-Length).
            try writer.writeRaw(Array("WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: \(id())\r\n\r\nHTTP/1.1 200 OK\r\n\r\nlost\r\n\r\n".utf8))
            counts["malformed", default: 0] += 1
            try writer.close()
        }
        return JSONObject(counts.sorted { $0.key < $1.key }.map { (key: $0.key, value: .int($0.value)) })
    }
}

func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

extension String {
    func replacingAll(_ a: String, _ b: String) -> String { split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b) }
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
    func components(separatedByBlankLines: ()) -> [String] {
        var parts: [String] = []
        var current: [Substring] = []
        for line in split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { if !current.isEmpty { parts.append(current.joined(separator: " ")); current = [] } } else { current.append(line) }
        }
        if !current.isEmpty { parts.append(current.joined(separator: " ")) }
        return parts
    }
}

#if canImport(Glibc)
import Glibc
#endif
