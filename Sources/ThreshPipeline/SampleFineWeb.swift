import ThreshCore
import ThreshIO
import ThreshWARC

/// What FineWeb's recipe (`Pipelines/fineweb.toml`) needs beyond the GPT-3 sample crawl, so that every stage has
/// work: pages in German and French (language ID), English articles with email and IP addresses (PII), pages of
/// one line repeated (Gopher repetition), pages on blocklisted sites and URLs with banned words (the URL filter),
/// and the lists themselves (`blocklist/` in UT1's layout, `url-words/`), with made-up names only.
struct SampleFineWeb {
    typealias Random = SplitMix64

    static let german = (
        subjects: ["Die Forscher", "Der Stadtrat", "Die Studenten", "Die Bauern", "Das Museum", "Die Ingenieure"],
        verbs: ["untersuchten", "beschrieben", "veränderten", "bewahrten", "erklärten", "verbanden"],
        objects: ["den alten Fluss", "die neue Brücke", "das stille Tal", "die lange Geschichte", "den großen Hafen", "die kleine Kirche"],
        clauses: ["während es draußen regnete", "nachdem der Winter vorbei war", "weil die Stadt wuchs", "obwohl niemand daran glaubte"]
    )
    static let french = (
        subjects: ["Les chercheurs", "Le conseil municipal", "Les étudiants", "Les agriculteurs", "Le musée", "Les ingénieurs"],
        verbs: ["ont étudié", "ont décrit", "ont changé", "ont préservé", "ont expliqué", "ont relié"],
        objects: ["la vieille rivière", "le nouveau pont", "la vallée tranquille", "la longue histoire", "le grand port", "la petite église"],
        clauses: ["pendant qu'il pleuvait dehors", "après la fin de l'hiver", "parce que la ville grandissait", "bien que personne n'y croyait"]
    )

    static func foreignSentence(_ r: inout Random, german: Bool) -> String {
        let l = german ? Self.german : Self.french
        let place = SampleCorpus.name(&r)
        return german ? "\(r.pick(l.subjects)) aus \(place) \(r.pick(l.verbs)) \(r.pick(l.objects)), \(r.pick(l.clauses))."
            : "\(r.pick(l.subjects)) de \(place) \(r.pick(l.verbs)) \(r.pick(l.objects)), \(r.pick(l.clauses))."
    }

    /// Writes `fineweb/fineweb-00000.warc.gz`, `blocklist/` and `url-words/` under `directory`; returns the counts.
    func write(to directory: String, seed: UInt64) throws -> [String: Int] {
        var r = Random(state: seed ^ 0xF1AE_3EB0)
        for d in [directory + "/fineweb", directory + "/blocklist/adult", directory + "/url-words"] { try Paths.makeDirectories(d) }
        try writeText(directory + "/blocklist/adult/domains", "# made-up domains for the sample URL filter\nblocked-sample-site.com\nsub.partly-blocked-sample.org\n")
        try writeText(directory + "/blocklist/adult/urls", "https://news0.example.org/blocked/page\n")
        try writeText(directory + "/url-words/banned_words.txt", "forbiddenword\nzorbleflax\n")
        try writeText(directory + "/url-words/soft_banned_words.txt", "softword\nsoftterm\nsoftthing\n")
        try writeText(directory + "/url-words/banned_subwords.txt", "quxbadpart\n")
        let writer = try WARCWriter(path: directory + "/fineweb/fineweb-00000.warc.gz")
        var recordNumber = 0
        var counts: [String: Int] = [:]
        func capture(url: String, html: String) throws {
            recordNumber += 1
            let id = SampleCrawl.recordID(key: "fineweb-sample-record-\(recordNumber)")
            let body = Array(html.utf8)
            let block = Array("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
            try writer.write(headers: [("WARC-Type", "response"), ("WARC-Record-ID", id), ("WARC-Date", "2026-04-01T08:\(format2(recordNumber % 60)):00Z"),
                                       ("WARC-Target-URI", url), ("Content-Type", "application/http; msgtype=response")], block: block)
        }
        func article(_ paragraphs: [String], title: String, lang: String = "en") -> String {
            var html = SampleCorpus.page(title: title, paragraphs: paragraphs, boilerplate: false, r: &r)
            if lang != "en" { html = html.replacing("<html lang=\"en\">", with: "<html lang=\"\(lang)\">") }
            return html
        }
        for i in 0..<24 {  // German and French articles: language ID drops them
            let german = i % 2 == 0
            let paragraphs = (0..<5).map { _ in (0..<4).map { _ in Self.foreignSentence(&r, german: german) }.joined(separator: " ") }
            try capture(url: "https://\(german ? "de" : "fr").example-nachrichten.org/artikel/\(i)",
                        html: article(paragraphs, title: german ? "Bericht \(i)" : "Rapport \(i)", lang: german ? "de" : "fr"))
            counts[german ? "german" : "french", default: 0] += 1
        }
        for i in 0..<16 {  // English articles with addresses in them
            let topic = r.below(SampleCorpus.topics.count)
            var paragraphs = (0..<5).map { _ in SampleCorpus.paragraph(&r, topic: topic, sentences: 4) }
            let person = SampleCorpus.name(&r).lowercased()
            paragraphs.append("Readers can write to the author at \(person).\(i)@mail-sample.example or to the desk at desk@news-sample.example, "
                + "and the data set is served from 93.184.\(200 + i % 50).\(10 + i) while the office network uses 192.168.1.\(i + 1).")
            try capture(url: "https://news1.example.org/contact-story/\(i)", html: article(paragraphs, title: "A story with contacts \(i)"))
            counts["pii", default: 0] += 1
        }
        for i in 0..<10 {  // one line repeated: Gopher repetition drops these
            let line = SampleCorpus.sentence(&r, topic: r.below(SampleCorpus.topics.count))
            try capture(url: "https://repeat.example.com/page/\(i)", html: article(Array(repeating: line, count: 12), title: "Repeated \(i)"))
            counts["repeated-lines", default: 0] += 1
        }
        let blocked = ["http://www.blocked-sample-site.com/a", "https://sub.partly-blocked-sample.org/b", "https://news0.example.org/blocked/page",
                       "https://fine.example.org/zorbleflax/story", "https://fine.example.org/softword-and-softterm", "https://fine.example.org/xquxbadpartx"]
        for (i, url) in blocked.enumerated() {  // the URL filter drops these
            let paragraphs = (0..<5).map { _ in SampleCorpus.paragraph(&r, topic: i % SampleCorpus.topics.count, sentences: 4) }
            try capture(url: url, html: article(paragraphs, title: "Listed \(i)"))
            counts["url-listed", default: 0] += 1
        }
        try writer.close()
        return counts
    }

    private func writeText(_ path: String, _ text: String) throws {
        let file = try OutputFile(path: path)
        try file.write(Array(text.utf8))
        try file.close()
    }
}
