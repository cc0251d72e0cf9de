// libFuzzer harness for the WARC/ARC record reader, the HTTP parser and body decoders, charset handling, the JSON
// parser, extraction's raw-text elider and the extractor with its time guard (each input is given to all of them).
// Built by scripts/fuzz-warc (one swiftc call over the library sources; see ../shared/docs/FUZZING.md).

/// Serves the fuzzer's bytes in pieces whose size the first byte chooses, so framing across reads is fuzzed too.
final class FuzzSource: ByteSource {
    let name = "fuzz"
    let bytes: UnsafeRawBufferPointer
    let piece: Int
    var position = 0
    init(_ bytes: UnsafeRawBufferPointer, piece: Int) { self.bytes = bytes; self.piece = piece }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(piece, buffer.count, bytes.count - position)
        guard n > 0 else { return 0 }
        buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + position, byteCount: n)
        position += n
        return n
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let all = UnsafeRawBufferPointer(start: data, count: size)
    let piece = [1, 7, 64, 4096, 1 << 20][Int(all[0]) % 5]
    let input = UnsafeRawBufferPointer(rebasing: all[1...])
    let charsets = CharsetTranscoder()
    do {
        let stream = try ArchiveStream(source: FuzzSource(input, piece: piece), maximumWindow: 1 << 20)
        let reader = WARCReader(stream: stream, options: WARCReaderOptions(maximumRecordSize: 1 << 20, maximumHeaderSize: 1 << 16))
        var records = 0
        while let record = try reader.next() {
            records += 1
            precondition(records <= size + 1, "more records than input bytes")
            guard let block = try reader.readBlock() else { continue }
            _ = DigestVerifier.check(record, block: block)
            if let head = HTTPHead.parse(block) {
                let payload = UnsafeRawBufferPointer(rebasing: block[min(head.length, block.count)...])
                let body = HTTPBody.decode(payload, head: head, limit: 1 << 22)
                // nil bytes: the payload needed no decoding (or decoded past the cap, and is dropped).
                (body.bytes ?? Array(payload)).withUnsafeBytes { b in
                    let decision = charsets.decide(b, httpCharset: head.charsetParameter, isHTML: true)
                    _ = charsets.decode(b, as: decision.name)
                }
            }
            _ = try reader.finishRecord()
        }
    } catch {}
    // The same bytes as a JSONL line and as a page for the elider.
    _ = try? JSONParser.parse(input)
    let html = input.bindMemory(to: UInt8.self)
    if let elided = RawTextElider.elide(html) {
        precondition(elided.count <= html.count, "the elider made a page longer")
    }
    // The whole extractor on the bytes as a page (made valid UTF-8 first, as thresh warc hands pages over), with
    // a one-second guard: an input that keeps it busy past the guard is a quadratic path the guard misses.
    var options = ExtractOptions()
    options.maximumSeconds = 1
    let page = String(decoding: html, as: UTF8.self)
    let started = monotonicSeconds()
    _ = try? HTMLExtractor(options: options).extract(html: page)
    precondition(monotonicSeconds() - started < 10, "extraction ran past its time guard")
    return 0
}
