internal import CThreshZlib
internal import CThreshZstd
internal import CThreshLz4
internal import CThreshDeflate
internal import CThreshISAL
internal import CThreshBrotli
import ThreshCore

/// What a streaming decoder did with one call: how much input it took, how much output it made, and whether
/// the current member (gzip member, zstd frame) ended. "Needs more input" and "output full" are these
/// counts, never errors.
public struct DecodeStep: Sendable {
    public var consumed: Int
    public var produced: Int
    /// The compressed member or frame ended with this call.
    public var memberEnded: Bool
}

/// Streaming gzip/zlib inflater over the system zlib.
///
/// A class because zlib keeps the address of its `z_stream`: the struct is allocated once on the heap
/// and freed in `deinit`.
public final class ZlibInflater {
    public enum Wrapper: Sendable {
        /// gzip members (RFC 1952).
        case gzip
        /// zlib or raw deflate, detected from the first bytes (HTTP `Content-Encoding: deflate` is either).
        case zlibOrRaw
        /// raw deflate.
        case raw
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private var wrapper: Wrapper
    private var started = false

    public init(_ wrapper: Wrapper) {
        self.wrapper = wrapper
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let bits: Int32 = wrapper == .gzip ? 31 : (wrapper == .raw ? -15 : 15)
        let rc = cthresh_inflateInit2(stream, bits)
        precondition(rc == Z_OK, "inflateInit2 failed: \(rc)")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Starts a new member (after `memberEnded`).
    public func reset() {
        inflateReset(stream)
        started = false
    }

    /// Inflates from `input` into `output`.
    /// - Throws: `ThreshError` with code `.compression` on corrupt data.
    public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> DecodeStep {
        if !started, wrapper == .zlibOrRaw, let first = input.first {
            // A zlib header has CM=8 in the low nibble and a header checksum; otherwise the body is raw deflate.
            let looksZlib = input.count >= 2 && first & 0x0F == 8 && (UInt16(first) << 8 | UInt16(input[1])) % 31 == 0
            if !looksZlib {
                inflateEnd(stream)
                stream.initialize(to: z_stream())
                _ = cthresh_inflateInit2(stream, -15)
                wrapper = .raw
            }
        }
        started = true
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(clamping: input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(clamping: output.count)
        let rc = inflate(stream, Z_NO_FLUSH)
        let consumed = min(input.count, Int(UInt32(clamping: input.count))) - Int(stream.pointee.avail_in)
        let produced = min(output.count, Int(UInt32(clamping: output.count))) - Int(stream.pointee.avail_out)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch rc {
        case Z_OK, Z_BUF_ERROR:
            return DecodeStep(consumed: consumed, produced: produced, memberEnded: false)
        case Z_STREAM_END:
            return DecodeStep(consumed: consumed, produced: produced, memberEnded: true)
        default:
            let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(rc)"
            throw ThreshError(.compression, "invalid deflate data (\(message))")
        }
    }
}

/// Streaming gzip deflater (for writing `.gz` outputs).
public final class ZlibDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    /// - Parameter zlibWrapper: write a zlib stream (RFC 1950, as HTTP `Content-Encoding: deflate` means) instead of
    ///   gzip members.
    public init(level: Int32 = 6, zlibWrapper: Bool = false) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = cthresh_deflateInit2(stream, level, zlibWrapper ? 15 : 31)
        precondition(rc == Z_OK, "deflateInit2 failed: \(rc)")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input` (all of it), appending to `out`; `finish` ends the gzip member.
    public func compress(_ input: UnsafeRawBufferPointer, finish: Bool, into out: inout [UInt8]) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(input.count)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let (rc, produced) = chunk.withUnsafeMutableBytes { buf -> (Int32, Int) in
                stream.pointee.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = UInt32(buf.count)
                let rc = deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
                return (rc, buf.count - Int(stream.pointee.avail_out))
            }
            out.append(contentsOf: chunk[0..<produced])
            if finish { if rc == Z_STREAM_END { break } } else if stream.pointee.avail_in == 0 && produced < chunk.count { break }
            precondition(rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END, "deflate failed: \(rc)")
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
    }
}

/// Streaming zstd decoder; frames are reported as members, and a dictionary can be loaded
/// (the WARC zstd convention stores one in a skippable frame at the start of the file).
public final class ZstdDecoder {
    private let context: OpaquePointer

    public init() {
        context = ZSTD_createDCtx()
        // Allow long-distance windows some writers use.
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, 31)
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Loads a dictionary for the following frames.
    public func loadDictionary(_ bytes: UnsafeRawBufferPointer) throws {
        let rc = ZSTD_DCtx_loadDictionary(context, bytes.baseAddress, bytes.count)
        if ZSTD_isError(rc) != 0 { throw ThreshError(.compression, "invalid zstd dictionary: \(String(cString: ZSTD_getErrorName(rc)))") }
    }

    /// Decodes from `input` into `output`.
    public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> DecodeStep {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let rc = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        if ZSTD_isError(rc) != 0 {
            throw ThreshError(.compression, "invalid zstd data (\(String(cString: ZSTD_getErrorName(rc))))")
        }
        return DecodeStep(consumed: inBuffer.pos, produced: outBuffer.pos, memberEnded: rc == 0)
    }

    /// Decodes a whole zstd buffer (one or more frames) in one go; used for compressed dictionaries.
    public static func decompressAll(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        let decoder = ZstdDecoder()
        var out: [UInt8] = []
        var position = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while position < input.count {
            let step = try chunk.withUnsafeMutableBytes { try decoder.decode(UnsafeRawBufferPointer(rebasing: input[position...]), into: $0) }
            position += step.consumed
            out.append(contentsOf: chunk[0..<step.produced])
            if out.count > limit { throw ThreshError(.compression, "zstd data larger than \(limit) bytes") }
            if step.consumed == 0 && step.produced == 0 { break }
        }
        return out
    }
}

/// lz4 frames in one call (liblz4's frame API), as lz4-compressed WARCs hold them: one frame per record.
public enum Lz4Frame {
    /// `input` as one lz4 frame, with its content checksum.
    public static func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { LZ4F_compressFrame($0.baseAddress, bound, input.baseAddress, input.count, &preferences) }
        precondition(LZ4F_isError(written) == 0, "lz4 frame compression cannot fail with a bound-sized output")
        out.removeLast(bound - written)
        return out
    }
}

/// Streaming lz4 frame decoder (liblz4's frame API): one frame per WARC record, as lz4-compressed WARCs are written.
public final class Lz4Decoder {
    private var context: OpaquePointer?

    public init() {
        var c: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&c, UInt32(LZ4F_VERSION))
        precondition(LZ4F_isError(rc) == 0 && c != nil, "cannot make an lz4 decompression context")
        context = c
    }

    deinit { LZ4F_freeDecompressionContext(context) }

    /// Decodes from `input` into `output`; `memberEnded` when a frame is complete.
    public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> DecodeStep {
        var consumed = input.count
        var produced = output.count
        let rc = LZ4F_decompress(context, output.baseAddress, &produced, input.baseAddress, &consumed, nil)
        if LZ4F_isError(rc) != 0 {
            LZ4F_resetDecompressionContext(context)
            throw ThreshError(.compression, "invalid lz4 data (\(String(cString: LZ4F_getErrorName(rc))))")
        }
        return DecodeStep(consumed: consumed, produced: produced, memberEnded: rc == 0)
    }
}

/// Streaming zstd encoder (for writing `.zst` outputs).
public final class ZstdEncoder {
    private let context: OpaquePointer

    /// - Parameter dictionary: compress against this dictionary (readers must load the same one).
    public init(level: Int32 = 3, dictionary: [UInt8]? = nil) {
        context = ZSTD_createCCtx()
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        // Every frame ends with a checksum of its content (XXH64), which zstd's decoders verify: a flipped bit in a
        // stored shard is an error when read, not silently different text.
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        if let dictionary {
            let rc = dictionary.withUnsafeBytes { ZSTD_CCtx_loadDictionary(context, $0.baseAddress, $0.count) }
            precondition(ZSTD_isError(rc) == 0, "invalid zstd dictionary")
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Compresses all of `input`, appending to `out`; `finish` ends the frame.
    public func compress(_ input: UnsafeRawBufferPointer, finish: Bool, into out: inout [UInt8]) {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var chunk = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        while true {
            let (remaining, produced) = chunk.withUnsafeMutableBytes { buf -> (Int, Int) in
                var outBuffer = ZSTD_outBuffer(dst: buf.baseAddress, size: buf.count, pos: 0)
                let rc = ZSTD_compressStream2(context, &outBuffer, &inBuffer, finish ? ZSTD_e_end : ZSTD_e_continue)
                precondition(ZSTD_isError(rc) == 0, "zstd compression failed")
                return (rc, outBuffer.pos)
            }
            out.append(contentsOf: chunk[0..<produced])
            if finish ? remaining == 0 : inBuffer.pos == inBuffer.size { break }
        }
    }
}

/// Whole-buffer gzip decompression with libdeflate, two to three times faster than zlib's streaming inflate.
/// It needs a member's compressed bytes at once, so readers fall back to `ZlibInflater` for members larger
/// than their window.
///
/// The gzip wrapper is read here and only the deflate body goes to libdeflate: the trailer's CRC32 is then checked
/// with ISA-L, whose carry-less-multiply kernel runs at about twice the speed of libdeflate 1.14's (the CRC was 7%
/// of WARC iteration time). Every member is still verified: CRC32 and length, as `gzip -t` does.
public final class GzipMemberDecompressor {
    private let decompressor: OpaquePointer

    public enum Outcome: Sendable, Equatable {
        /// The member was decoded: compressed bytes used, bytes produced.
        case decoded(consumed: Int, produced: Int)
        /// The output buffer is too small.
        case outputTooSmall
        /// The input is not a complete valid member (it may be cut short by the window, or corrupt).
        case invalidOrIncomplete
    }

    public init() {
        guard let d = libdeflate_alloc_decompressor() else { fatalError("libdeflate_alloc_decompressor failed: out of memory") }
        decompressor = d
    }

    deinit { libdeflate_free_decompressor(decompressor) }

    /// Decodes one gzip member at the start of `input` into `output`.
    public func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Outcome {
        guard let bodyStart = Self.headerLength(input) else { return .invalidOrIncomplete }
        var bodyConsumed = 0
        var produced = 0
        let rc = libdeflate_deflate_decompress_ex(decompressor, input.baseAddress! + bodyStart, input.count - bodyStart,
                                                  output.baseAddress, output.count, &bodyConsumed, &produced)
        switch rc {
        case LIBDEFLATE_SUCCESS: break
        case LIBDEFLATE_INSUFFICIENT_SPACE: return .outputTooSmall
        default: return .invalidOrIncomplete
        }
        let trailer = bodyStart + bodyConsumed
        guard trailer + 8 <= input.count else { return .invalidOrIncomplete }
        let storedCRC = input.loadUnaligned(fromByteOffset: trailer, as: UInt32.self).littleEndian
        let storedSize = input.loadUnaligned(fromByteOffset: trailer + 4, as: UInt32.self).littleEndian
        guard storedSize == UInt32(truncatingIfNeeded: produced),
              crc32_gzip_refl(0, output.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(produced)) == storedCRC
        else { return .invalidOrIncomplete }
        return .decoded(consumed: trailer + 8, produced: produced)
    }

    /// The length of the gzip member header (RFC 1952 section 2.3) at the start of `input`, or nil when it is not a
    /// valid deflate member header or is cut short.
    static func headerLength(_ input: UnsafeRawBufferPointer) -> Int? {
        guard input.count >= 10, input[0] == 0x1F, input[1] == 0x8B, input[2] == 8 else { return nil }
        let flags = input[3]
        guard flags & 0xE0 == 0 else { return nil }  // reserved bits must be zero
        var position = 10
        if flags & 0x04 != 0 {  // FEXTRA: two-byte length, then that many bytes
            guard position + 2 <= input.count else { return nil }
            position += 2 + (Int(input[position]) | Int(input[position + 1]) << 8)
        }
        for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
            guard position < input.count,
                  let end = UnsafeRawBufferPointer(rebasing: input[position...]).firstIndex(of: 0) else { return nil }
            position += end + 1
        }
        if flags & 0x02 != 0 {  // FHCRC: the low 16 bits of the CRC32 of the header before it (zlib checks it too)
            guard position + 2 <= input.count else { return nil }
            let crc = crc32_gzip_refl(0, input.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(position))
            guard UInt16(truncatingIfNeeded: crc) == UInt16(input[position]) | UInt16(input[position + 1]) << 8 else { return nil }
            position += 2
        }
        return position <= input.count ? position : nil
    }
}

/// Decodes an HTTP body compressed with brotli (`Content-Encoding: br`).
/// A compressed body that decodes past its size cap (a decompression bomb, or a page too large to keep): what was
/// decoded is not returned, so it can never pass for the body.
public struct DecodedTooLarge: Error, Sendable, CustomStringConvertible {
    public var coding: String
    public var limit: Int
    public var description: String { "\(coding) body decodes to more than \(limit) bytes" }
}

public enum BrotliDecoding {
    /// Decompresses all of `input`.
    /// - Throws: `DecodedTooLarge` past `limit` output bytes; `ThreshError` for a truncated or invalid stream.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else { throw ThreshError(.compression, "brotli: out of memory") }
        defer { BrotliDecoderDestroyInstance(state) }
        var out: [UInt8] = []
        var availableIn = input.count
        var nextIn = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            var availableOut = chunk.count
            let result = chunk.withUnsafeMutableBufferPointer { buf -> BrotliDecoderResult in
                var nextOut: UnsafeMutablePointer<UInt8>? = buf.baseAddress
                return BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
            }
            out.append(contentsOf: chunk[0..<(chunk.count - availableOut)])
            if out.count > limit { throw DecodedTooLarge(coding: "brotli", limit: limit) }
            switch result {
            case BROTLI_DECODER_RESULT_SUCCESS: return out
            case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: continue
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT: throw ThreshError(.compression, "truncated brotli body")
            default:
                let code = BrotliDecoderGetErrorCode(state)
                throw ThreshError(.compression, "invalid brotli body (\(String(cString: BrotliDecoderErrorString(code))))")
            }
        }
    }
}

/// Decodes a whole HTTP body with gzip or deflate content coding, within a size limit.
/// Bytes decoded before a corruption are returned with the error message, so a damaged page is still usable.
public enum InflateAll {
    /// - Throws: `DecodedTooLarge` past `limit` output bytes (nothing decoded is returned then).
    public static func decompress(_ input: UnsafeRawBufferPointer, wrapper: ZlibInflater.Wrapper, limit: Int) throws(DecodedTooLarge)
        -> (bytes: [UInt8], error: String?)
    {
        let inflater = ZlibInflater(wrapper)
        var out: [UInt8] = []
        var position = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while position < input.count {
            let step: DecodeStep
            do {
                step = try chunk.withUnsafeMutableBytes { try inflater.decode(UnsafeRawBufferPointer(rebasing: input[position...]), into: $0) }
            } catch {
                return (out, "\(error)")
            }
            position += step.consumed
            out.append(contentsOf: chunk[0..<step.produced])
            if out.count > limit { throw DecodedTooLarge(coding: wrapper == .gzip ? "gzip" : "deflate", limit: limit) }
            if step.memberEnded {
                // Concatenated gzip members continue; anything else after the end is ignored.
                guard wrapper == .gzip, position + 1 < input.count, input[position] == 0x1F, input[position + 1] == 0x8B else { break }
                inflater.reset()
            } else if step.consumed == 0 && step.produced == 0 {
                return (out, "truncated compressed body")
            }
        }
        return (out, nil)
    }
}
