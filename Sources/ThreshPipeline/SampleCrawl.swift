#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO
import ThreshWARC

/// The project's own sample inputs (Samples/), written deterministically from text in this module: no downloaded data.
public enum Samples {
    /// Writes `directory/crawl-sample.warc.gz` (a small archive of encodings and codings, for `thresh warc` by hand),
    /// the crawl and reference corpora `Pipelines/gpt3.toml` runs on, and what `Pipelines/fineweb.toml` adds
    /// (`fineweb/`, `blocklist/`, `url-words/`); returns the counts.
    public static func write(to directory: String) throws -> JSONObject {
        try Paths.makeDirectories(directory)
        let writer = try WARCWriter(path: directory + "/crawl-sample.warc.gz")
        try SampleCrawl.write(to: writer)
        try writer.close()
        let corpus = SampleCorpus()
        var counts = try corpus.write(to: directory)
        for (key, n) in try SampleFineWeb().write(to: directory, seed: corpus.seed).sorted(by: { $0.key < $1.key }) {
            counts["fineweb-" + key] = .int(n)
        }
        return counts
    }
}

/// The sample crawl: pages in several encodings and transfer/content codings, with the records a real
/// crawl also has (requests, metadata, images, errors) and one malformed record.
enum SampleCrawl {
    struct Page {
        var url: String
        var status: String = "200 OK"
        var contentType: String
        var body: [UInt8]
        var chunked = false
        var gzip = false
    }

    static func html(title: String, paragraphs: [String], charsetMeta: String? = nil) -> String {
        let meta = charsetMeta.map { "<meta charset=\"\($0)\">" } ?? ""
        let body = paragraphs.map { "<p>\($0)</p>" }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head>\(meta)<title>\(title)</title></head>
            <body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
            <article><h1>\(title)</h1>
            \(body)
            </article>
            <footer>Copyright 2026 Sample Site. All rights reserved.</footer></body></html>
            """
    }

    static func encode(_ text: String, as charset: String) -> [UInt8] {
        let cd = iconv_open(charset, "UTF-8")
        precondition(cd != iconv_t(bitPattern: -1), "iconv cannot encode \(charset)")
        defer { iconv_close(cd) }
        var input = Array(text.utf8)
        var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
        let produced = input.withUnsafeMutableBytes { inBuf in
            output.withUnsafeMutableBytes { outBuf -> Int in
                var inPtr: UnsafeMutablePointer<CChar>? = inBuf.baseAddress!.assumingMemoryBound(to: CChar.self)
                var inLeft = inBuf.count
                var outPtr: UnsafeMutablePointer<CChar>? = outBuf.baseAddress!.assumingMemoryBound(to: CChar.self)
                var outLeft = outBuf.count
                _ = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                return outBuf.count - outLeft
            }
        }
        return Array(output[0..<produced])
    }

    static var pages: [Page] {
        [
            Page(url: "http://news.example.org/2026/rivers", contentType: "text/html; charset=utf-8",
                 body: Array(html(title: "How rivers shape valleys", paragraphs: [
                    "Rivers carve their valleys over thousands of years, carrying sediment from the mountains to the sea.",
                    "Where the current slows, the river drops sand and gravel, building floodplains that farmers have used since antiquity.",
                 ]).utf8), gzip: true),
            Page(url: "http://blog.example.com/caf%C3%A9", contentType: "text/html; charset=windows-1252",
                 body: encode(html(title: "Café culture", paragraphs: [
                    "The café on the corner serves crème brûlée and a strong espresso — a small luxury at 3 € a cup.",
                 ]), as: "WINDOWS-1252")),
            Page(url: "http://ru.example.net/reka", contentType: "text/html",
                 body: encode(html(title: "Река", paragraphs: ["Река течёт к морю, и берега её покрыты лесом."],
                                   charsetMeta: "windows-1251"), as: "WINDOWS-1251"), chunked: true),
            Page(url: "http://jp.example.jp/kawa", contentType: "text/html; charset=Shift_JIS",
                 body: encode(html(title: "川の話", paragraphs: ["川は山から海へ流れ、谷を作ります。"]), as: "CP932")),
            Page(url: "http://docs.example.org/readme.txt", contentType: "text/plain",
                 body: Array("Plain text pages become documents as they are.\nSecond line of the readme.\n".utf8)),
            Page(url: "http://news.example.org/missing", status: "404 Not Found", contentType: "text/html",
                 body: Array(html(title: "Not found", paragraphs: ["This page does not exist."]).utf8)),
            Page(url: "http://news.example.org/logo.jpg", contentType: "image/jpeg",
                 body: [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0xFF, 0xD9]),
            Page(url: "http://spam.example.biz/cheap", contentType: "text/html; charset=utf-8",
                 body: Array(html(title: "cheap cheap cheap", paragraphs: [
                    "buy now cheap pills casino bonus free free free click here best price buy now",
                 ]).utf8), chunked: true, gzip: true),
        ]
    }

    static func recordID(_ n: Int) -> String { recordID(key: "thresh-sample-\(n)") }

    /// A WARC-Record-ID made from a key (the first 16 bytes of its SHA-1 as a UUID), the same on every run.
    static func recordID(key: String) -> String {
        let digest = Array(key.utf8).withUnsafeBytes { SHA1.hash($0) }
        let hex = hexString(Array(digest.prefix(16)))
        let c = Array(hex)
        return "<urn:uuid:\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))>"
    }

    static func write(to writer: WARCWriter) throws {
        var n = 0
        func nextID() -> String { n += 1; return recordID(n) }
        let info = Array("software: thresh samples\r\nformat: WARC File Format 1.1\r\n".utf8)
        try writer.write(headers: [("WARC-Type", "warcinfo"), ("WARC-Record-ID", nextID()), ("WARC-Date", "2026-01-01T00:00:00Z"),
                                   ("Content-Type", "application/warc-fields")], block: info)
        for (i, page) in pages.enumerated() {
            let date = "2026-01-01T00:\(i < 10 ? "0" : "")\(i):00Z"
            let request = Array("GET \(page.url.split(separator: "/", maxSplits: 3).dropFirst(3).first.map { "/" + $0 } ?? "/") HTTP/1.1\r\nHost: example\r\nUser-Agent: thresh-samples\r\n\r\n".utf8)
            try writer.write(headers: [("WARC-Type", "request"), ("WARC-Record-ID", nextID()), ("WARC-Date", date),
                                       ("WARC-Target-URI", page.url), ("Content-Type", "application/http; msgtype=request")],
                             block: request)
            var body = page.body
            var headers = "HTTP/1.1 \(page.status)\r\nContent-Type: \(page.contentType)\r\n"
            if page.gzip {
                var compressed: [UInt8] = []
                body.withUnsafeBytes { ZlibDeflater().compress($0, finish: true, into: &compressed) }
                body = compressed
                headers += "Content-Encoding: gzip\r\n"
            }
            if page.chunked {
                var chunked: [UInt8] = []
                var position = 0
                while position < body.count {
                    let size = min(97, body.count - position)
                    chunked += Array(String(size, radix: 16).utf8) + [13, 10] + body[position..<(position + size)] + [13, 10]
                    position += size
                }
                chunked += Array("0\r\n\r\n".utf8)
                body = chunked
                headers += "Transfer-Encoding: chunked\r\n"
            } else {
                headers += "Content-Length: \(body.count)\r\n"
            }
            let block = Array((headers + "\r\n").utf8) + body
            let payloadDigest = body.withUnsafeBytes { DigestVerifier.sha1Base32($0) }
            let blockDigest = block.withUnsafeBytes { DigestVerifier.sha1Base32($0) }
            try writer.write(headers: [("WARC-Type", "response"), ("WARC-Record-ID", nextID()), ("WARC-Date", date),
                                       ("WARC-Target-URI", page.url), ("Content-Type", "application/http; msgtype=response"),
                                       ("WARC-Block-Digest", "sha1:" + blockDigest), ("WARC-Payload-Digest", "sha1:" + payloadDigest)],
                             block: block)
            try writer.write(headers: [("WARC-Type", "metadata"), ("WARC-Record-ID", nextID()), ("WARC-Date", date),
                                       ("WARC-Target-URI", page.url), ("Content-Type", "application/warc-fields")],
                             block: Array("fetchTimeMs: \(40 + i)\r\n".utf8))
        }
        // A malformed record (no Content-Length): reported with its offset, counted, and skipped.
        try writer.writeRaw(Array("WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: \(nextID())\r\n\r\nHTTP/1.1 200 OK\r\n\r\nlost\r\n\r\n".utf8))
        // A WET-style conversion record, whose text is used directly.
        try writer.write(headers: [("WARC-Type", "conversion"), ("WARC-Record-ID", nextID()), ("WARC-Date", "2026-01-01T01:00:00Z"),
                                   ("WARC-Target-URI", "http://news.example.org/2026/rivers"), ("Content-Type", "text/plain")],
                         block: Array("How rivers shape valleys\nRivers carve their valleys over thousands of years.\n".utf8))
    }
}
