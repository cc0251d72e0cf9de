public import ThreshCore
#if canImport(Glibc)
import Glibc
#endif

/// A problem found while decoding an archive's byte stream, already placed (file, offset) and classified.
public struct StreamProblem: Sendable {
    /// Statistics reason, e.g. `corrupt-gzip`, `truncated-gzip`, `garbage-between-members`.
    public var reason: String
    public var error: ThreshError
}

/// The decompressed bytes of an archive file, with the compressed offset of every gzip member or zstd frame,
/// so record parsers can report the offsets an index needs and resynchronise at member boundaries.
///
/// Whole gzip members are decoded with libdeflate (much faster than zlib) up to 8 MiB of output;
/// larger ones (a whole-file gzip stream, a huge record) and damaged ones go through zlib's streaming inflater.
/// Memory is bounded by `maximumWindow` for each of the compressed and the decoded buffers.
public final class ArchiveStream {
    /// The file name used in messages.
    public let name: String
    /// The compression found from the first bytes.
    public private(set) var compression: StreamCompression = .none
    /// Problems found in the byte stream (corrupt or truncated members, garbage between members); the reader
    /// keeps going after each.
    public var onProblem: ((StreamProblem) -> Void)?

    private let file: any ByteSource
    private var resynchronising = false
    private let maximumWindow: Int
    private let chunk = 1 << 20

    // Compressed input window: raw[rawStart..<rawEnd] holds file bytes from offset rawBase + rawStart.
    private var raw: UnsafeMutableRawBufferPointer
    private var rawStart = 0
    private var rawEnd = 0
    private var rawBase: Int64 = 0
    private var rawEOF = false

    // Decoded window: dec[decStart..<decEnd] holds decoded bytes from stream offset decBase + decStart.
    private var dec: UnsafeMutableRawBufferPointer
    private var decStart = 0
    private var decEnd = 0
    private var decBase: Int64 = 0
    private var decodedEOF = false

    /// Starts of members: decoded offset and compressed offset, oldest first (pruned as the reader advances).
    private var boundaries: [(decoded: Int64, raw: Int64)] = []

    private enum Mode {
        case plain
        case gzipWhole
        case gzipStreaming(ZlibInflater)
        case zstd(ZstdDecoder, inFrame: Bool)
        case lz4(Lz4Decoder, inFrame: Bool)
    }
    private var mode: Mode = .plain
    /// The largest decoded size for which a gzip member is decoded in one piece by libdeflate.
    static let wholeMemberLimit = 8 << 20
    private let members = GzipMemberDecompressor()

    /// Opens `path` (or `-`) and detects its compression.
    /// - Parameter maximumWindow: the largest member decoded in one piece and the largest contiguous span
    ///   `ensure` can provide.
    public convenience init(path: String, maximumWindow: Int = 64 << 20) throws {
        try self.init(source: try RawFileReader(path: path), maximumWindow: maximumWindow)
        // A regular file is mapped instead of read: the decompressor then works on the page cache directly,
        // without the copy a read() makes. Pages behind the reader are released as it goes, so memory stays flat.
        if path != "-" { mapFile(path) }
    }

    private var mapping: UnsafeMutableRawPointer?
    private var mappingSize = 0
    private var releasedUpTo = 0
    private var populatedUpTo = 0

    private func mapFile(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0, info.st_size < Int64(Int.max / 2) else { return }
        let size = Int(info.st_size)
        guard let m = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), m != MAP_FAILED else { return }
        _ = madvise(m, size, MADV_SEQUENTIAL)
        // The bytes read ahead for format detection were the file's first bytes: the mapping replaces them.
        raw.deallocate()
        raw = UnsafeMutableRawBufferPointer(start: m, count: size)
        mapping = m
        mappingSize = size
        rawBase = 0
        rawStart = 0
        rawEnd = size
        rawEOF = true
    }

    /// Drops mapped pages the reader has passed (file-backed pages would otherwise count as resident), and maps
    /// the next few MiB ahead of it in one call.
    private func advanceMappedWindow() {
        guard let mapping else { return }
        let page = 1 << 12
        let upTo = (rawStart / page) * page
        if upTo - releasedUpTo >= 8 << 20 {
            _ = madvise(mapping + releasedUpTo, upTo - releasedUpTo, MADV_DONTNEED)
            releasedUpTo = upTo
        }
        // One MADV_POPULATE_READ per 4 MiB instead of a page fault per 64 KiB (3% of WARC iteration time).
        // Kernels before 5.14 refuse it; the pages then fault in as before.
        if populatedUpTo < mappingSize && populatedUpTo - rawStart < 2 << 20 {
            let end = min(mappingSize, max(populatedUpTo, upTo) + (4 << 20))
            let start = max(populatedUpTo, upTo)
            _ = madvise(mapping + start, end - start, 22 /* MADV_POPULATE_READ */)
            populatedUpTo = end
        }
    }

    /// Reads from any byte source (tests feed bytes one at a time this way).
    public init(source: any ByteSource, maximumWindow: Int = 64 << 20) throws {
        name = source.name
        file = source
        self.maximumWindow = max(maximumWindow, 1 << 20)
        raw = .allocate(byteCount: 4 << 20, alignment: 16)
        dec = .allocate(byteCount: 4 << 20, alignment: 16)
        // Only a little is read to detect the format: a regular file is then mapped, and a 4 MiB read here
        // would be thrown away (it cost 1.5% of WARC iteration).
        while rawEnd < 16 && !rawEOF {
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[rawEnd..<(64 << 10)]))
            if n == 0 { rawEOF = true } else { rawEnd += n }
        }
        compression = StreamCompression.detect(UnsafeRawBufferPointer(rebasing: raw[rawStart..<rawEnd]))
        switch compression {
        case .none: mode = .plain
        case .gzip: mode = .gzipWhole
        case .zstd: mode = .zstd(ZstdDecoder(), inFrame: false)
        case .lz4: mode = .lz4(Lz4Decoder(), inFrame: false)
        }
    }

    deinit {
        if let mapping { munmap(mapping, mappingSize) } else { raw.deallocate() }
        dec.deallocate()
    }

    // MARK: Consumer API

    /// Decoded offset of the first available byte.
    public var position: Int64 { decBase + Int64(decStart) }
    /// Number of decoded bytes available without decoding more.
    public var available: Int { decEnd - decStart }
    /// The available decoded bytes; invalidated by `ensure`, `consume` and `skip`.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: dec[decStart..<decEnd]) }
    /// Whether everything has been decoded and consumed.
    public var atEnd: Bool { decStart == decEnd && decodedEOF }
    /// Compressed bytes consumed so far (the file offset up to which input has been decoded).
    public var compressedPosition: Int64 { compression == .none ? position : rawBase + Int64(rawStart) }

    /// Decodes until at least `count` bytes are available (or the stream ends); returns whether they are.
    /// `count` beyond the maximum window is not satisfiable: use `skip` for such spans.
    @discardableResult
    public func ensure(_ count: Int) throws -> Bool {
        while decEnd - decStart < count {
            if decodedEOF { return false }
            try makeRoom(for: min(count, maximumWindow + chunk))
            try decodeMore()
        }
        return true
    }

    /// Drops `count` available bytes.
    public func consume(_ count: Int) {
        precondition(count <= decEnd - decStart)
        decStart += count
    }

    /// Drops `count` bytes, decoding through them without keeping them; returns how many were dropped
    /// (fewer at the end of the stream).
    public func skip(_ count: Int64) throws -> Int64 {
        var remaining = count
        while remaining > 0 {
            if decStart == decEnd {
                if decodedEOF { break }
                decBase += Int64(decEnd)
                decStart = 0
                decEnd = 0
                try decodeMore()
                continue
            }
            let n = Int(min(Int64(decEnd - decStart), remaining))
            decStart += n
            remaining -= Int64(n)
        }
        return count - remaining
    }

    /// The compressed offset at which the decoded offset `position` starts, and whether it is exact:
    /// exact for plain files and at member starts, else the start of the member that holds the position.
    public func compressedOffset(of decoded: Int64) -> (offset: Int64, exact: Bool) {
        if compression == .none { return (decoded, true) }
        var best: (decoded: Int64, raw: Int64)?
        for b in boundaries.reversed() where b.decoded <= decoded {
            best = b
            break
        }
        guard let best else { return (0, false) }
        return (best.raw, best.decoded == decoded)
    }

    /// Decoded offsets of the compressed members that start after `start` and before `end`.
    public func memberStarts(after start: Int64, before end: Int64) -> [Int64] {
        boundaries.lazy.map(\.decoded).filter { $0 > start && $0 < end }
    }

    /// Whether the current position is the start of a compressed member (always false for plain files).
    public var atMemberStart: Bool {
        compression != .none && boundaries.contains { $0.decoded == position }
    }

    /// Drops bytes up to the start of the next compressed member; false if there is none (or the file is plain).
    public func skipToNextMember() throws -> Bool {
        guard compression != .none else { return false }
        let here = position
        while true {
            if let next = boundaries.first(where: { $0.decoded > here }) {
                _ = try skip(next.decoded - position)
                return true
            }
            if decodedEOF {
                _ = try skip(Int64(available))
                return false
            }
            // Decode further; drop what we have to keep memory flat.
            decStart = decEnd
            try ensure(1)
        }
    }

    /// Forgets member boundaries before the current position (keeping the one that holds it).
    public func pruneBoundaries() {
        let here = position
        if let keep = boundaries.lastIndex(where: { $0.decoded <= here }), keep > 0 {
            boundaries.removeFirst(keep)
        }
    }

    // MARK: Decoding

    private func report(_ reason: String, _ message: String, offset: Int64) {
        onProblem?(StreamProblem(reason: reason, error: ThreshError(.compression, message, file: name, offset: offset)))
    }

    /// Compacts or grows the decoded window so that `count` bytes from decStart fit, plus room for a chunk.
    private func makeRoom(for count: Int) throws {
        let live = decEnd - decStart
        // Reusing the start of the window when all is consumed keeps the output in cache (no copy needed).
        if decStart > 0 && (live == 0 || dec.count - decEnd < chunk || decStart > dec.count / 2) {
            if live > 0 { dec.baseAddress!.copyMemory(from: dec.baseAddress! + decStart, byteCount: live) }
            decBase += Int64(decStart)
            decEnd = live
            decStart = 0
        }
        let needed = max(count, live) + chunk
        if needed > dec.count { growDecoded(to: needed) }
    }

    private func growDecoded(to size: Int) {
        // Doubling, except for one large record: that gets what it needs (rounded to a MiB), not up to twice that.
        let capacity = size > 2 * dec.count ? (size + (1 << 20) - 1) & ~((1 << 20) - 1) : 2 * dec.count
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        let live = decEnd - decStart
        if live > 0 { bigger.baseAddress!.copyMemory(from: dec.baseAddress! + decStart, byteCount: live) }
        dec.deallocate()
        dec = bigger
        decBase += Int64(decStart)
        decStart = 0
        decEnd = live
    }

    /// Reads file bytes until at least `count` compressed bytes are buffered (or end of file).
    private func fillRaw(atLeast count: Int) throws {
        if mapping != nil { advanceMappedWindow(); return }
        if rawEnd - rawStart >= count || rawEOF { return }
        if rawStart > 0 {
            let live = rawEnd - rawStart
            if live > 0 { raw.baseAddress!.copyMemory(from: raw.baseAddress! + rawStart, byteCount: live) }
            rawBase += Int64(rawStart)
            rawEnd = live
            rawStart = 0
        }
        if count > raw.count {
            var capacity = raw.count
            while capacity < count { capacity *= 2 }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
            if rawEnd > 0 { bigger.baseAddress!.copyMemory(from: raw.baseAddress!, byteCount: rawEnd) }
            raw.deallocate()
            raw = bigger
        }
        while rawEnd - rawStart < count && !rawEOF {
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[rawEnd...]))
            if n == 0 { rawEOF = true } else { rawEnd += n }
        }
    }

    private var rawAvailable: Int { rawEnd - rawStart }
    private var rawInput: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: raw[rawStart..<rawEnd]) }
    private var decodedTail: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: dec[decEnd...]) }

    /// Decodes the next piece of the stream into the decoded window (which has room for at least a chunk).
    private func decodeMore() throws {
        switch mode {
        case .plain:
            if rawStart < rawEnd {
                // Bytes read ahead while detecting the format come first.
                let n = min(rawEnd - rawStart, decodedTail.count)
                decodedTail.baseAddress!.copyMemory(from: raw.baseAddress! + rawStart, byteCount: n)
                rawStart += n
                decEnd += n
                // A mapped plain file is read through the mapping: release the pages behind the reader.
                advanceMappedWindow()
                return
            }
            if mapping != nil { decodedEOF = true; return }
            let n = try file.read(into: decodedTail)
            if n == 0 { decodedEOF = true } else { decEnd += n }
        case .gzipWhole:
            try decodeWholeMember()
        case .gzipStreaming(let inflater):
            try decodeStreaming(inflater)
        case .zstd(let decoder, let inFrame):
            try decodeZstd(decoder, inFrame: inFrame)
        case .lz4(let decoder, let inFrame):
            try decodeLz4(decoder, inFrame: inFrame)
        }
    }

    private func recordBoundary() {
        let b = (decoded: decBase + Int64(decEnd), raw: rawBase + Int64(rawStart))
        if boundaries.last?.decoded == b.decoded { boundaries[boundaries.count - 1] = b } else { boundaries.append(b) }
    }

    /// At a member boundary: skips zero padding and garbage up to the next gzip header; false at end of file.
    private func seekGzipHeader() throws -> Bool {
        while true {
            try fillRaw(atLeast: 3)
            if rawAvailable == 0 { return false }
            let input = rawInput
            if input.count >= 2 && input[0] == 0x1F && input[1] == 0x8B {
                resynchronising = false
                return true
            }
            if input.count < 2 && rawEOF {
                if input.contains(where: { $0 != 0 }) {
                    report("garbage-between-members", "\(input.count) stray byte(s) at end of file", offset: rawBase + Int64(rawStart))
                }
                rawStart = rawEnd
                return false
            }
            // Find the next header; zero bytes (padding some writers add) are dropped without complaint.
            let start = rawBase + Int64(rawStart)
            var i = 0
            var sawNonZero = false
            while i + 1 < input.count && !(input[i] == 0x1F && input[i + 1] == 0x8B) {
                if input[i] != 0 { sawNonZero = true }
                i += 1
            }
            if i + 1 >= input.count && rawEOF {
                if input[input.count - 1] != 0 { sawNonZero = true }
                i = input.count
            }
            if sawNonZero && !resynchronising {
                report("garbage-between-members", "\(i) byte(s) that are not a gzip member skipped", offset: start)
            }
            rawStart += i
            resynchronising = false
        }
    }

    private func decodeWholeMember() throws {
        guard try seekGzipHeader() else { decodedEOF = true; return }
        // Refill only when little is left, so the compaction this implies moves few bytes.
        if rawAvailable < chunk / 4 { try fillRaw(atLeast: chunk) }
        recordBoundary()
        var refilled = false
        while true {
            let outcome = members.decode(rawInput, into: decodedTail)
            switch outcome {
            case .decoded(let consumed, let produced):
                rawStart += consumed
                decEnd += produced
                return
            case .outputTooSmall:
                // Members that decode to more than a few MiB stream through zlib instead (rare: Common Crawl cuts
                // records at 1 MiB). Growing the window for them would hold the old and the new window at once and
                // keep all their compressed pages mapped: a skipped 50 MB record peaked at 68 MB that way.
                if decodedTail.count < min(maximumWindow, Self.wholeMemberLimit) {
                    growDecoded(to: dec.count * 2)
                    continue
                }
            case .invalidOrIncomplete:
                // Cut short by the window: read more once and retry. Otherwise longer than the window, or
                // damaged; zlib streams it either way and tells the two apart, so the compressed window
                // never grows past a couple of chunks.
                if !refilled && !rawEOF {
                    refilled = true
                    try fillRaw(atLeast: max(chunk, rawAvailable + chunk))
                    continue
                }
            }
            // Too large for the window, truncated, or corrupt: zlib streams it and says which.
            mode = .gzipStreaming(ZlibInflater(.gzip))
            try decodeMore()
            return
        }
    }

    private func decodeStreaming(_ inflater: ZlibInflater) throws {
        try fillRaw(atLeast: chunk)
        if rawAvailable == 0 {
            report("truncated-gzip", "gzip member cut short by the end of the file", offset: rawBase + Int64(rawStart))
            decodedEOF = true
            return
        }
        let memberStart = boundaries.last?.raw ?? rawBase + Int64(rawStart)
        do {
            let step = try inflater.decode(rawInput, into: decodedTail)
            rawStart += step.consumed
            decEnd += step.produced
            if step.memberEnded {
                mode = .gzipWhole
            } else if step.consumed == 0 && step.produced == 0 && rawEOF {
                report("truncated-gzip", "gzip member cut short by the end of the file", offset: memberStart)
                rawStart = rawEnd
                decodedEOF = true
            }
        } catch let error as ThreshError {
            report("corrupt-gzip", "\(error.message) in the gzip member at offset \(memberStart)", offset: memberStart)
            // Resume at the next member header after the damaged one.
            rawStart += 1
            resynchronising = true
            mode = .gzipWhole
        }
    }

    private func decodeZstd(_ decoder: ZstdDecoder, inFrame: Bool) throws {
        guard try moreFrameInput(format: "zstd", inFrame: inFrame) else { return }
        if !inFrame {
            let input = rawInput
            if input.count >= 8 {
                let magic = UInt32(input[0]) | UInt32(input[1]) << 8 | UInt32(input[2]) << 16 | UInt32(input[3]) << 24
                if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                    // Skippable frame; 0x184D2A5D carries the dictionary of the WARC zstd convention
                    // (itself zstd-compressed or raw).
                    let size = Int(UInt32(input[4]) | UInt32(input[5]) << 8 | UInt32(input[6]) << 16 | UInt32(input[7]) << 24)
                    try fillRaw(atLeast: 8 + size)
                    guard rawAvailable >= 8 + size else {
                        report("truncated-zstd", "skippable frame cut short", offset: rawBase + Int64(rawStart))
                        rawStart = rawEnd
                        decodedEOF = true
                        return
                    }
                    if magic == 0x184D_2A5D {
                        let body = UnsafeRawBufferPointer(rebasing: raw[(rawStart + 8)..<(rawStart + 8 + size)])
                        if StreamCompression.detect(body) == .zstd {
                            let dictionary = try ZstdDecoder.decompressAll(body, limit: maximumWindow)
                            try dictionary.withUnsafeBytes { try decoder.loadDictionary($0) }
                        } else {
                            try decoder.loadDictionary(body)
                        }
                    }
                    rawStart += 8 + size
                    return
                }
            }
            recordBoundary()
        }
        if let ended = decodeFrameStep(format: "zstd", decoder.decode) { mode = .zstd(decoder, inFrame: !ended) }
    }

    private func decodeLz4(_ decoder: Lz4Decoder, inFrame: Bool) throws {
        guard try moreFrameInput(format: "lz4", inFrame: inFrame) else { return }
        if !inFrame { recordBoundary() }
        if let ended = decodeFrameStep(format: "lz4", decoder.decode) { mode = .lz4(decoder, inFrame: !ended) }
    }

    /// Before a zstd or lz4 step: buffers input; false (the stream ended, a frame cut short reported) when there is none.
    private func moreFrameInput(format: String, inFrame: Bool) throws -> Bool {
        try fillRaw(atLeast: chunk)
        guard rawAvailable == 0 else { return true }
        if inFrame { report("truncated-\(format)", "\(format) frame cut short by the end of the file", offset: rawBase + Int64(rawStart)) }
        decodedEOF = true
        return false
    }

    /// One decoding step of a zstd or lz4 frame into the decoded window; returns whether the frame ended, or nil when
    /// the file stops here. Neither format has a marker to resynchronise on after damage, so damage ends the file
    /// (reported with the damaged frame's offset), as does a frame the end of the file cuts short.
    private func decodeFrameStep(format: String, _ decode: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> DecodeStep) -> Bool? {
        let frameStart = boundaries.last?.raw ?? rawBase + Int64(rawStart)
        do {
            let step = try decode(rawInput, decodedTail)
            rawStart += step.consumed
            decEnd += step.produced
            if step.consumed == 0 && step.produced == 0 && rawEOF {
                report("truncated-\(format)", "\(format) frame cut short by the end of the file", offset: rawBase + Int64(rawStart))
                rawStart = rawEnd
                decodedEOF = true
                return nil
            }
            return step.memberEnded
        } catch {
            report("corrupt-\(format)", (error as? ThreshError)?.message ?? "\(error)", offset: frameStart)
            rawStart = rawEnd
            decodedEOF = true
            return nil
        }
    }
}
