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
        // Progress is measured against the file's size: at the end, every byte of the (compressed) file was read.
        #expect(reader.fileBytesRead == Int64(raw.count))
        if !name.hasPrefix("plain") { #expect(reader.bytesRead > reader.fileBytesRead) }
    }

    @Test func zstdFramesCarryAChecksumThatReadersCheck() throws {
        let dir = makeTemporaryDirectory()
        let path = dir + "/docs.jsonl.zst"
        let writer = try DocumentWriter(path: path)
        for d in documents { try writer.write(d) }
        try writer.close()
        var raw = try readFile(path)
        // The frame header descriptor follows the 4-byte magic; bit 2 is Content_Checksum_flag (RFC 8878, 3.1.1.1.1).
        #expect(raw[4] & 0x04 != 0)
        // The last 4 bytes of the frame are the checksum: one changed byte there is an error, not other text.
        raw[raw.count - 1] ^= 0xFF
        try writeFile(path, raw)
        let reader = try DocumentReader(path: path)
        #expect(throws: ThreshError.self) { while try reader.next() != nil {} }
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

/// Reads a whole archive stream one byte at a time, noting the compressed offset of every member start it passes.
private func drain(_ stream: ArchiveStream) throws -> (bytes: [UInt8], boundaries: [Int64]) {
    var out: [UInt8] = []
    var boundaries: [Int64] = []
    while try stream.ensure(1) {
        let (offset, exact) = stream.compressedOffset(of: stream.position)
        if exact && stream.compression != .none && boundaries.last != offset { boundaries.append(offset) }
        // Take one byte at a time at boundaries so each member start is seen.
        out.append(stream.bytes[0])
        stream.consume(1)
    }
    return (out, boundaries)
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

/// The whole-member gzip path reads the gzip wrapper itself and checks the trailer with ISA-L's CRC32:
/// every optional header field must be skipped exactly, and any damage to the trailer must be caught.
@Suite struct GzipMemberDecompressorTests {
    let text = Array(String(repeating: "gzip member body with some repetition, ", count: 300).utf8)

    /// A member whose header carries the optional fields `flags` selects (FHCRC, FEXTRA, FNAME, FCOMMENT).
    func member(flags: UInt8) -> [UInt8] {
        var plain: [UInt8] = []
        text.withUnsafeBytes { ZlibDeflater().compress($0, finish: true, into: &plain) }
        #expect(plain[3] == 0)  // zlib writes no optional fields
        var header = Array(plain[0..<10])
        header[3] = flags
        if flags & 0x04 != 0 { header += [5, 0, 0x41, 0x70, 1, 0, 0x00] }  // FEXTRA: one subfield, with a zero byte
        if flags & 0x08 != 0 { header += Array("name.warc".utf8) + [0] }
        if flags & 0x10 != 0 { header += Array("a comment".utf8) + [0] }
        if flags & 0x02 != 0 {
            let crc = Self.crc32(header)
            header += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF)]
        }
        return header + plain[10...]
    }

    /// Bitwise CRC32 (gzip's polynomial), independent of the libraries under test.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    func decode(_ bytes: [UInt8], capacity: Int = 1 << 20) -> (GzipMemberDecompressor.Outcome, [UInt8]) {
        var output = [UInt8](repeating: 0, count: capacity)
        let outcome = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { GzipMemberDecompressor().decode(input, into: $0) }
        }
        if case .decoded(_, let produced) = outcome { return (outcome, Array(output.prefix(produced))) }
        return (outcome, [])
    }

    @Test func everyCombinationOfOptionalHeaderFieldsIsSkipped() throws {
        for flags in stride(from: UInt8(0), to: 32, by: 2) {
            let bytes = member(flags: flags)
            let (outcome, output) = decode(bytes + [0x1F, 0x8B, 8])  // the next member's start is left alone
            #expect(outcome == .decoded(consumed: bytes.count, produced: text.count), "flags \(flags)")
            #expect(output == text)
            // zlib agrees that the member is valid and what it holds.
            let viaZlib = try bytes.withUnsafeBytes { try InflateAll.decompress($0, wrapper: .gzip, limit: 1 << 20) }
            #expect(viaZlib.error == nil && viaZlib.bytes == text)
        }
    }

    @Test func damagedTrailerOrHeaderIsRejected() {
        let bytes = member(flags: 0x1E)
        for position in bytes.count - 8..<bytes.count {  // each byte of the CRC32 and of the length
            var damaged = bytes
            damaged[position] ^= 0x01
            #expect(decode(damaged).0 == .invalidOrIncomplete, "trailer byte \(position)")
        }
        var reserved = bytes
        reserved[3] |= 0x20
        #expect(decode(reserved).0 == .invalidOrIncomplete)
        var method = bytes
        method[2] = 7
        #expect(decode(method).0 == .invalidOrIncomplete)
        var header = member(flags: 0x02)
        header[10] ^= 0x01  // the header CRC16 itself
        #expect(decode(header).0 == .invalidOrIncomplete)
    }

    @Test func memberCutAnywhereIsIncompleteAndSmallOutputIsSaid() {
        let bytes = member(flags: 0x1E)
        for length in 0..<bytes.count {
            #expect(decode(Array(bytes.prefix(length))).0 == .invalidOrIncomplete, "cut at \(length)")
        }
        #expect(decode(bytes, capacity: text.count - 1).0 == .outputTooSmall)
        #expect(decode(bytes, capacity: text.count).0 == .decoded(consumed: bytes.count, produced: text.count))
    }

    @Test func checksumDamageInAnArchiveIsReportedAsCorrupt() throws {
        var file: [UInt8] = []
        for flags: UInt8 in [0, 0x08, 0x1E] { file += member(flags: flags) }
        var damaged = file
        let secondEnd = member(flags: 0).count + member(flags: 0x08).count
        damaged[secondEnd - 6] ^= 0x40  // a CRC32 byte of the second member: its body decodes fine
        let stream = try ArchiveStream(source: DripSource(damaged, piece: 1 << 20))
        var reasons: [String] = []
        stream.onProblem = { reasons.append($0.reason) }
        let (out, _) = try drain(stream)
        #expect(reasons == ["corrupt-gzip"])
        #expect(out.suffix(text.count).elementsEqual(text))
    }
}
