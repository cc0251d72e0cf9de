import Testing
#if canImport(Glibc)
import Glibc
#endif
import ThreshCore
@testable import ThreshIO
import ThreshTestSupport

@Suite struct DocumentStreamTests {
    let documents = (0..<500).map { i in
        Document(id: "doc-\(i)", source: "test", text: "Text \(i) — ünïcödé \"quoted\"\nline two", url: "http://x/\(i)",
                 meta: ["n": .int(i)])
    }

    @Test(arguments: ["plain.jsonl", "docs.jsonl.gz", "docs.jsonl.zst"])
    func roundTripsThroughEveryCompression(name: String) throws {
        let dir = makeTemporaryDirectory()
        let path = dir + "/" + name
        let writer = try DocumentWriter(path: path)
        for d in documents { try writer.write(d) }
        try writer.close()
        let raw = try readFile(path)
        if name.hasSuffix(".gz") { #expect(raw.starts(with: [0x1F, 0x8B])) }
        if name.hasSuffix(".zst") { #expect(raw.starts(with: [0x28, 0xB5, 0x2F, 0xFD])) }
        let reader = try DocumentReader(path: path)
        var read: [Document] = []
        while let d = try reader.next() { read.append(d) }
        #expect(read == documents)
    }

    @Test func detectsCompressionFromContentNotName() throws {
        let dir = makeTemporaryDirectory()
        let writer = try DocumentWriter(path: dir + "/real.jsonl.zst")
        try writer.write(documents[0])
        try writer.close()
        #expect(rename(dir + "/real.jsonl.zst", dir + "/misnamed.jsonl") == 0)
        let reader = try DocumentReader(path: dir + "/misnamed.jsonl")
        #expect(try reader.next() == documents[0])
    }

    @Test func invalidLineFailsWithFileAndLine() throws {
        let dir = makeTemporaryDirectory()
        let path = dir + "/bad.jsonl"
        try writeFile(path, Array("{\"id\":\"a\",\"text\":\"x\"}\n\n{\"id\": broken}\n{\"id\":\"c\",\"text\":\"z\"}\n".utf8))
        let strict = try DocumentReader(path: path)
        _ = try strict.next()
        do {
            _ = try strict.next()
            Issue.record("expected an error")
        } catch let error as ThreshError {
            #expect(error.file == path)
            #expect(error.line == 3)
            #expect(error.code == .invalidJSON)
        }
        let lenient = try DocumentReader(path: path, onError: .skip)
        var ids: [String] = []
        while let d = try lenient.next() { ids.append(d.id) }
        #expect(ids == ["a", "c"])
        #expect(lenient.skipped == 1)
    }

    @Test func truncatedGzipIsAnErrorNotSilentLoss() throws {
        let dir = makeTemporaryDirectory()
        let path = dir + "/docs.jsonl.gz"
        let writer = try DocumentWriter(path: path)
        for d in documents { try writer.write(d) }
        try writer.close()
        let raw = try readFile(path)
        try writeFile(path, Array(raw.prefix(raw.count / 2)))
        let reader = try DocumentReader(path: path)
        #expect(throws: ThreshError.self) { while try reader.next() != nil {} }
    }
}

@Suite struct ArchiveStreamTests {
    /// Gzip members of random-ish text, each a "record".
    func gzipMembers(_ count: Int) -> (members: [[UInt8]], plain: [[UInt8]]) {
        var members: [[UInt8]] = []
        var plain: [[UInt8]] = []
        for i in 0..<count {
            let text = Array(String(repeating: "record \(i) payload \(i * 7919 % 1000) ", count: 1 + i % 50).utf8)
            var member: [UInt8] = []
            text.withUnsafeBytes { ZlibDeflater().compress($0, finish: true, into: &member) }
            members.append(member)
            plain.append(text)
        }
        return (members, plain)
    }

    func drain(_ stream: ArchiveStream) throws -> (bytes: [UInt8], boundaries: [Int64]) {
        var out: [UInt8] = []
        var boundaries: [Int64] = []
        while try stream.ensure(1) {
            let (offset, exact) = stream.compressedOffset(of: stream.position)
            if exact && stream.compression != .none && boundaries.last != offset { boundaries.append(offset) }
            // Take one byte at a time at boundaries so each member start is seen.
            let n = 1
            out.append(contentsOf: stream.bytes[0..<n])
            stream.consume(n)
        }
        return (out, boundaries)
    }

    @Test(arguments: [1, 7, 4096, 1 << 20])
    func gzipMembersDecodeTheSameWhateverTheReadSize(piece: Int) throws {
        let (members, plain) = gzipMembers(40)
        let file = members.flatMap { $0 }
        let stream = try ArchiveStream(source: DripSource(file, piece: piece))
        #expect(stream.compression == .gzip)
        let (bytes, boundaries) = try drain(stream)
        #expect(bytes == plain.flatMap { $0 })
        var expected: [Int64] = []
        var offset: Int64 = 0
        for m in members { expected.append(offset); offset += Int64(m.count) }
        #expect(boundaries == expected)
    }

    @Test func membersLargerThanTheWindowStreamThroughZlib() throws {
        let big = Array(String(repeating: "large record body ", count: 400_000).utf8)  // ~7 MB
        var member: [UInt8] = []
        big.withUnsafeBytes { ZlibDeflater().compress($0, finish: true, into: &member) }
        let stream = try ArchiveStream(source: DripSource(member + member, piece: 65536), maximumWindow: 1 << 20)
        var total: Int64 = 0
        while try stream.ensure(1) { total += Int64(stream.available); stream.consume(stream.available) }
        #expect(total == Int64(big.count * 2))
    }

    /// Frames compressed against a dictionary, which the file carries in a skippable frame with magic
    /// 0x184D2A5D (the WARC zstd convention), raw or itself zstd-compressed.
    @Test(arguments: [false, true])
    func zstdFramesWithTheDictionaryFrame(compressedDictionary: Bool) throws {
        let texts = (0..<20).map { Array("WARC/1.1\r\nWARC-Type: response\r\nrecord \($0) ".utf8) + Array(repeating: UInt8(ascii: "z"), count: $0 * 100) }
        let dictionary = Array(String(repeating: "WARC/1.1\r\nWARC-Type: response\r\nContent-Type: application/http\r\n", count: 20).utf8)
        var stored = dictionary
        if compressedDictionary {
            stored = []
            dictionary.withUnsafeBytes { ZstdEncoder().compress($0, finish: true, into: &stored) }
        }
        var file: [UInt8] = [0x5D, 0x2A, 0x4D, 0x18] + withUnsafeBytes(of: UInt32(stored.count).littleEndian, Array.init) + stored
        for t in texts {
            var frame: [UInt8] = []
            t.withUnsafeBytes { ZstdEncoder(dictionary: dictionary).compress($0, finish: true, into: &frame) }
            file += frame
        }
        for piece in [1, 13, 1 << 20] {
            let stream = try ArchiveStream(source: DripSource(file, piece: piece))
            #expect(stream.compression == .zstd)
            let (bytes, boundaries) = try drain(stream)
            #expect(bytes == texts.flatMap { $0 })
            #expect(boundaries.count == texts.count)
        }
        // Without the dictionary frame the same frames cannot be decoded: the dictionary really is used.
        let withoutDictionary = Array(file[(8 + stored.count)...])
        let stream = try ArchiveStream(source: DripSource(withoutDictionary, piece: 1 << 20))
        var reasons: [String] = []
        stream.onProblem = { reasons.append($0.reason) }
        _ = try drain(stream)
        #expect(reasons == ["corrupt-zstd"])
    }

    @Test func corruptMemberIsReportedAndReadingResumes() throws {
        var (members, plain) = gzipMembers(5)
        members[2][members[2].count / 2] ^= 0xFF
        members[2][members[2].count / 2 + 1] ^= 0x55
        let stream = try ArchiveStream(source: DripSource(members.flatMap { $0 }, piece: 1 << 20))
        var reasons: [String] = []
        stream.onProblem = { reasons.append($0.reason) }
        let (bytes, _) = try drain(stream)
        #expect(reasons.contains("corrupt-gzip"))
        // Members after the damaged one are all there.
        let tail = plain[3] + plain[4]
        #expect(Array(bytes.suffix(tail.count)) == tail)
    }

    @Test func truncatedFileEndsWithAProblemNotAHang() throws {
        let (members, _) = gzipMembers(3)
        let file = members.flatMap { $0 }
        let stream = try ArchiveStream(source: DripSource(Array(file.prefix(file.count - 10)), piece: 3))
        var reasons: [String] = []
        stream.onProblem = { reasons.append($0.reason) }
        _ = try drain(stream)
        #expect(reasons == ["truncated-gzip"])
    }
}
