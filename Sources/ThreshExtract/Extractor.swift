import ThreshCore
#if canImport(Glibc)
import Glibc
#endif
internal import CThreshXML

/// Options of the main-content extractor.
public struct ExtractOptions: Sendable {
    /// How to trade boilerplate removal against keeping all of the content (as trafilatura's `favor_*`).
    public enum Favor: String, Sendable, CaseIterable {
        case precision, balanced, recall
    }
    /// Plain text, or Markdown (headings with `#`, list items with `-`, tables as `|` rows, code fenced).
    public enum Format: String, Sendable, CaseIterable {
        case text, markdown
    }

    public var favor: Favor = .balanced
    public var format: Format = .text
    /// Documents whose extracted text is shorter (in characters) are dropped.
    public var minimumLength = 25
    /// Pages larger than this (bytes of HTML) are dropped without being parsed.
    public var maximumInputBytes = 8 << 20
    /// Pages with more elements than this are dropped.
    public var maximumNodes = 300_000
    /// Pages taking longer than this to process are dropped.
    public var maximumSeconds = 5.0
    /// Keep every text block (the whole page's visible text), skipping main-content selection.
    public var allText = false
    /// Record, for every text block, whether it was kept and why (see `Extraction.explanation`).
    public var explain = false
    /// Remove `<script>` and `<style>` bodies and unread attributes before parsing (see `RawTextElider`); off
    /// only to test that the output is the same either way. (`<noscript>` bodies are removed either way.)
    var elideRawText = true

    public init() {}
}

/// Why a page gave no text.
public enum ExtractionOutcome: String, Sendable, Error {
    case tooLarge = "too-large"
    case tooManyNodes = "too-many-nodes"
    case timeout = "timeout"
    case unparsable = "unparsable"
    case empty = "empty"
    case tooShort = "too-short"
}

/// The main content of one page.
public struct Extraction: Sendable {
    public var text: String
    public var title: String?
    public var language: String?
    /// From the page's `<meta>`, where it has them: author, publication date (YYYY-MM-DD), site name.
    public var author: String?
    public var date: String?
    public var sitename: String?
    /// Elements nested past the depth limit, whose text was kept under the deepest element kept.
    public var flattenedElements = 0
    /// With `explain`: one line per text block (kept or not, tag, length, link density, whether it is in the
    /// main content and under a boilerplate hint, and its first characters).
    public var explanation: [String] = []
}

/// Main-content extraction over libxml2's HTML parser (recovering, no network).
///
/// The page becomes a sequence of text blocks (paragraphs, headings, list items, cells). Containers are
/// scored by the paragraph text they hold, penalised by link density and by class/id names that say
/// navigation, comments or sharing; the best container and its strong siblings form the main content, whose
/// blocks are kept unless they look like boilerplate (link lists, share bars). How far outside the main
/// content the extractor looks depends on `favor`.
public struct HTMLExtractor: Sendable {
    public let options: ExtractOptions

    public init(options: ExtractOptions = ExtractOptions()) { self.options = options }

    /// Extracts the main content of an HTML page given as UTF-8.
    /// - Throws: `ExtractionOutcome` when the page is dropped (guards, or too little text).
    public func extract(html: String) throws(ExtractionOutcome) -> Extraction {
        var html = html
        let result: Result<Extraction, ExtractionOutcome> = html.withUTF8 { bytes in
            Result { () throws(ExtractionOutcome) in try extract(utf8: bytes) }
        }
        return try result.get()
    }

    /// Extracts from a page given as UTF-8 bytes (valid UTF-8, as a Swift string's).
    public func extract(utf8 html: UnsafeBufferPointer<UInt8>) throws(ExtractionOutcome) -> Extraction {
        guard html.count <= options.maximumInputBytes else { throw .tooLarge }
        let started = monotonicSeconds()
        let parsed: Result<PageModel, ExtractionOutcome> = { (bytes: UnsafeBufferPointer<UInt8>) in
            func build(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<PageModel, ExtractionOutcome> {
                var builder = PageBuilder(maximumNodes: options.maximumNodes, deadline: started + options.maximumSeconds)
                guard builder.parse(bytes) else { return .failure(.unparsable) }
                if let exceeded = builder.exceeded { return .failure(exceeded) }
                return .success(builder.model)
            }
            func elideAndBuild(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<PageModel, ExtractionOutcome> {
                // (Without elision, noscript bodies are still cut: that cut changes what the page reads as.)
                let elided = options.elideRawText ? RawTextElider.elide(bytes)
                    : RawTextElider.elide(bytes, attributes: false, scriptAndStyle: false)
                guard let elided else { return build(bytes) }
                return elided.withUnsafeBufferPointer { build($0) }
            }
            guard let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil else { return elideAndBuild(bytes) }
            // libxml2 2.9 ends the document at a NUL byte; browsers drop NULs from HTML text, and so does Thresh.
            var cleaned: [UInt8] = []
            cleaned.reserveCapacity(bytes.count)
            for byte in bytes where byte != 0 { cleaned.append(byte) }
            return cleaned.withUnsafeBufferPointer { elideAndBuild($0) }
        }(html)
        var page: PageModel
        switch parsed {
        case .success(let p): page = p
        case .failure(let outcome): throw outcome
        }
        var selector = ContentSelector(favor: options.favor)
        let kept = options.allText ? [Bool](repeating: true, count: page.blocks.count) : selector.select(&page)
        let text = TextAssembler(format: options.format).assemble(page.blocks, kept: kept)
        var result = Extraction(text: text, title: page.title, language: page.language?.lowercased())
        result.author = page.author
        result.date = page.date
        result.sitename = page.sitename
        result.flattenedElements = page.flattenedElements
        if options.explain {
            if selector.mainContainer >= 0 {
                let main = page.elements[selector.mainContainer], best = page.elements[selector.bestContainer]
                result.explanation.append("main container: el=\(selector.mainContainer) \(main.kind) score=\(Int(main.score)) "
                    + "text=\(main.textLength); grown from el=\(selector.bestContainer) \(best.kind) score=\(Int(best.score))")
            }
            result.explanation += page.blocks.indices.map { i in
                let b = page.blocks[i]
                let start = String(decoding: b.text.prefix(70), as: UTF8.self).replacingNewlines()
                var why = ""
                var e = Int(b.element)
                while e >= 0 {
                    if let t = page.elements[e].boilerplateToken {
                        why = page.elements[e].boilerplateHint ? "(\(t)@\(e))" : "(\(t)@\(e) ignored)"
                        break
                    }
                    if page.elements[e].kind.isFurniture && page.elements[e].boilerplateHint { why = "(\(page.elements[e].kind)@\(e))"; break }
                    e = Int(page.elements[e].parent)
                }
                let main = selector.inMain.isEmpty ? 0 : (selector.inMain[Int(b.element)] ? 1 : 0)
                let verdict = kept[i] ? "KEEP" : "drop(\(i < selector.dropReasons.count ? selector.dropReasons[i]?.rawValue ?? "?" : "all-text"))"
                return "\(verdict) \(b.kind) len=\(b.length) ld=\(Int(b.linkDensity * 100))% "
                    + "main=\(main) bp=\(b.underBoilerplate ? 1 : 0)\(why) el=\(b.element) | \(start)"
            }
            return result
        }
        if text.isEmpty { throw .empty }
        if text.count < options.minimumLength { throw .tooShort }
        return result
    }
}

/// Joins kept blocks into the output text.
struct TextAssembler {
    let format: ExtractOptions.Format

    func assemble(_ blocks: [TextBlock], kept: [Bool]) -> String {
        var out: [UInt8] = []
        var previous: TextBlock?
        var i = 0
        while i < blocks.count {
            guard i < kept.count, kept[i] else { i += 1; continue }
            var block = blocks[i]
            // Cells of one table row become one line.
            if block.row >= 0, block.kind == .td || block.kind == .th {
                var cells = [block.text]
                var j = i + 1
                while j < blocks.count, blocks[j].row == block.row, blocks[j].kind == .td || blocks[j].kind == .th {
                    if j < kept.count && kept[j] { cells.append(blocks[j].text) }
                    j += 1
                }
                if cells.count > 1 && cells.allSatisfy({ $0.count < 200 && !$0.contains(0x0A) }) {
                    let separator: [UInt8] = Array(" | ".utf8)
                    var line: [UInt8] = format == .markdown ? Array("| ".utf8) : []
                    for (k, c) in cells.enumerated() {
                        if k > 0 { line += separator }
                        line += c
                    }
                    if format == .markdown { line += Array(" |".utf8) }
                    block.text = line
                    block.kind = .tr
                    i = j - 1
                }
            }
            if let prev = previous {
                let tight = (prev.kind == .li && block.kind == .li) || (prev.kind == .tr && block.kind == .tr)
                    || (prev.kind == .dt && block.kind == .dd)
                out += tight ? [0x0A] : [0x0A, 0x0A]
            }
            switch format {
            case .text:
                out += block.text
            case .markdown:
                switch block.kind {
                case .h1: out += Array("# ".utf8)
                case .h2: out += Array("## ".utf8)
                case .h3: out += Array("### ".utf8)
                case .h4, .h5, .h6: out += Array("#### ".utf8)
                case .li: out += Array("- ".utf8)
                case .blockquote: out += Array("> ".utf8)
                default: break
                }
                if block.preformatted || block.kind == .pre {
                    out += Array("```\n".utf8) + block.text + Array("\n```".utf8)
                } else {
                    out += block.text
                }
            }
            previous = block
            i += 1
        }
        return Self.canonicallyComposed(out)
    }

    /// The text in Unicode Normalization Form C, as corpora and the evaluation sets keep text: pages mix
    /// precomposed and decomposed spellings of one letter (U+09DF "য়" against U+09AF U+09BC). Text with no code
    /// point from U+0300 on (no UTF-8 lead byte from 0xCC on) is already in NFC and skips the conversion.
    static func canonicallyComposed(_ utf8: [UInt8]) -> String {
        let text = String(decoding: utf8, as: UTF8.self)
        guard utf8.contains(where: { $0 >= 0xCC }) else { return text }
        // The standard library's own normaliser (the one String comparison uses): public though underscored, and
        // twice as fast as Foundation's `precomposedStringWithCanonicalMapping`, which bridges through NSString.
        return String(decoding: text._nfcCodeUnits, as: UTF8.self)
    }
}

extension String {
    func replacingNewlines() -> String { String(map { $0 == "\n" ? " " : $0 }) }
}
