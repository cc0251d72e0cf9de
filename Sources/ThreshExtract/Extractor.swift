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

/// Decides which blocks are main content.
struct ContentSelector {
    let favor: ExtractOptions.Favor
    /// Per element: inside the main content (filled by `select`).
    private(set) var inMain: [Bool] = []
    /// The element chosen as the main container, and the best-scoring element it was grown from (filled by
    /// `select`; for explanations).
    private(set) var mainContainer = -1
    private(set) var bestContainer = -1
    /// Per block: why it was left out (nil when kept), as `--explain` prints it.
    private(set) var dropReasons: [DropReason?] = []

    /// Why a block is not in the output. Each rule that leaves a block out names itself.
    enum DropReason: String {
        /// Outside the main content, and not link-poor prose that balanced mode takes from elsewhere.
        case outsideMain = "outside-main"
        /// Outside the main content, under a furniture name (nav, comments, share, …).
        case furniture = "furniture"
        /// Inside the main content, but under a furniture name of its own (an author box, a share bar).
        case furnitureInMain = "furniture-in-main"
        /// Mostly link text: navigation.
        case linkHeavy = "link-heavy"
        /// A short label that stands more than once on the page.
        case repeatedLabel = "repeated-label"
        /// Very short text in precision mode.
        case tooShortForPrecision = "short-precision"
        /// A short block with no long kept block on one side (jusText's context rule).
        case isolatedShort = "isolated-short"
        /// A heading that no long kept block follows.
        case headingWithoutText = "heading-without-text"
        /// In a figure or caption with little text.
        case caption = "caption"
        /// A short line with the copyright sign.
        case rightsLine = "rights-line"
        /// The same text kept earlier on the page.
        case repeatedText = "repeated-text"
    }

    init(favor: ExtractOptions.Favor) { self.favor = favor }

    /// Furniture names of blocks that hold prose other than the page's own: comment threads, related posts, and
    /// overlays (the main content is chosen inside one only when nothing outside qualifies).
    static let threadNames: Set<String> = [
        "comment", "comments", "commentlist", "comment-list", "respond", "kommentare", "related", "related-posts",
        "related-articles", "outbrain", "taboola",
        // Overlays: dialogs, consent and newsletter boxes hold a visitor's prompts, never the page's subject.
        "modal", "popup", "cookie", "cookies", "consent", "gdpr", "cookie-banner", "newsletter", "subscribe",
    ]

    /// Figures and captions with less text than this (bytes) are captions and credits, not content.
    static let figureTextBelow = 300

    /// Main content shorter than this (bytes) triggers the fallback to all link-poor text outside furniture.
    static let fallbackBelow = 400

    /// A `<p>` that reads as prose is navigation only above this share of link text (a paragraph of an encyclopedia
    /// links many words; a menu is links with little between them).
    static let proseLinkDensityLimit = 0.8

    /// Short blocks (bytes) are judged as labels: a label that stands more than once on the page ("Share", "Read
    /// more", a date stamp under every teaser) is furniture whatever language it is in.
    static let labelBelow = 40

    /// Rights lines are at most this long (bytes): a short block with the copyright sign is a rights line or a
    /// picture credit, in any language.
    static let rightsLineBelow = 160

    /// Whether a block is a rights line or picture credit: short, with the copyright sign (U+00A9).
    static func isRightsLine(_ text: [UInt8]) -> Bool {
        guard text.count < rightsLineBelow else { return false }
        var i = 0
        while i + 1 < text.count {
            if text[i] == 0xC2 && text[i + 1] == 0xA9 { return true }
            i += 1
        }
        return false
    }

    /// The key of a short block's text as a label: ASCII letters lowercased, runs of blanks and punctuation at the
    /// ends dropped, hashed (labels are compared as whole blocks, not by prefix).
    static func labelKey(_ text: [UInt8]) -> UInt64 {
        var start = 0, end = text.count
        func trimmed(_ c: UInt8) -> Bool { c == 0x20 || c == 0x3A || c == 0x2E || c == 0x7C || c == 0x28 || c == 0x29 || c == 0x5B || c == 0x5D || c == 0x2D }
        while start < end && trimmed(text[start]) { start += 1 }
        while end > start && trimmed(text[end - 1]) { end -= 1 }
        let lower = text[start..<end].asciiLowercased()
        return lower.withUnsafeBytes { XXH64.hash($0) }
    }

    /// Whether text reads like sentences: mostly words, with sentence punctuation.
    static func isProse(_ text: [UInt8]) -> Bool {
        var punctuation = 0, spaces = 0
        for c in text {
            if c == 0x2E || c == 0x2C || c == 0x21 || c == 0x3F || c == 0x3B || c == 0x3A { punctuation += 1 }
            if c == 0x20 { spaces += 1 }
        }
        // CJK text has few spaces; its punctuation is multi-byte, so judge it by length alone.
        if spaces < text.count / 40 { return text.count >= 200 }
        return punctuation >= 2 && spaces >= 10
    }

    mutating func select(_ page: inout PageModel) -> [Bool] {
        let elements = page.elements.count
        guard elements > 0, !page.blocks.isEmpty else { return [] }

        // Text and link text per element, summed up the tree.
        for block in page.blocks {
            var e = Int(block.element)
            while e >= 0 {
                page.elements[e].textLength += block.length
                page.elements[e].linkTextLength += block.linkLength
                e = Int(page.elements[e].parent)
            }
        }

        // A weak furniture name (author, widget, meta, …) on an element holding a lot of link-poor text is a
        // misnomer (themes wrap whole articles in such classes): the hint is dropped. Comment sections keep theirs.
        var hintsChanged = false
        let pageText = page.elements[0].textLength
        for i in 0..<elements where page.elements[i].boilerplateHint {
            let el = page.elements[i]
            // A furniture name on a wrapper of nearly all of the page's text ("l-outer--nav", a <nav> left open)
            // names the layout, not a block of furniture.
            if el.textLength * 10 >= pageText * 9 && pageText > 0 {
                page.elements[i].boilerplateHint = false
                hintsChanged = true
                continue
            }
            guard let token = el.boilerplateToken, !ClassHints.strongBoilerplate.contains(token) else { continue }
            let prose = el.textLength - el.linkTextLength
            // (A text block of 150 bytes with no link at all is no link list or teaser grid either: German CMSs
            // call the standfirst a "teaser", and themes wrap text in "widget" boxes. An author's biography is
            // such a block too, and stays furniture.)
            let linkFreeProse = el.linkTextLength == 0 && prose >= 150 && !ClassHints.authorBoxNames.contains(token)
            if (prose > 1200 && Double(el.linkTextLength) < Double(el.textLength) * 0.2) || linkFreeProse {
                page.elements[i].boilerplateHint = false
                hintsChanged = true
            }
        }
        if hintsChanged {
            for b in page.blocks.indices {
                var e = Int(page.blocks[b].element)
                var under = false
                while e >= 0 {
                    if page.elements[e].boilerplateHint { under = true; break }
                    e = Int(page.elements[e].parent)
                }
                page.blocks[b].underBoilerplate = under
            }
        }

        // Readability-style scoring: every paragraph-like block gives points to its containers.
        for block in page.blocks where block.length >= 25 && !block.kind.isHeading {
            switch block.kind {
            case .p, .pre, .td, .div, .blockquote, .dd, .section, .article, .main, .li, .font, .center, .body, .span, .other: break
            default: continue
            }
            if block.kind == .li && block.length < 80 { continue }
            let commas = block.text.reduce(0) { $0 + ($1 == 0x2C ? 1 : 0) }
            // Readability caps the length term at 3; a higher cap lets one long article paragraph outweigh a
            // group of teasers.
            var points = 1.0 + Double(commas) + min(Double(block.length) / 100, 8)
            points *= (1 - block.linkDensity)
            var e = Int(block.element)
            var ancestor = e
            while ancestor >= 0 {
                page.elements[ancestor].subtreePoints += points
                ancestor = Int(page.elements[ancestor].parent)
            }
            if !page.elements[e].kind.isContainer { e = Int(page.elements[e].parent) }
            var level = 0
            while e >= 0 && level < 4 {
                let divider = level == 0 ? 1.0 : (level == 1 ? 2.0 : Double(level) * 3)
                page.elements[e].score += points / divider
                e = Int(page.elements[e].parent)
                level += 1
            }
        }
        // Inside a comment thread, a related-posts block or an overlay: such an element is the main content only
        // when nothing outside one qualifies (long reader comments, or a service dialog's paragraph, otherwise
        // outscore a shorter article or a recipe cut into short steps). Layout names
        // ("footer", also found in wrappers such as "above-footer") are left to the score.
        var inThread = [Bool](repeating: false, count: elements)
        // (A wrapper of nearly all of the page lost its hint above, whatever its name.)
        for i in 0..<elements {
            let el = page.elements[i]
            let parent = Int(el.parent)
            inThread[i] = (parent >= 0 && inThread[parent])
                || (el.boilerplateHint && el.boilerplateToken.map(Self.threadNames.contains) == true)
        }
        var best = -1
        var bestScore = -Double.infinity
        var bestInThread = true
        for i in 0..<elements {
            var el = page.elements[i]
            guard el.score > 0 || el.contentHint else { continue }
            let linkDensity = el.textLength > 0 ? Double(el.linkTextLength) / Double(el.textLength) : 1
            var s = el.score * (1 - linkDensity)
            switch el.kind {
            case .article, .main: s += 10
            case .div, .section, .td: s += 3
            case .body: s -= 5
            default: break
            }
            if el.contentHint { s += 15 }
            if el.boilerplateHint { s -= 15 }
            el.score = s
            page.elements[i] = el
            let threaded = inThread[i]
            if best < 0 || (bestInThread && !threaded && s > 0) || (threaded == bestInThread && s > bestScore) {
                bestScore = s
                best = i
                bestInThread = threaded
            }
        }
        if best < 0 { best = 0 }

        // The main content: the best container, its strong siblings, and a parent that holds much more text
        // of the same quality (when the best container is one paragraph group among several).
        var top = best
        while true {
            let parent = Int(page.elements[top].parent)
            guard parent >= 0 else { break }
            let p = page.elements[parent]
            let t = page.elements[top]
            let parentDensity = p.textLength > 0 ? Double(p.linkTextLength) / Double(p.textLength) : 1
            if p.kind != .body && p.kind != .html && !p.boilerplateHint && p.score >= t.score * 0.9 && parentDensity < 0.25
                && Double(t.textLength) < Double(p.textLength) * 0.6 {
                top = parent
            } else {
                break
            }
        }
        // An ancestor with much more paragraph text of the same quality is the article of which the best
        // container is one section (deeply nested markup spreads the points too thin for the climb above).
        do {
            var a = Int(page.elements[top].parent)
            while a >= 0 {
                let p = page.elements[a]
                if p.kind == .body || p.kind == .html || p.boilerplateHint { break }
                let t = page.elements[top]
                let addedText = p.textLength - t.textLength
                let addedDensity = addedText > 0 ? Double(p.linkTextLength - t.linkTextLength) / Double(addedText) : 1
                let density = p.textLength > 0 ? Double(p.linkTextLength) / Double(p.textLength) : 1
                if p.subtreePoints >= t.subtreePoints * 4 && addedDensity < 0.3 && density < 0.25 { top = a }
                a = Int(p.parent)
            }
        }
        mainContainer = top
        bestContainer = best
        inMain = [Bool](repeating: false, count: elements)
        func mark(_ e: Int) {
            let end = Int(page.elements[e].subtreeEnd)
            for i in e..<max(end, e + 1) { inMain[i] = true }
        }
        mark(top)
        let topScore = page.elements[top].score
        let parent = page.elements[top].parent
        if parent >= 0 {
            let threshold = max(10, topScore * 0.2)
            var i = Int(parent) + 1
            let end = Int(page.elements[Int(parent)].subtreeEnd)
            // Direct children of the parent, jumping over each one's subtree.
            while i < end {
                let sibling = page.elements[i]
                if i != top {
                    let density = sibling.textLength > 0 ? Double(sibling.linkTextLength) / Double(sibling.textLength) : 1
                    if !sibling.boilerplateHint && (sibling.score >= threshold
                        || (sibling.kind == .p && sibling.textLength > 80 && density < 0.25)) {
                        mark(i)
                    }
                }
                i = max(i + 1, Int(sibling.subtreeEnd))
            }
        }

        // Boilerplate hints above the main container do not count against its blocks.
        let mainStart = top
        func underBoilerplateWithinMain(_ block: TextBlock) -> Bool {
            guard block.underBoilerplate else { return false }
            var e = Int(block.element)
            while e >= 0 {
                if e == mainStart { return false }
                if page.elements[e].boilerplateHint { return true }
                e = Int(page.elements[e].parent)
            }
            return false
        }

        // Substantial, link-poor text between the first and the last block of the main content belongs to it
        // (articles split over sibling containers, inline quotes, figures).
        var firstInMain = Int.max, lastInMain = -1
        for (i, block) in page.blocks.enumerated() where inMain[Int(block.element)] && block.linkDensity < 0.45 {
            firstInMain = min(firstInMain, i)
            lastInMain = max(lastInMain, i)
        }
        // Short blocks that stand more than once on the page are labels (share and reply buttons, teaser stamps).
        // List items and table cells are left to their list or table.
        var labelCounts: [UInt64: Int] = [:]
        for block in page.blocks where block.length < Self.labelBelow && !block.kind.isHeading && block.kind != .li && block.row < 0 {
            labelCounts[Self.labelKey(block.text), default: 0] += 1
        }
        func repeatedLabel(_ block: TextBlock) -> Bool {
            block.length < Self.labelBelow && !block.kind.isHeading && block.kind != .li && block.row < 0 && labelCounts[Self.labelKey(block.text), default: 0] > 1
        }
        var kept = [Bool](repeating: false, count: page.blocks.count)
        var reasons = [DropReason?](repeating: nil, count: page.blocks.count)
        var firstMainBlock: Int?
        for (i, block) in page.blocks.enumerated() {
            let e = Int(block.element)
            let between = i > firstInMain && i < lastInMain && block.linkDensity < 0.3 && (block.length >= 40 || block.kind.isHeading)
                && !(block.underBoilerplate && underBoilerplateWithinMain(block))
            let inside = inMain[e] || between
            let phrase = repeatedLabel(block)
            // Linked headings are common (post titles); linked text blocks are navigation.
            // A paragraph that reads as prose may link many of its words (encyclopedias do); navigation is links with
            // little between them.
            let linkLimit = block.kind == .p && Self.isProse(block.text) ? Self.proseLinkDensityLimit : (favor == .recall ? 0.6 : 0.35)
            let linkHeavy = !block.kind.isHeading && block.linkDensity > linkLimit && block.length < 400
            if inside {
                var keep = !phrase && !linkHeavy
                reasons[i] = phrase ? .repeatedLabel : (linkHeavy ? .linkHeavy : nil)
                // Furniture inside the main container, or inside a sibling kept with it (an author box beside the
                // article body), is left out.
                if underBoilerplateWithinMain(block) {
                    keep = keep && favor == .recall && block.length > 150 && block.linkDensity < 0.2
                    if !keep && reasons[i] == nil { reasons[i] = .furnitureInMain }
                }
                if keep && favor == .precision && block.length < 15 && !block.kind.isHeading { keep = false; reasons[i] = .tooShortForPrecision }
                kept[i] = keep
                if keep && firstMainBlock == nil { firstMainBlock = i }
            } else if !block.underBoilerplate && !phrase && block.linkDensity < 0.1 {
                switch favor {
                case .precision: break
                case .balanced:
                    // Long, link-free prose outside the main container (pages whose content is spread over
                    // several containers, old table layouts).
                    kept[i] = block.length >= 150 && !block.kind.isHeading && Self.isProse(block.text)
                case .recall: kept[i] = block.length >= 120 || (block.kind.isHeading && block.length >= 10)
                }
            }
        }
        // Short blocks (captions, credits, labels, stray links) are content only in the middle of content: a
        // short block is kept when long kept blocks stand on both sides of it (jusText's context rule), a
        // heading when a long kept block follows it soon.
        if favor != .recall {
            let longKept = page.blocks.indices.map { kept[$0] && page.blocks[$0].length >= 80 }
            var previousLong = [Int](repeating: -1, count: page.blocks.count)
            var nextLong = [Int](repeating: Int.max, count: page.blocks.count)
            var last = -1
            for i in page.blocks.indices { previousLong[i] = last; if longKept[i] { last = i } }
            last = Int.max
            for i in page.blocks.indices.reversed() { nextLong[i] = last; if longKept[i] { last = i } }
            // A link-poor main content made of short blocks only (a fact sheet) is judged by its container alone.
            let main = page.elements[mainStart]
            let allShort = Double(main.linkTextLength) < Double(main.textLength) * 0.5
                && !page.blocks.indices.contains { longKept[$0] && inMain[Int(page.blocks[$0].element)] }
            // (List items and table cells are judged as parts of their list or table, not one by one.)
            for i in page.blocks.indices where kept[i] && page.blocks[i].length < 50 && page.blocks[i].kind != .li && page.blocks[i].row < 0 {
                if allShort && inMain[Int(page.blocks[i].element)] { continue }
                let b = page.blocks[i]
                if b.kind.isHeading {
                    if nextLong[i] == Int.max || nextLong[i] - i > 6 { kept[i] = false; reasons[i] = .headingWithoutText }
                } else if previousLong[i] < 0 || nextLong[i] == Int.max || (b.length < 20 && nextLong[i] - previousLong[i] > 8) {
                    kept[i] = false
                    reasons[i] = .isolatedShort
                }
            }
        }
        // The page's title heading usually sits just before the main container: keep the nearest heading
        // above the first kept block when the main content has none of its own.
        if let first = firstMainBlock {
            let mainHasHeading = page.blocks.indices.contains { kept[$0] && page.blocks[$0].kind == .h1 }
            if !mainHasHeading {
                var j = first - 1
                var steps = 0
                while j >= 0 && steps < 12 {
                    let b = page.blocks[j]
                    if (b.kind == .h1 || b.kind == .h2) && b.linkDensity < 0.5 && !b.underBoilerplate {
                        kept[j] = true
                        // A standfirst between the title and the body is content too.
                        for k in (j + 1)..<first where !kept[k] {
                            let lead = page.blocks[k]
                            if lead.length >= 60 && lead.linkDensity < 0.2 && !lead.underBoilerplate && lead.kind != .li { kept[k] = true }
                        }
                        break
                    }
                    j -= 1
                    steps += 1
                }
            }
        }
        // Within the span of kept text, headings and short link-poor blocks belong to it too (section titles,
        // short paragraphs between long ones), unless they sit in furniture of their own.
        if favor != .precision, let firstKept = kept.firstIndex(of: true), let lastKept = kept.lastIndex(of: true) {
            func belongs(_ b: TextBlock) -> Bool {
                guard b.linkDensity < 0.3, !repeatedLabel(b), !underBoilerplateWithinMain(b) else { return false }
                return !(b.underBoilerplate && !inMain[Int(b.element)])
            }
            var i = firstKept
            while i <= lastKept {
                defer { i += 1 }
                guard !kept[i], belongs(page.blocks[i]) else { continue }
                let b = page.blocks[i]
                // A list is judged whole: its items belong when kept text stands on both sides of the list.
                var end = i
                if b.kind == .li {
                    while end + 1 <= lastKept && !kept[end + 1] && page.blocks[end + 1].kind == .li && belongs(page.blocks[end + 1]) { end += 1 }
                }
                let previousKept = (i > 0 && kept[i - 1]) || (i > 1 && kept[i - 2])
                let nextKept = (end + 1 < kept.count && kept[end + 1]) || (end + 2 < kept.count && kept[end + 2])
                if end > i {
                    if previousKept && nextKept { for k in i...end { kept[k] = true } }
                    i = end
                } else if (b.kind.isHeading && nextKept) || (previousKept && nextKept && b.length >= 15) {
                    kept[i] = true
                }
            }
        }
        // A (nearly) empty main content means a short or unusual page rather than a page without content: fall
        // back to its link-poor text outside furniture, as trafilatura falls back to its baseline.
        let keptLength = page.blocks.indices.reduce(0) { $0 + (kept[$1] ? page.blocks[$1].length : 0) }
        if keptLength < Self.fallbackBelow {
            for i in page.blocks.indices where !kept[i] {
                let b = page.blocks[i]
                if !b.underBoilerplate && b.linkDensity < 0.2 && b.length >= 40 && !repeatedLabel(b) { kept[i] = true }
            }
        }
        // Figures hold captions and picture credits, not article text: a figure (or caption) with little text is
        // dropped, except when favouring recall. Figures with more text are slides or quotes, and stay.
        if favor != .recall {
            // Parents come before their children, so one pass marks every element inside such a figure.
            var inCaption = [Bool](repeating: false, count: elements)
            for i in 0..<elements {
                let element = page.elements[i]
                let parent = Int(element.parent)
                inCaption[i] = (parent >= 0 && inCaption[parent])
                    || ((element.kind == .figure || element.kind == .figcaption) && element.textLength < Self.figureTextBelow)
            }
            // (A gallery article, whose text is mostly captions, is its captions.)
            var captionText = 0, otherText = 0
            for i in page.blocks.indices where kept[i] {
                if inCaption[Int(page.blocks[i].element)] { captionText += page.blocks[i].length } else { otherText += page.blocks[i].length }
            }
            if captionText <= otherText {
                for i in page.blocks.indices where inCaption[Int(page.blocks[i].element)] && kept[i] { kept[i] = false; reasons[i] = .caption }
            }
        }
        // Picture captions and credits, rights lines and subscription calls are furniture wherever they stand (recall
        // mode keeps them).
        if favor != .recall {
            for i in page.blocks.indices where kept[i] && !page.blocks[i].kind.isHeading && Self.isRightsLine(page.blocks[i].text) {
                kept[i] = false
                reasons[i] = .rightsLine
            }
        }
        // The same text twice (a repeated teaser or caption) is kept once. Blocks are found by the xxHash64 of
        // their bytes, then compared (a `Set<[UInt8]>` hashes byte by byte with SipHash).
        var seen: [UInt64: [Int]] = [:]
        for i in page.blocks.indices where kept[i] && page.blocks[i].length > 0 {
            let text = page.blocks[i].text
            let key = text.withUnsafeBytes { XXH64.hash($0) }
            if let earlier = seen[key], earlier.contains(where: { page.blocks[$0].text == text }) {
                kept[i] = false
                reasons[i] = .repeatedText
            } else {
                seen[key, default: []].append(i)
            }
        }
        // Every block left out has a reason: the rules above name theirs; the rest were never taken in.
        for i in page.blocks.indices {
            if kept[i] { reasons[i] = nil; continue }
            if reasons[i] == nil {
                let b = page.blocks[i]
                reasons[i] = b.underBoilerplate ? .furniture : (b.linkDensity > 0.35 && !b.kind.isHeading ? .linkHeavy : .outsideMain)
            }
        }
        dropReasons = reasons
        return kept
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
