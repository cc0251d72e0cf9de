#if canImport(Glibc)
import Glibc
#endif
internal import CThreshXML

/// What an element is, for extraction. Elements not listed are `.other` (inline or unknown).
enum TagKind: UInt8 {
    case other
    // Never content: their subtrees are not read.
    case script, style, noscript, template, iframe, svg, math, canvas, object, embed, select, option, button,
         input, textarea, head, title, meta, link, base, audio, video, picture, source, map, dialog
    // Page furniture: read, but marked as boilerplate.
    case nav, aside, footer, menu, header, form
    // Containers.
    case html, body, div, section, article, main, table, tbody, thead, tfoot, tr, td, th, ul, ol, dl, figure, center, font, span
    // Blocks that hold text.
    case p, h1, h2, h3, h4, h5, h6, li, dt, dd, pre, blockquote, figcaption, caption, address, summary, details
    // Inline elements with a meaning for the output.
    case a, br, hr, img, code

    var isSkipped: Bool { rawValue >= TagKind.script.rawValue && rawValue <= TagKind.dialog.rawValue }
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

    static let byName: [String: TagKind] = {
        var map: [String: TagKind] = [:]
        let names: [(String, TagKind)] = [
            ("script", .script), ("style", .style), ("noscript", .noscript), ("template", .template), ("iframe", .iframe),
            ("svg", .svg), ("math", .math), ("canvas", .canvas), ("object", .object), ("embed", .embed),
            ("select", .select), ("option", .option), ("button", .button), ("input", .input), ("textarea", .textarea),
            ("head", .head), ("title", .title), ("meta", .meta), ("link", .link), ("base", .base), ("audio", .audio),
            ("video", .video), ("picture", .picture), ("source", .source), ("map", .map), ("dialog", .dialog),
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
    var nodeCount = 0
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
    ]
    /// Parts of hyphenated or camel-joined class names strong enough to mark furniture on their own.
    static let boilerplateParts: Set<String> = [
        "nav", "navbar", "navigation", "menu", "sidebar", "footer", "breadcrumb", "breadcrumbs", "comment", "comments",
        "share", "sharing", "social", "cookie", "cookies", "consent", "gdpr", "advert", "advertisement", "ads",
        "sponsored", "promo", "related", "newsletter", "subscribe", "popup", "modal", "widget", "pagination",
        "teaser", "teasers", "recommendations", "outbrain", "taboola",
    ]
    static let content: Set<String> = [
        "article", "articlebody", "article-body", "article-content", "content", "entry", "entry-content", "post",
        "post-content", "post-body", "postbody", "story", "story-body", "text", "body", "main", "maincontent",
        "main-content", "blog", "page-content", "td-post-content", "single", "richtext", "rte", "prose", "news",
    ]

    /// The furniture token of a class/id/role text, if any: a whole value from `boilerplate`, or a part of a
    /// hyphenated/underscored value from `boilerplateParts`.
    static func boilerplateToken(_ value: String) -> String? {
        for word in value.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            let w = String(word)
            if boilerplate.contains(w) { return w }
            let parts = word.split(whereSeparator: { $0 == "-" || $0 == "_" })
            if parts.count > 1, let part = parts.first(where: { boilerplateParts.contains(String($0)) }) { return String(part) }
        }
        return nil
    }

    /// Whether a class/id text names content (a whole value, or a part of a hyphenated value).
    static func isContent(_ value: String) -> Bool {
        for word in value.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            if content.contains(String(word)) { return true }
            let parts = word.split(whereSeparator: { $0 == "-" || $0 == "_" })
            if parts.count > 1, parts.contains(where: { content.contains(String($0)) }) && !parts.contains(where: { boilerplateParts.contains(String($0)) }) {
                return true
            }
        }
        return false
    }
}

/// Builds the page model from libxml2's DOM.
struct PageBuilder {
    var model = PageModel()
    private var current: TextBlock?
    private var linkDepth = 0
    private var preDepth = 0
    private let maximumNodes: Int
    private let deadline: Double
    private(set) var exceeded: ExtractionOutcome?

    init(maximumNodes: Int, deadline: Double) {
        self.maximumNodes = maximumNodes
        self.deadline = deadline
    }

    /// Walks the document from its root element.
    mutating func build(_ doc: htmlDocPtr) {
        guard let root = xmlDocGetRootElement(doc) else { return }
        visitElement(root, parent: -1, boilerplate: false, row: -1, depth: 0)
        flush()
    }

    private static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        var attr = node.pointee.properties
        while let a = attr {
            if let n = a.pointee.name, strcasecmp(UnsafeRawPointer(n).assumingMemoryBound(to: CChar.self), name) == 0 {
                guard let text = a.pointee.children, let content = text.pointee.content else { return "" }
                return String(cString: UnsafeRawPointer(content).assumingMemoryBound(to: CChar.self))
            }
            attr = a.pointee.next
        }
        return nil
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

    private mutating func appendText(_ content: UnsafePointer<UInt8>, element: Int32, boilerplate: Bool, row: Int32) {
        if current == nil { current = TextBlock(element: element, kind: model.elements[Int(element)].kind, underBoilerplate: boilerplate, row: row) }
        var p = content
        var added = 0
        let preformatted = preDepth > 0
        while p.pointee != 0 {
            let c = p.pointee
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C {
                if preformatted && c == 0x0A {
                    current!.text.append(0x0A)
                } else if let last = current!.text.last, last != 0x20 && last != 0x0A {
                    current!.text.append(0x20)
                } else if current!.text.isEmpty == false && preformatted {
                    current!.text.append(0x20)
                }
            } else if c == 0xC2 && p[1] == 0xA0 {
                // A no-break space is a space.
                if let last = current!.text.last, last != 0x20 && last != 0x0A { current!.text.append(0x20) }
                p += 1
            } else {
                current!.text.append(c)
                added += 1
            }
            p += 1
        }
        if linkDepth > 0 { current!.linkLength += added }
    }

    private mutating func visitElement(_ node: xmlNodePtr, parent: Int32, boilerplate inherited: Bool, row: Int32, depth: Int) {
        model.nodeCount += 1
        if exceeded != nil { return }
        if model.nodeCount > maximumNodes { exceeded = .tooManyNodes; return }
        if model.nodeCount & 1023 == 0 && monotonicSeconds() > deadline { exceeded = .timeout; return }
        guard depth < 400 else { return }

        let name = node.pointee.name.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)).lowercased() } ?? ""
        let kind = TagKind.byName[name] ?? .other

        if kind == .title, model.title == nil {
            model.title = textContent(node)
            return
        }
        if kind == .meta { readMeta(node); return }
        if kind == .head {
            // Only the title and meta tags of the head matter.
            var child = node.pointee.children
            while let c = child {
                if c.pointee.type == XML_ELEMENT_NODE { visitElement(c, parent: parent, boilerplate: true, row: -1, depth: depth + 1) }
                child = c.pointee.next
            }
            return
        }
        if kind == .html, let lang = Self.attribute(node, "lang"), !lang.isEmpty { model.language = lang }
        if kind.isSkipped { return }
        if Self.attribute(node, "hidden") != nil || Self.attribute(node, "aria-hidden") == "true" { return }
        if let style = Self.attribute(node, "style")?.lowercased().filter({ $0 != " " }),
           style.contains("display:none") || style.contains("visibility:hidden") { return }

        var element = PageElement(kind: kind, parent: parent)
        var hintText = ""
        if let cls = Self.attribute(node, "class") { hintText += cls + " " }
        if let id = Self.attribute(node, "id") { hintText += id + " " }
        if let role = Self.attribute(node, "role") { hintText += role + " " }
        if !hintText.isEmpty {
            element.contentHint = ClassHints.isContent(hintText)
            if !element.contentHint, let token = ClassHints.boilerplateToken(hintText) {
                element.boilerplateHint = true
                element.boilerplateToken = token
            }
        }
        if let itemprop = Self.attribute(node, "itemprop")?.lowercased(), itemprop == "articlebody" || itemprop == "text" {
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
            return
        }
        if kind == .hr || kind == .img {
            if kind == .hr { flush() }
            model.elements[Int(index)].subtreeEnd = index + 1
            return
        }
        if kind.isBlock { startBlock(element: index, kind: kind, boilerplate: boilerplate, row: rowHere) }
        if kind == .a { linkDepth += 1 }
        if kind == .pre { preDepth += 1 }

        var child = node.pointee.children
        while let c = child {
            switch c.pointee.type {
            case XML_ELEMENT_NODE:
                visitElement(c, parent: index, boilerplate: boilerplate, row: rowHere, depth: depth + 1)
                if exceeded != nil { return }
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = c.pointee.content {
                    let owner = current?.element ?? index
                    appendText(UnsafePointer(content), element: owner, boilerplate: boilerplate, row: rowHere)
                }
            default:
                break
            }
            child = c.pointee.next
        }

        if kind == .a { linkDepth -= 1 }
        if kind == .pre { preDepth -= 1 }
        if kind.isBlock { flush() }
        model.elements[Int(index)].subtreeEnd = Int32(model.elements.count)
    }

    private func textContent(_ node: xmlNodePtr) -> String? {
        // The title's text children, read in place (no libxml2 allocation to free).
        var bytes: [UInt8] = []
        var child = node.pointee.children
        while let c = child {
            if c.pointee.type == XML_TEXT_NODE, let content = c.pointee.content {
                var p = UnsafePointer(content)
                while p.pointee != 0 { bytes.append(p.pointee); p += 1 }
            }
            child = c.pointee.next
        }
        let s = String(decoding: bytes, as: UTF8.self)
        let collapsed = s.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
        return collapsed.isEmpty ? nil : collapsed
    }

    private mutating func readMeta(_ node: xmlNodePtr) {
        let property = (Self.attribute(node, "property") ?? Self.attribute(node, "name") ?? Self.attribute(node, "http-equiv"))?.lowercased()
        guard let property, let content = Self.attribute(node, "content"), !content.isEmpty else { return }
        switch property {
        case "og:title": if model.title == nil { model.title = content }
        case "content-language", "language", "dc.language": if model.language == nil { model.language = content }
        case "og:locale": if model.language == nil { model.language = content.replacingUnderscores() }
        default: break
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

/// Monotonic seconds.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
