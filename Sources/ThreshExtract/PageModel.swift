import ThreshCore
#if canImport(Glibc)
import Glibc
#endif
internal import CThreshXML

/// What an element is, for extraction. Elements not listed are `.other` (inline or unknown).
enum TagKind: UInt8 {
    case other
    // Never content: their subtrees are not read.
    case script, style, noscript, template, iframe, svg, math, canvas, object, embed, select, option, button,
         input, textarea, head, title, meta, link, base, audio, video, picture, source, map, dialog,
         // Ruby annotations (readings printed above the text they annotate) and their fallback parentheses.
         rt, rp
    // Page furniture: read, but marked as boilerplate.
    case nav, aside, footer, menu, header, form
    // Containers.
    case html, body, div, section, article, main, table, tbody, thead, tfoot, tr, td, th, ul, ol, dl, figure, center, font, span
    // Blocks that hold text.
    case p, h1, h2, h3, h4, h5, h6, li, dt, dd, pre, blockquote, figcaption, caption, address, summary, details
    // Inline elements with a meaning for the output.
    case a, br, hr, img, code

    var isSkipped: Bool { rawValue >= TagKind.script.rawValue && rawValue <= TagKind.rp.rawValue }
    // (`header` and `form` come after `menu`: blocks, not furniture. Whole pages sit in one <form> on
    // ASP.NET sites; small search forms have little text and are left to the link-density rules.)
    /// Page furniture by its tag. (`header` is not: article headers hold the title and standfirst.)
    var isFurniture: Bool { rawValue >= TagKind.nav.rawValue && rawValue <= TagKind.menu.rawValue }
    var isHeading: Bool { rawValue >= TagKind.h1.rawValue && rawValue <= TagKind.h6.rawValue }

    /// Elements that start and end a block of text (a line or paragraph of their own in the output).
    var isBlock: Bool {
        switch self {
        case .p, .h1, .h2, .h3, .h4, .h5, .h6, .li, .dt, .dd, .pre, .blockquote, .figcaption, .caption, .address,
             .summary, .details, .div, .section, .article, .main, .table, .tbody, .thead, .tfoot, .tr, .td, .th,
             .ul, .ol, .dl, .figure, .center, .body, .html, .nav, .aside, .footer, .header, .form, .menu, .hr:
            return true
        default:
            return false
        }
    }

    /// Containers that can hold the main content (candidates for the readability-style scoring).
    var isContainer: Bool {
        switch self {
        case .div, .section, .article, .main, .td, .body, .blockquote, .center, .font, .form: return true
        default: return false
        }
    }

    /// The kind of an element from its (lowercase, as libxml2 gives HTML names) C-string name, by a hash of
    /// its bytes: no `String` is made per element.
    static func of(_ name: UnsafePointer<UInt8>?) -> TagKind {
        guard let name else { return .other }
        return byHash[nameHash(name)] ?? .other
    }

    static func nameHash(_ name: UnsafePointer<UInt8>) -> UInt64 {
        ClassHints.hash(UnsafeBufferPointer(start: name, count: strlen(name)))
    }

    static let byHash: [UInt64: TagKind] = {
        var map: [UInt64: TagKind] = [:]
        for (name, kind) in byName {
            var bytes = Array(name.utf8) + [0]
            map[bytes.withUnsafeMutableBufferPointer { nameHash($0.baseAddress!) }] = kind
        }
        return map
    }()

    static let byName: [String: TagKind] = {
        var map: [String: TagKind] = [:]
        let names: [(String, TagKind)] = [
            ("script", .script), ("style", .style), ("noscript", .noscript), ("template", .template), ("iframe", .iframe),
            ("svg", .svg), ("math", .math), ("canvas", .canvas), ("object", .object), ("embed", .embed),
            ("select", .select), ("option", .option), ("button", .button), ("input", .input), ("textarea", .textarea),
            ("head", .head), ("title", .title), ("meta", .meta), ("link", .link), ("base", .base), ("audio", .audio),
            ("video", .video), ("picture", .picture), ("source", .source), ("map", .map), ("dialog", .dialog), ("rt", .rt), ("rp", .rp),
            ("nav", .nav), ("aside", .aside), ("footer", .footer), ("header", .header), ("form", .form), ("menu", .menu),
            ("html", .html), ("body", .body), ("div", .div), ("section", .section), ("article", .article), ("main", .main),
            ("table", .table), ("tbody", .tbody), ("thead", .thead), ("tfoot", .tfoot), ("tr", .tr), ("td", .td), ("th", .th),
            ("ul", .ul), ("ol", .ol), ("dl", .dl), ("figure", .figure), ("center", .center), ("font", .font), ("span", .span),
            ("p", .p), ("h1", .h1), ("h2", .h2), ("h3", .h3), ("h4", .h4), ("h5", .h5), ("h6", .h6), ("li", .li),
            ("dt", .dt), ("dd", .dd), ("pre", .pre), ("blockquote", .blockquote), ("figcaption", .figcaption),
            ("caption", .caption), ("address", .address), ("summary", .summary), ("details", .details),
            ("a", .a), ("br", .br), ("hr", .hr), ("img", .img), ("code", .code), ("tt", .code),
        ]
        for (n, k) in names { map[n] = k }
        return map
    }()
}

/// One element of the page, in document order.
struct PageElement {
    var kind: TagKind
    var parent: Int32
    /// Index one past the last element of this element's subtree.
    var subtreeEnd: Int32 = 0
    /// class/id/role say navigation, comments, sharing, ads, …
    var boilerplateHint = false
    /// class/id/itemprop say article, content, post, body text, …
    var contentHint = false
    /// Characters of text in the subtree, and how many of them are link text.
    var textLength = 0
    var linkTextLength = 0
    /// Readability-style content score.
    var score = 0.0
    /// The paragraph points of every block in the subtree, at any depth.
    var subtreePoints = 0.0
    /// The class/id token that made `boilerplateHint` true (for explanations).
    var boilerplateToken: String?
}

/// A run of text between block boundaries: a paragraph, heading, list item, cell, …
struct TextBlock {
    var text: [UInt8] = []
    /// The element that opened the block (its nearest block-level element).
    var element: Int32
    var kind: TagKind
    var linkLength = 0
    /// Inside an element marked as page furniture or boilerplate by class/id.
    var underBoilerplate = false
    /// The table row the block is a cell of (for joining cells into one line), or -1.
    var row: Int32 = -1
    /// Whether the block is preformatted (keeps its line breaks).
    var preformatted = false

    var length: Int { text.count }
    var linkDensity: Double { text.isEmpty ? 0 : Double(linkLength) / Double(text.count) }
}

/// The page as Thresh sees it: elements and text blocks in document order, title and language.
struct PageModel {
    var elements: [PageElement] = []
    var blocks: [TextBlock] = []
    var title: String?
    var language: String?
    /// From `<meta>`: the author, the publication date (YYYY-MM-DD) and the site's name, as trafilatura reports them
    /// where the page has them.
    var author: String?
    var date: String?
    var sitename: String?
    var nodeCount = 0
    /// Elements nested deeper than `PageBuilder.maximumDepth`: not elements of their own, their text goes to the
    /// deepest element kept (counted, never lost).
    var flattenedElements = 0
}

/// Class/id tokens that mark page furniture, and tokens that mark content.
enum ClassHints {
    /// Whole class/id values (or role values) that mark page furniture.
    static let boilerplate: Set<String> = [
        "nav", "navbar", "navigation", "menu", "menubar", "mainmenu", "main-menu", "sidebar", "side-bar", "aside",
        "footer", "site-footer", "page-footer", "site-header", "masthead", "breadcrumb", "breadcrumbs", "comment",
        "comments", "commentlist", "comment-list", "respond", "share", "sharing", "social", "socials", "sharebar",
        "shariff", "share-buttons", "social-share", "cookie", "cookies", "consent", "gdpr", "cookie-banner", "banner",
        "advert", "advertisement", "ad", "ads", "adsense", "sponsor", "sponsored", "promo", "related",
        "related-posts", "related-articles", "recommended", "newsletter", "subscribe", "popup", "modal", "overlay",
        "widget", "widgets", "pagination", "pager", "tags", "tagcloud", "tag-cloud", "skip-link", "toolbar",
        "copyright", "disclaimer", "login", "signup", "author-box", "postmetadata", "entry-meta", "post-meta",
        "sr-only", "visually-hidden", "screen-reader-text", "offcanvas", "sitemap", "contentinfo", "complementary",
        "author", "authors", "author-bio", "authorbox", "author-box", "about-author", "author-info", "bio", "autor",
        "autorbox", "more-articles", "read-more", "readmore", "further-reading", "most-read", "mostread", "trending",
    ]
    /// Names of author boxes: their short biography is link-free prose, yet never the article's text.
    static let authorBoxNames: Set<String> = [
        "author", "authors", "author-bio", "authorbox", "author-box", "about-author", "author-info", "bio", "autor", "autorbox",
    ]
    /// Furniture names that stay furniture however much text they hold (comment threads are long prose).
    static let strongBoilerplate: Set<String> = [
        "comment", "comments", "commentlist", "comment-list", "respond", "cookie", "cookies", "consent", "gdpr",
        "cookie-banner", "newsletter", "subscribe", "kommentare", "footer", "site-footer", "page-footer",
        "outbrain", "taboola", "related", "related-posts", "related-articles", "modal", "popup",
    ]
    /// Parts of hyphenated or camel-joined class names strong enough to mark furniture on their own.
    static let boilerplateParts: Set<String> = [
        "nav", "navbar", "navigation", "menu", "sidebar", "footer", "breadcrumb", "breadcrumbs", "comment", "comments",
        "share", "sharing", "social", "cookie", "cookies", "consent", "gdpr", "advert", "advertisement", "ads",
        "sponsored", "promo", "related", "newsletter", "subscribe", "popup", "modal", "widget", "pagination",
        "teaser", "teasers", "recommendations", "outbrain", "taboola", "author", "autor", "bio", "kommentare",
        "mostread", "trending", "sharebar", "socialbar", "rail", "foot",
    ]
    /// Parts that mark furniture even as a camel-case hump ("rightRail", "mainNav"): names of page layout.
    static let layoutParts: Set<String> = [
        "nav", "navbar", "navigation", "menu", "sidebar", "rail", "footer", "breadcrumb", "breadcrumbs", "comment",
        "comments", "share", "sharing", "social", "cookie", "cookies", "consent",
    ]
    static let content: Set<String> = [
        "article", "articlebody", "article-body", "article-content", "content", "entry", "entry-content", "post",
        "post-content", "post-body", "postbody", "story", "story-body", "text", "body", "main", "maincontent",
        "main-content", "blog", "page-content", "td-post-content", "single", "richtext", "rte", "prose", "news",
    ]

    /// FNV-1a of ASCII-lowercased bytes: class names are matched by hash, with no `String` per element.
    static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in bytes { h = (h ^ UInt64(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)) &* 0x100_0000_01b3 }
        return h
    }

    /// Every hint word, looked up by its `hash` in one open-addressing table: class names are read on every
    /// element, and a probe of a flat table costs far less than four `Dictionary` lookups.
    struct WordTable {
        struct Entry {
            var word: String
            var isContent = false
            /// A furniture name as a whole value, as a part, as a camel-case hump.
            var isWhole = false
            var isPart = false
            var isLayoutPart = false
        }
        private var keys: [UInt64]
        private var slots: [Int32]
        private(set) var entries: [Entry] = []
        private let mask: Int

        init(content: Set<String>, whole: Set<String>, parts: Set<String>, layoutParts: Set<String>) {
            let all = content.union(whole).union(parts).union(layoutParts).sorted()
            var capacity = 64
            while capacity < all.count * 4 { capacity *= 2 }
            mask = capacity - 1
            keys = [UInt64](repeating: 0, count: capacity)
            slots = [Int32](repeating: -1, count: capacity)
            for word in all {
                let h = ClassHints.hash(Array(word.utf8))
                var slot = Self.start(h, mask)
                while slots[slot] >= 0 {
                    precondition(keys[slot] != h, "two hint words share a hash: \(word)")
                    slot = (slot + 1) & mask
                }
                keys[slot] = h
                slots[slot] = Int32(entries.count)
                entries.append(Entry(word: word, isContent: content.contains(word), isWhole: whole.contains(word),
                                     isPart: parts.contains(word), isLayoutPart: layoutParts.contains(word)))
            }
        }

        private static func start(_ h: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: h ^ (h >> 32)) & mask }

        /// The entry of the word with this hash, if it is a hint word.
        func entry(_ h: UInt64) -> Entry? {
            var slot = Self.start(h, mask)
            while true {
                let index = slots[slot]
                if index < 0 { return nil }
                if keys[slot] == h { return entries[Int(index)] }
                slot = (slot + 1) & mask
            }
        }
    }
    private static let words = WordTable(content: content, whole: boilerplate, parts: boilerplateParts, layoutParts: layoutParts)

    /// Reads a class/id/role text: whether it names content (a whole value, or a part of a hyphenated value
    /// with no furniture part), and otherwise the furniture name it carries, if any.
    static func classify(_ value: String) -> (content: Bool, boilerplate: String?) {
        var hints = Reading()
        var v = value
        v.withUTF8 { hints.read($0) }
        return hints.result
    }

    /// Reads class/id/role values one after another, as if they were one space-separated text: any content
    /// name makes the element content; otherwise the first furniture name found marks it.
    struct Reading {
        private var furniture: String?
        private var isContent = false
        /// Whether any value was read.
        private(set) var isEmpty = true

        var result: (content: Bool, boilerplate: String?) { (isContent, isContent ? nil : furniture) }

        private func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
        private func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }

        mutating func read(_ bytes: UnsafeBufferPointer<UInt8>) {
            isEmpty = false
            var i = 0
            let n = bytes.count
            while i < n {
                while i < n && (bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A) { i += 1 }
                let start = i
                while i < n && !(bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A) { i += 1 }
                guard i > start else { continue }
                let word = UnsafeBufferPointer(rebasing: bytes[start..<i])
                let whole = words.entry(hash(word))
                if whole?.isContent == true { isContent = true; continue }
                if furniture == nil, let whole, whole.isWhole { furniture = whole.word }
                // Parts of hyphenated, underscored or camel-case names ("site-nav", "rightRail").
                var partHasContent = false
                var partFurniture: String?
                var partCount = 0
                var j = 0
                while j < word.count {
                    if word[j] == 0x2D || word[j] == 0x5F { j += 1; continue }
                    let s = j
                    j += 1
                    while j < word.count && word[j] != 0x2D && word[j] != 0x5F
                        && !(isUpper(word[j]) && isLower(word[j - 1])) { j += 1 }
                    partCount += 1
                    guard let part = words.entry(hash(UnsafeBufferPointer(rebasing: word[s..<j]))) else { continue }
                    // A camel-case hump ("Teaser" in "jobTeaser") is a weaker word boundary than a hyphen:
                    // only layout names count there.
                    let hump = s > 0 && isUpper(word[s]) && isLower(word[s - 1])
                    if part.isContent { partHasContent = true }
                    if partFurniture == nil, hump ? part.isLayoutPart : part.isPart { partFurniture = part.word }
                }
                guard partCount > 1 else { continue }
                if partHasContent && partFurniture == nil { isContent = true }
                if furniture == nil, let f = partFurniture { furniture = f }
            }
        }
    }
}

/// An element's attribute list as libxml2's SAX interface gives it: name, value, name, value, …, NULL
/// (a value is NULL for an attribute written without one).
struct AttributeList {
    let pairs: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?

    /// Calls `body` with each attribute's name and value (empty for a missing value), as NUL-terminated bytes.
    func forEach(_ body: (UnsafePointer<CChar>, UnsafePointer<UInt8>) -> Void) {
        guard var p = pairs else { return }
        let empty: StaticString = ""
        while let name = p.pointee {
            let value = p[1] ?? empty.utf8Start
            body(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self), value)
            p += 2
        }
    }

    /// The value of the attribute named `name` (ASCII case-insensitive), if present.
    func value(of name: String) -> String? {
        var found: String?
        forEach { n, v in
            if found == nil, strcasecmp(n, name) == 0 { found = String(cString: v) }
        }
        return found
    }
}

/// The attributes extraction looks at, read in one pass over an element's attribute list.
struct Attributes {
    var hints = ClassHints.Reading()
    var itemprop: String?
    var lang: String?
    var hidden = false

    init(_ list: AttributeList) {
        list.forEach { name, value in
            func bytes() -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: value, count: strlen(value)) }
            switch name[0] | 0x20 {
            case 0x63 where strcasecmp(name, "class") == 0: hints.read(bytes())
            case 0x69 where strcasecmp(name, "id") == 0: hints.read(bytes())
            case 0x72 where strcasecmp(name, "role") == 0: hints.read(bytes())
            case 0x69 where strcasecmp(name, "itemprop") == 0: itemprop = String(cString: value)
            case 0x6C where strcasecmp(name, "lang") == 0: lang = String(cString: value)
            case 0x68 where strcasecmp(name, "hidden") == 0: hidden = true
            case 0x61 where strcasecmp(name, "aria-hidden") == 0: if strcmp(value, "true") == 0 { hidden = true }
            case 0x73 where strcasecmp(name, "style") == 0: if Self.styleHides(bytes()) { hidden = true }
            default: break
            }
        }
    }

    /// Whether an inline style says `display:none` or `visibility:hidden` (spaces and case ignored).
    static func styleHides(_ style: UnsafeBufferPointer<UInt8>) -> Bool {
        let squeezed = style.lazy.filter { $0 != 0x20 }.asciiLowercased()
        return squeezed.containsBytes("display:none".utf8) || squeezed.containsBytes("visibility:hidden".utf8)
    }
}

/// Builds the page model from libxml2's SAX events, in the parser's own pass: no DOM is built, so no node
/// is allocated or freed, and the node and time guards can stop the parser itself.
///
/// libxml2's HTML tree builder is itself a SAX client, so these events nest exactly as the tree would
/// (implied and auto-closed elements included). The builder keeps a stack of open elements; a subtree that
/// is never content (scripts, hidden elements, …) is skipped by counting its nesting.
struct PageBuilder {
    var model = PageModel()
    private var current: TextBlock?
    private var linkDepth = 0
    private var preDepth = 0
    private let maximumNodes: Int
    private let deadline: Double
    private(set) var exceeded: ExtractionOutcome?

    /// What an open element is to the builder.
    private enum Role {
        /// In the model, at this index.
        case element(Int32)
        /// An element past the depth limit: its text and children belong to this element (the deepest kept).
        case flattened(Int32)
        /// `<head>`: its text is ignored; its children hang from the head's parent, as boilerplate.
        case head
        /// The page's `<title>`: its own text is the title.
        case title
    }
    private struct Frame {
        var role: Role
        var kind: TagKind
        /// The parent index, furniture flag and table row that children of this element get.
        var childParent: Int32
        var boilerplate: Bool
        var row: Int32
    }
    private var stack: [Frame] = []
    /// Open elements inside a skipped subtree (the skipped element included).
    private var skipDepth = 0
    private var rootSeen = false
    private var titleBytes: [UInt8] = []
    /// The parser to stop when a guard fires.
    private var parser: htmlParserCtxtPtr?

    /// Elements deeper than this are flattened into the deepest one kept (see `PageModel.flattenedElements`). The
    /// selector walks each block up to the root, so depth bounds its cost per block; real pages stay far below it
    /// (unclosed `<div>`s of long pages reach the hundreds).
    static let maximumDepth = 2000

    init(maximumNodes: Int, deadline: Double) {
        self.maximumNodes = maximumNodes
        self.deadline = deadline
        stack.reserveCapacity(64)
    }

    /// Parses `html` (UTF-8) with libxml2's recovering HTML parser, building the model as it goes.
    /// - Returns: false when libxml2 could not set up a parser.
    mutating func parse(_ html: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = html.baseAddress else { return true }
        Self.initializeLibxml2()
        let created = base.withMemoryRebound(to: CChar.self, capacity: html.count) {
            htmlCreateMemoryParserCtxt($0, Int32(clamping: html.count))
        }
        guard let context = created, let sax = context.pointee.sax else {
            if let created { htmlFreeParserCtxt(created) }
            return false
        }
        defer { htmlFreeParserCtxt(context) }
        var handler = htmlSAXHandler()
        handler.startElement = { user, name, attributes in
            user!.assumingMemoryBound(to: PageBuilder.self).pointee.startElement(name, AttributeList(pairs: attributes))
        }
        handler.endElement = { user, _ in
            user!.assumingMemoryBound(to: PageBuilder.self).pointee.endElement()
        }
        let characters: charactersSAXFunc = { user, text, length in
            guard let text, length > 0 else { return }
            user!.assumingMemoryBound(to: PageBuilder.self).pointee.characters(UnsafeBufferPointer(start: text, count: Int(length)))
        }
        handler.characters = characters
        // Script and style bodies arrive as CDATA blocks; the tree builder makes them text nodes.
        handler.cdataBlock = characters
        // libxml2 reports each stray or mismatched end tag through the structured error callback, and its search
        // for the tag's open element is where a flood of them makes parsing quadratic (no element callback runs
        // there). The callback checks the deadline, so `maxSeconds` holds inside htmlParseDocument too. It needs
        // the SAX2 handler mark; the HTML parser calls the same element callbacks either way.
        handler.serror = { user, _ in
            user?.assumingMemoryBound(to: PageBuilder.self).pointee.parserReportedError()
        }
        handler.initialized = UInt32(XML_SAX2_MAGIC)
        sax.pointee = handler
        // The input is valid UTF-8 (a Swift string; thresh warc transcodes). Without a declared encoder
        // libxml2 guesses one at the first non-ASCII byte, and a <meta charset> would make it re-decode the
        // bytes: both are turned off, as htmlReadMemory(…, "UTF-8", …) does.
        if let utf8 = xmlFindCharEncodingHandler("UTF-8") { _ = xmlSwitchToEncoding(context, utf8) }
        let flags = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_IGNORE_ENC.rawValue)
        _ = htmlCtxtUseOptions(context, flags)
        parser = context
        withUnsafeMutablePointer(to: &self) { me in
            context.pointee.userData = UnsafeMutableRawPointer(me)
            _ = htmlParseDocument(context)
        }
        parser = nil
        if let doc = context.pointee.myDoc { xmlFreeDoc(doc); context.pointee.myDoc = nil }
        flush()
        return true
    }

    /// libxml2's global tables (the HTML auto-close index, the dictionary lock, …) must be set up once, before
    /// any thread makes a parser; `htmlReadMemory` did that itself, a bare parser context does not.
    private static let libxml2Initialized: Bool = {
        xmlInitParser()
        return true
    }()
    private static func initializeLibxml2() { _ = libxml2Initialized }

    /// Problems libxml2 reported (stray end tags and the like); the deadline is checked every `errorsPerClockCheck`.
    private var parserErrors = 0
    /// How often (in reported problems) the clock is read from the error callback: one read per thousand stray end
    /// tags is a few microseconds in the quadratic case, and nothing on ordinary pages.
    static let errorsPerClockCheck = 1024

    mutating func parserReportedError() {
        parserErrors += 1
        if exceeded == nil, parserErrors % Self.errorsPerClockCheck == 0, monotonicSeconds() > deadline { stop(.timeout) }
    }

    private mutating func stop(_ outcome: ExtractionOutcome) {
        exceeded = outcome
        if let parser { xmlStopParser(parser) }
    }

    private mutating func startElement(_ name: UnsafePointer<xmlChar>?, _ attributeList: AttributeList) {
        if skipDepth > 0 { skipDepth += 1; return }
        guard let top = stack.last else {
            // Only the root element is read (as the tree walk from xmlDocGetRootElement did).
            if rootSeen { skipDepth = 1; return }
            rootSeen = true
            openElement(name, attributeList, parent: -1, boilerplate: false, row: -1)
            return
        }
        switch top.role {
        case .title: skipDepth = 1
        case .head: openElement(name, attributeList, parent: top.childParent, boilerplate: true, row: -1)
        case .element, .flattened: openElement(name, attributeList, parent: top.childParent, boilerplate: top.boilerplate, row: top.row)
        }
    }

    private mutating func openElement(_ name: UnsafePointer<xmlChar>?, _ attributeList: AttributeList, parent: Int32,
                                      boilerplate inherited: Bool, row: Int32) {
        model.nodeCount += 1
        if exceeded != nil { skipDepth = 1; return }
        if model.nodeCount > maximumNodes { stop(.tooManyNodes); skipDepth = 1; return }
        if model.nodeCount & 1023 == 0 && monotonicSeconds() > deadline { stop(.timeout); skipDepth = 1; return }
        let kind = TagKind.of(name)
        if stack.count >= Self.maximumDepth, let top = stack.last {
            // Past the depth limit (unclosed <div>s, deep nesting): the element is not kept as one, but its text is,
            // under the deepest kept element; a block element still starts a block of its own.
            model.flattenedElements += 1
            if kind.isSkipped || kind == .head || kind == .title || kind == .meta { skipDepth = 1; return }
            if kind == .br || kind == .hr || kind == .img { if kind != .img { flush() }; skipDepth = 1; return }
            if kind.isBlock { startBlock(element: top.childParent, kind: kind, boilerplate: top.boilerplate, row: top.row) }
            if kind == .a { linkDepth += 1 }
            if kind == .pre { preDepth += 1 }
            stack.append(Frame(role: .flattened(top.childParent), kind: kind, childParent: top.childParent, boilerplate: top.boilerplate, row: top.row))
            return
        }
        if kind == .title, model.title == nil {
            titleBytes.removeAll(keepingCapacity: true)
            stack.append(Frame(role: .title, kind: kind, childParent: parent, boilerplate: true, row: -1))
            return
        }
        if kind == .meta { readMeta(attributeList); skipDepth = 1; return }
        if kind == .head {
            // Only the title and meta tags of the head matter.
            stack.append(Frame(role: .head, kind: kind, childParent: parent, boilerplate: true, row: -1))
            return
        }
        let attributes = Attributes(attributeList)
        if kind == .html, let lang = attributes.lang, !lang.isEmpty { model.language = lang }
        if kind.isSkipped || attributes.hidden { skipDepth = 1; return }

        var element = PageElement(kind: kind, parent: parent)
        if !attributes.hints.isEmpty {
            let (isContent, furniture) = attributes.hints.result
            element.contentHint = isContent
            if let furniture {
                element.boilerplateHint = true
                element.boilerplateToken = furniture
            }
        }
        if let itemprop = attributes.itemprop?.lowercased(), itemprop == "articlebody" || itemprop == "text" {
            element.contentHint = true
            element.boilerplateHint = false
        }
        if kind.isFurniture && !element.contentHint { element.boilerplateHint = true }
        let index = Int32(model.elements.count)
        model.elements.append(element)
        let boilerplate = inherited || element.boilerplateHint
        let rowHere: Int32 = kind == .tr ? index : ((kind == .td || kind == .th) ? row : (kind.isBlock ? -1 : row))

        if kind == .br {
            if current != nil {
                if current!.kind == .p || current!.preformatted || current!.kind == .pre { current!.text.append(0x0A) } else { flush() }
            }
            model.elements[Int(index)].subtreeEnd = index + 1
            skipDepth = 1
            return
        }
        if kind == .hr || kind == .img {
            if kind == .hr { flush() }
            model.elements[Int(index)].subtreeEnd = index + 1
            skipDepth = 1
            return
        }
        if kind.isBlock { startBlock(element: index, kind: kind, boilerplate: boilerplate, row: rowHere) }
        if kind == .a { linkDepth += 1 }
        if kind == .pre { preDepth += 1 }
        stack.append(Frame(role: .element(index), kind: kind, childParent: index, boilerplate: boilerplate, row: rowHere))
    }

    private mutating func endElement() {
        if skipDepth > 0 { skipDepth -= 1; return }
        guard let frame = stack.popLast() else { return }
        switch frame.role {
        case .head: break
        case .title:
            // Whitespace collapsed on bytes: as Characters, "\r\n" is one character that equals neither "\r" nor "\n".
            let words = titleBytes.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D || $0 == 0x0C })
            let collapsed = String(decoding: Array(words.joined(separator: [0x20])), as: UTF8.self)
            model.title = collapsed.isEmpty ? nil : collapsed
        case .element(let index):
            if frame.kind == .a { linkDepth -= 1 }
            if frame.kind == .pre { preDepth -= 1 }
            if frame.kind.isBlock { flush() }
            model.elements[Int(index)].subtreeEnd = Int32(model.elements.count)
        case .flattened:
            if frame.kind == .a { linkDepth -= 1 }
            if frame.kind == .pre { preDepth -= 1 }
            if frame.kind.isBlock { flush() }
        }
    }

    private mutating func characters(_ text: UnsafeBufferPointer<UInt8>) {
        guard skipDepth == 0, let top = stack.last else { return }
        switch top.role {
        case .head: return
        case .title: titleBytes.append(contentsOf: text)
        case .element(let index), .flattened(let index):
            appendText(text, element: current?.element ?? index, boilerplate: top.boilerplate, row: top.row)
        }
    }

    private mutating func flush() {
        guard var block = current else { return }
        current = nil
        // Trim surrounding whitespace.
        while let last = block.text.last, last == 0x20 || last == 0x0A { block.text.removeLast() }
        var start = 0
        while start < block.text.count, block.text[start] == 0x20 || block.text[start] == 0x0A { start += 1 }
        if start > 0 { block.text.removeFirst(start) }
        guard !block.text.isEmpty else { return }
        model.blocks.append(block)
    }

    private mutating func startBlock(element: Int32, kind: TagKind, boilerplate: Bool, row: Int32) {
        flush()
        current = TextBlock(element: element, kind: kind, underBoilerplate: boilerplate, row: row, preformatted: preDepth > 0)
    }

    /// Appends a text run, collapsing whitespace (kept as line breaks inside `<pre>`). One call may carry part
    /// of a text node: libxml2 reports long text in pieces, and the collapsing carries across them.
    private mutating func appendText(_ content: UnsafeBufferPointer<UInt8>, element: Int32, boilerplate: Bool, row: Int32) {
        if current == nil { current = TextBlock(element: element, kind: model.elements[Int(element)].kind, underBoilerplate: boilerplate, row: row) }
        let preformatted = preDepth > 0
        let added = Self.appendCollapsed(content, to: &current!.text, preformatted: preformatted)
        if linkDepth > 0 { current!.linkLength += added }
    }

    /// Appends `content` to `text`, whitespace collapsed to single spaces (line breaks kept when preformatted),
    /// a no-break space read as a space; returns the bytes of non-space text added. Runs of other bytes are
    /// copied whole.
    private static func appendCollapsed(_ content: UnsafeBufferPointer<UInt8>, to text: inout [UInt8], preformatted: Bool) -> Int {
        @inline(__always) func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C }
        var added = 0
        var i = 0
        let n = content.count
        while i < n {
            let c = content[i]
            if isSpace(c) {
                if preformatted && c == 0x0A {
                    text.append(0x0A)
                } else if let last = text.last, last != 0x20 && last != 0x0A {
                    text.append(0x20)
                } else if !text.isEmpty && preformatted {
                    text.append(0x20)
                }
                i += 1
            } else if c == 0xC2 && i + 1 < n && content[i + 1] == 0xA0 {
                // A no-break space is a space.
                if let last = text.last, last != 0x20 && last != 0x0A { text.append(0x20) }
                i += 2
            } else if c == 0xC2 && i + 1 < n && content[i + 1] == 0xAD {
                // A soft hyphen marks where a word may break; it is not part of the word.
                i += 2
            } else {
                let start = i
                i += 1
                while i < n && !isSpace(content[i]) && content[i] != 0xC2 { i += 1 }
                text.append(contentsOf: UnsafeBufferPointer(rebasing: content[start..<i]))
                added += i - start
            }
        }
        return added
    }

    /// A name from an author field: blanks collapsed, a leading "By"/"by" dropped (bylines copied into the field).
    static func cleanedAuthor(_ value: String) -> String? {
        var words = value.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        if let first = words.first, first == "By" || first == "by" { words.removeFirst() }
        let name = words.joined(separator: " ")
        return name.isEmpty ? nil : name
    }

    /// The YYYY-MM-DD that starts an ISO 8601 date or date-time, or nil.
    static func isoDate(_ value: String) -> String? {
        let u = Array(value.utf8.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }).prefix(10))
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D,
              [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy({ u[$0] >= 0x30 && u[$0] <= 0x39 }) else { return nil }
        let month = Int(u[5] - 0x30) * 10 + Int(u[6] - 0x30), day = Int(u[8] - 0x30) * 10 + Int(u[9] - 0x30)
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        return String(decoding: u, as: UTF8.self)
    }

    private mutating func readMeta(_ attributes: AttributeList) {
        let property = (attributes.value(of: "property") ?? attributes.value(of: "name") ?? attributes.value(of: "itemprop")
            ?? attributes.value(of: "http-equiv"))?.lowercased()
        guard let property, let content = attributes.value(of: "content"), !content.isEmpty else { return }
        switch property {
        case "og:title": if model.title == nil { model.title = content }
        case "content-language", "language", "dc.language": if model.language == nil { model.language = content }
        case "og:locale": if model.language == nil { model.language = content.underscoresAsHyphens() }
        case "author", "article:author", "dc.creator", "dcterms.creator", "parsely-author", "sailthru.author", "byl":
            // A profile URL (article:author on some sites) is no name.
            if model.author == nil, !content.hasPrefix("http") { model.author = Self.cleanedAuthor(content) }
        case "article:published_time", "og:article:published_time", "date", "dc.date", "dcterms.date", "dc.date.issued",
             "pubdate", "publishdate", "publish-date", "parsely-pub-date", "sailthru.date", "datepublished", "date.published":
            if model.date == nil { model.date = Self.isoDate(content) }
        case "og:site_name", "application-name":
            if model.sitename == nil { model.sitename = content.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        default: break
        }
    }
}

extension String {
    fileprivate func underscoresAsHyphens() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

