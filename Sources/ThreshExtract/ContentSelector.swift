import ThreshCore

/// Every threshold the content selector uses, named and documented in one place. Lengths are UTF-8 bytes of a
/// block's text; link densities are the share of a block's (or element's) text inside links.
///
/// The values were tuned on the tuning half of trafilatura-eval (see `BenchmarkFloorTests.isTuningPage`); the
/// report half, cleaneval-dev and cleanportaleval are never tuned on.
struct SelectionTuning {
    // MARK: Furniture names
    /// An element holding at least this share of the page's text is a layout wrapper, whatever its name says.
    var wrapperTextShare = 0.9
    /// A weak furniture name on an element with more link-poor text than this is a misnomer …
    var misnamedProseAbove = 1200
    /// … when its link density is under this.
    var misnamedLinkDensityBelow = 0.2
    /// A weak furniture name on a link-free block of at least this much text is a misnomer (a standfirst called
    /// "teaser", a text "widget").
    var linkFreeProseAtLeast = 150

    // MARK: Scoring (Readability's, with a higher length cap)
    /// Blocks shorter than this give no points.
    var scoredBlockAtLeast = 25
    /// List items shorter than this give no points.
    var scoredListItemAtLeast = 80
    /// The length term is capped at this many points (Readability caps it at 3; a higher cap lets one long
    /// paragraph outweigh a group of teasers).
    var lengthPointsCap = 8.0
    /// A block's points go to this many containers above it: all to the first, half to the second, a third of a
    /// level's share beyond.
    var scoredLevels = 4
    /// Bonuses and penalties by kind and hint.
    var articleBonus = 10.0, containerBonus = 3.0, bodyPenalty = 5.0, contentHintBonus = 15.0, furniturePenalty = 15.0

    // MARK: Growing the main container
    /// A parent is taken when its score is at least this share of the child's …
    var climbScoreShare = 0.9
    /// … its link density is under this …
    var climbLinkDensityBelow = 0.25
    /// … and the child holds less than this share of its text.
    var climbChildTextShareBelow = 0.6
    /// An ancestor with this many times the container's points, whose added text is link-poor, is the article of
    /// which the container is one section.
    var ancestorPointsFactor = 4.0
    var ancestorAddedLinkDensityBelow = 0.3
    var ancestorLinkDensityBelow = 0.25
    /// Siblings of the main container scoring at least this share of its score (and at least `siblingScoreFloor`)
    /// join it, as do paragraphs of more than `siblingParagraphAbove` bytes under `siblingLinkDensityBelow`.
    var siblingScoreShare = 0.2, siblingScoreFloor = 10.0, siblingParagraphAbove = 80, siblingLinkDensityBelow = 0.25

    // MARK: Keeping blocks
    /// Blocks marking the span of the main content have a link density under this.
    var spanLinkDensityBelow = 0.45
    /// Between the first and last block of the main content, blocks under this link density and at least
    /// `betweenAtLeast` long (or headings) belong to it.
    var betweenLinkDensityBelow = 0.3, betweenAtLeast = 40
    /// Blocks above this link density (and shorter than `linkHeavyBelow`) are navigation; recall mode allows more.
    var linkHeavyAbove = 0.35, linkHeavyAboveForRecall = 0.6, linkHeavyBelow = 400
    /// A `<p>` that reads as prose is navigation only above this share of link text (an encyclopedia links many
    /// of its words; a menu is links with little between them).
    var proseLinkDensityLimit = 0.8
    /// In recall mode, furniture inside the main content is kept when longer than this and link-poor.
    var recallFurnitureAbove = 150, recallFurnitureLinkDensityBelow = 0.2
    /// In precision mode, blocks shorter than this (not headings) are left out.
    var precisionShortBelow = 15
    /// Outside the main content, blocks under this link density may be kept: long prose in balanced mode, long
    /// text or headings in recall mode.
    var outsideLinkDensityBelow = 0.1, outsideProseAtLeast = 150, outsideRecallAtLeast = 120, outsideRecallHeadingAtLeast = 10

    // MARK: Labels and context
    /// Short blocks are judged as labels: one that stands more than once on the page is furniture.
    var labelBelow = 40
    /// A kept block at least this long anchors the context rule; shorter ones need long kept blocks on both sides.
    var longBlockAtLeast = 80
    /// Blocks shorter than this are judged by the context rule …
    var contextShortBelow = 50
    /// … a heading needs a long kept block within this many blocks after it …
    var headingReach = 6
    /// … and a very short block (under `veryShortBelow`) long kept blocks within `veryShortReach` of each other.
    var veryShortBelow = 20, veryShortReach = 8
    /// A main content with no long block and less link text than this share is a fact sheet: its short blocks stay.
    var factSheetLinkShareBelow = 0.5
    /// The title heading is looked for this many blocks above the first kept block; a standfirst between them of
    /// at least `standfirstAtLeast` bytes under `standfirstLinkDensityBelow` is kept too.
    var titleReach = 12, standfirstAtLeast = 60, standfirstLinkDensityBelow = 0.2, titleLinkDensityBelow = 0.5
    /// Within the span of kept text, blocks under this link density belong (at least `spanShortAtLeast` long).
    var spanFillLinkDensityBelow = 0.3, spanShortAtLeast = 15

    // MARK: Fallback, figures, rights lines
    /// Kept text shorter than this triggers the fallback to link-poor text outside furniture …
    var fallbackBelow = 400
    /// … of blocks at least this long under this link density.
    var fallbackBlockAtLeast = 40, fallbackLinkDensityBelow = 0.2
    /// Figures and captions with less text than this are captions and credits, not content.
    var figureTextBelow = 300
    /// A short block with the copyright sign (shorter than this) is a rights line or picture credit.
    var rightsLineBelow = 160
}

/// Why a block is not in the output. Each pass that leaves a block out names itself; `--explain` prints it.
enum DropReason: String {
    /// Outside the main content, and not prose that balanced mode takes from elsewhere.
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

/// Decides which blocks are main content, in named passes (see `select`) over one `SelectionTuning`.
struct ContentSelector {
    let favor: ExtractOptions.Favor
    let tuning: SelectionTuning
    /// Per element: inside the main content (filled by `select`).
    private(set) var inMain: [Bool] = []
    /// The element chosen as the main container, and the best-scoring element it was grown from (filled by
    /// `select`; for explanations).
    private(set) var mainContainer = -1
    private(set) var bestContainer = -1
    /// Per block: why it was left out (nil when kept), as `--explain` prints it.
    private(set) var dropReasons: [DropReason?] = []

    private var kept: [Bool] = []
    private var labelCounts: [UInt64: Int] = [:]
    /// The first block kept by `keepBlocks` inside the main content (where the title heading is looked for).
    private var firstMainBlock: Int?

    init(favor: ExtractOptions.Favor, tuning: SelectionTuning = SelectionTuning()) {
        self.favor = favor
        self.tuning = tuning
    }

    /// Furniture names of blocks that hold prose other than the page's own: comment threads, related posts, and
    /// overlays (the main content is chosen inside one only when nothing outside qualifies).
    static let threadNames: Set<String> = [
        "comment", "comments", "commentlist", "comment-list", "respond", "kommentare", "related", "related-posts",
        "related-articles", "outbrain", "taboola",
        // Overlays: dialogs, consent and newsletter boxes hold a visitor's prompts, never the page's subject.
        "modal", "popup", "cookie", "cookies", "consent", "gdpr", "cookie-banner", "newsletter", "subscribe",
    ]

    /// Whether a block is a rights line or picture credit: shorter than `below`, with the copyright sign (U+00A9).
    static func isRightsLine(_ text: [UInt8], below: Int = SelectionTuning().rightsLineBelow) -> Bool {
        guard text.count < below else { return false }
        var i = 0
        while i + 1 < text.count {
            if text[i] == 0xC2 && text[i + 1] == 0xA9 { return true }
            i += 1
        }
        return false
    }

    /// The key of a short block's text as a label: ASCII letters lowercased, blanks and punctuation at the ends
    /// dropped, hashed (labels are compared as whole blocks, not by prefix).
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

    // MARK: The passes

    /// The blocks to keep. Passes, in order: sum text up the tree; drop misnamed furniture hints; score containers;
    /// choose the best container; grow it into the main content; keep blocks in and around it; the context rule;
    /// the title heading; fill the span of kept text; the fallback for short results; captions; rights lines;
    /// repeated text. Each pass that leaves a block out records its reason.
    mutating func select(_ page: inout PageModel) -> [Bool] {
        guard !page.elements.isEmpty, !page.blocks.isEmpty else { return [] }
        sumTextUpTheTree(&page)
        dropMisnamedFurnitureHints(&page)
        scoreContainers(&page)
        let best = chooseBestContainer(&page)
        let top = growMainContent(&page, from: best)
        keepBlocks(page, top: top)
        if favor != .recall { applyContextRule(page, top: top) }
        keepTitleHeading(page)
        if favor != .precision { fillSpanOfKeptText(page, top: top) }
        fallBackWhenTooShort(page)
        if favor != .recall {
            dropCaptions(page)
            dropRightsLines(page)
        }
        dropRepeatedText(page)
        nameTheRest(page)
        return kept
    }

    /// Text and link text per element, summed up the tree.
    private func sumTextUpTheTree(_ page: inout PageModel) {
        for block in page.blocks {
            var e = Int(block.element)
            while e >= 0 {
                page.elements[e].textLength += block.length
                page.elements[e].linkTextLength += block.linkLength
                e = Int(page.elements[e].parent)
            }
        }
    }

    /// A weak furniture name (author, widget, meta, …) on an element holding a lot of link-poor text is a misnomer
    /// (themes wrap whole articles in such classes): the hint is dropped. Comment sections keep theirs. A furniture
    /// name on a wrapper of nearly all of the page's text ("l-outer--nav", a `<nav>` left open) names the layout.
    private func dropMisnamedFurnitureHints(_ page: inout PageModel) {
        var hintsChanged = false
        let pageText = page.elements[0].textLength
        for i in page.elements.indices where page.elements[i].boilerplateHint {
            let el = page.elements[i]
            if pageText > 0 && Double(el.textLength) >= tuning.wrapperTextShare * Double(pageText) {
                page.elements[i].boilerplateHint = false
                hintsChanged = true
                continue
            }
            guard let token = el.boilerplateToken, !ClassHints.strongBoilerplate.contains(token) else { continue }
            let prose = el.textLength - el.linkTextLength
            // (A link-free text block is no link list or teaser grid either; an author's biography stays furniture.)
            let linkFreeProse = el.linkTextLength == 0 && prose >= tuning.linkFreeProseAtLeast && !ClassHints.authorBoxNames.contains(token)
            if (prose > tuning.misnamedProseAbove && Double(el.linkTextLength) < Double(el.textLength) * tuning.misnamedLinkDensityBelow) || linkFreeProse {
                page.elements[i].boilerplateHint = false
                hintsChanged = true
            }
        }
        guard hintsChanged else { return }
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

    /// Readability-style scoring: every paragraph-like block gives points to its containers.
    private func scoreContainers(_ page: inout PageModel) {
        for block in page.blocks where block.length >= tuning.scoredBlockAtLeast && !block.kind.isHeading {
            switch block.kind {
            case .p, .pre, .td, .div, .blockquote, .dd, .section, .article, .main, .li, .font, .center, .body, .span, .other: break
            default: continue
            }
            if block.kind == .li && block.length < tuning.scoredListItemAtLeast { continue }
            let commas = block.text.reduce(0) { $0 + ($1 == 0x2C ? 1 : 0) }
            var points = 1.0 + Double(commas) + min(Double(block.length) / 100, tuning.lengthPointsCap)
            points *= (1 - block.linkDensity)
            var e = Int(block.element)
            var ancestor = e
            while ancestor >= 0 {
                page.elements[ancestor].subtreePoints += points
                ancestor = Int(page.elements[ancestor].parent)
            }
            if !page.elements[e].kind.isContainer { e = Int(page.elements[e].parent) }
            var level = 0
            while e >= 0 && level < tuning.scoredLevels {
                let divider = level == 0 ? 1.0 : (level == 1 ? 2.0 : Double(level) * 3)
                page.elements[e].score += points / divider
                e = Int(page.elements[e].parent)
                level += 1
            }
        }
    }

    /// The best container: the highest adjusted score, outside comment threads, related posts and overlays when
    /// anything outside them qualifies (long reader comments would otherwise outscore a short article).
    private mutating func chooseBestContainer(_ page: inout PageModel) -> Int {
        var inThread = [Bool](repeating: false, count: page.elements.count)
        for i in page.elements.indices {
            let el = page.elements[i]
            let parent = Int(el.parent)
            inThread[i] = (parent >= 0 && inThread[parent])
                || (el.boilerplateHint && el.boilerplateToken.map(Self.threadNames.contains) == true)
        }
        var best = -1
        var bestScore = -Double.infinity
        var bestInThread = true
        for i in page.elements.indices {
            var el = page.elements[i]
            guard el.score > 0 || el.contentHint else { continue }
            let linkDensity = el.textLength > 0 ? Double(el.linkTextLength) / Double(el.textLength) : 1
            var s = el.score * (1 - linkDensity)
            switch el.kind {
            case .article, .main: s += tuning.articleBonus
            case .div, .section, .td: s += tuning.containerBonus
            case .body: s -= tuning.bodyPenalty
            default: break
            }
            if el.contentHint { s += tuning.contentHintBonus }
            if el.boilerplateHint { s -= tuning.furniturePenalty }
            el.score = s
            page.elements[i] = el
            let threaded = inThread[i]
            if best < 0 || (bestInThread && !threaded && s > 0) || (threaded == bestInThread && s > bestScore) {
                bestScore = s
                best = i
                bestInThread = threaded
            }
        }
        bestContainer = max(best, 0)
        return bestContainer
    }

    /// The main content: the best container, grown to a parent that holds much more text of the same quality, or
    /// to an ancestor of which it is one section; then its strong siblings join it.
    private mutating func growMainContent(_ page: inout PageModel, from best: Int) -> Int {
        var top = best
        while true {
            let parent = Int(page.elements[top].parent)
            guard parent >= 0 else { break }
            let p = page.elements[parent], t = page.elements[top]
            let parentDensity = p.textLength > 0 ? Double(p.linkTextLength) / Double(p.textLength) : 1
            if p.kind != .body && p.kind != .html && !p.boilerplateHint && p.score >= t.score * tuning.climbScoreShare
                && parentDensity < tuning.climbLinkDensityBelow && Double(t.textLength) < Double(p.textLength) * tuning.climbChildTextShareBelow {
                top = parent
            } else {
                break
            }
        }
        // Deeply nested markup spreads the points too thin for the climb above.
        var a = Int(page.elements[top].parent)
        while a >= 0 {
            let p = page.elements[a]
            if p.kind == .body || p.kind == .html || p.boilerplateHint { break }
            let t = page.elements[top]
            let addedText = p.textLength - t.textLength
            let addedDensity = addedText > 0 ? Double(p.linkTextLength - t.linkTextLength) / Double(addedText) : 1
            let density = p.textLength > 0 ? Double(p.linkTextLength) / Double(p.textLength) : 1
            if p.subtreePoints >= t.subtreePoints * tuning.ancestorPointsFactor && addedDensity < tuning.ancestorAddedLinkDensityBelow
                && density < tuning.ancestorLinkDensityBelow { top = a }
            a = Int(p.parent)
        }
        mainContainer = top
        inMain = [Bool](repeating: false, count: page.elements.count)
        func mark(_ e: Int) {
            let end = Int(page.elements[e].subtreeEnd)
            for i in e..<max(end, e + 1) { inMain[i] = true }
        }
        mark(top)
        let parent = page.elements[top].parent
        if parent >= 0 {
            let threshold = max(tuning.siblingScoreFloor, page.elements[top].score * tuning.siblingScoreShare)
            var i = Int(parent) + 1
            let end = Int(page.elements[Int(parent)].subtreeEnd)
            // Direct children of the parent, jumping over each one's subtree.
            while i < end {
                let sibling = page.elements[i]
                if i != top {
                    let density = sibling.textLength > 0 ? Double(sibling.linkTextLength) / Double(sibling.textLength) : 1
                    if !sibling.boilerplateHint && (sibling.score >= threshold
                        || (sibling.kind == .p && sibling.textLength > tuning.siblingParagraphAbove && density < tuning.siblingLinkDensityBelow)) {
                        mark(i)
                    }
                }
                i = max(i + 1, Int(sibling.subtreeEnd))
            }
        }
        return top
    }

    /// Whether a block sits under a furniture name inside the main container (hints above it do not count).
    private func underFurnitureWithinMain(_ block: TextBlock, _ page: PageModel, top: Int) -> Bool {
        guard block.underBoilerplate else { return false }
        var e = Int(block.element)
        while e >= 0 {
            if e == top { return false }
            if page.elements[e].boilerplateHint { return true }
            e = Int(page.elements[e].parent)
        }
        return false
    }

    /// Short blocks that stand more than once on the page are labels (share and reply buttons, teaser stamps);
    /// headings, list items and table cells are left to their own rules.
    private func isRepeatedLabel(_ block: TextBlock) -> Bool {
        block.length < tuning.labelBelow && !block.kind.isHeading && block.kind != .li && block.row < 0
            && labelCounts[Self.labelKey(block.text), default: 0] > 1
    }

    /// Blocks of the main content are kept unless they are labels, navigation or furniture of their own; between
    /// its first and last block, substantial link-poor text belongs to it too (articles split over sibling
    /// containers); outside it, balanced mode keeps long link-free prose and recall mode long text.
    private mutating func keepBlocks(_ page: PageModel, top: Int) {
        labelCounts = [:]
        for block in page.blocks where block.length < tuning.labelBelow && !block.kind.isHeading && block.kind != .li && block.row < 0 {
            labelCounts[Self.labelKey(block.text), default: 0] += 1
        }
        kept = [Bool](repeating: false, count: page.blocks.count)
        dropReasons = [DropReason?](repeating: nil, count: page.blocks.count)
        firstMainBlock = nil
        var firstInMain = Int.max, lastInMain = -1
        for (i, block) in page.blocks.enumerated() where inMain[Int(block.element)] && block.linkDensity < tuning.spanLinkDensityBelow {
            firstInMain = min(firstInMain, i)
            lastInMain = max(lastInMain, i)
        }
        for (i, block) in page.blocks.enumerated() {
            let e = Int(block.element)
            let between = i > firstInMain && i < lastInMain && block.linkDensity < tuning.betweenLinkDensityBelow
                && (block.length >= tuning.betweenAtLeast || block.kind.isHeading) && !underFurnitureWithinMain(block, page, top: top)
            let label = isRepeatedLabel(block)
            if inMain[e] || between {
                let linkLimit = block.kind == .p && Self.isProse(block.text) ? tuning.proseLinkDensityLimit
                    : (favor == .recall ? tuning.linkHeavyAboveForRecall : tuning.linkHeavyAbove)
                // Linked headings are common (post titles); linked text blocks are navigation.
                let linkHeavy = !block.kind.isHeading && block.linkDensity > linkLimit && block.length < tuning.linkHeavyBelow
                var keep = !label && !linkHeavy
                dropReasons[i] = label ? .repeatedLabel : (linkHeavy ? .linkHeavy : nil)
                if underFurnitureWithinMain(block, page, top: top) {
                    keep = keep && favor == .recall && block.length > tuning.recallFurnitureAbove && block.linkDensity < tuning.recallFurnitureLinkDensityBelow
                    if !keep && dropReasons[i] == nil { dropReasons[i] = .furnitureInMain }
                }
                if keep && favor == .precision && block.length < tuning.precisionShortBelow && !block.kind.isHeading {
                    keep = false
                    dropReasons[i] = .tooShortForPrecision
                }
                kept[i] = keep
                if keep && firstMainBlock == nil { firstMainBlock = i }
            } else if !block.underBoilerplate && !label && block.linkDensity < tuning.outsideLinkDensityBelow {
                switch favor {
                case .precision: break
                case .balanced:
                    kept[i] = block.length >= tuning.outsideProseAtLeast && !block.kind.isHeading && Self.isProse(block.text)
                case .recall:
                    kept[i] = block.length >= tuning.outsideRecallAtLeast || (block.kind.isHeading && block.length >= tuning.outsideRecallHeadingAtLeast)
                }
            }
        }
    }

    /// Short blocks (captions, credits, labels, stray links) are content only in the middle of content: a short
    /// block is kept when long kept blocks stand on both sides of it (jusText's context rule), a heading when a long
    /// kept block follows it soon. List items and table cells are judged as parts of their list or table; a
    /// link-poor main content made of short blocks only (a fact sheet) is judged by its container alone.
    private mutating func applyContextRule(_ page: PageModel, top: Int) {
        let longKept = page.blocks.indices.map { kept[$0] && page.blocks[$0].length >= tuning.longBlockAtLeast }
        var previousLong = [Int](repeating: -1, count: page.blocks.count)
        var nextLong = [Int](repeating: Int.max, count: page.blocks.count)
        var last = -1
        for i in page.blocks.indices { previousLong[i] = last; if longKept[i] { last = i } }
        last = Int.max
        for i in page.blocks.indices.reversed() { nextLong[i] = last; if longKept[i] { last = i } }
        let main = page.elements[top]
        let allShort = Double(main.linkTextLength) < Double(main.textLength) * tuning.factSheetLinkShareBelow
            && !page.blocks.indices.contains { longKept[$0] && inMain[Int(page.blocks[$0].element)] }
        for i in page.blocks.indices where kept[i] && page.blocks[i].length < tuning.contextShortBelow && page.blocks[i].kind != .li && page.blocks[i].row < 0 {
            if allShort && inMain[Int(page.blocks[i].element)] { continue }
            let b = page.blocks[i]
            if b.kind.isHeading {
                if nextLong[i] == Int.max || nextLong[i] - i > tuning.headingReach { kept[i] = false; dropReasons[i] = .headingWithoutText }
            } else if previousLong[i] < 0 || nextLong[i] == Int.max
                        || (b.length < tuning.veryShortBelow && nextLong[i] - previousLong[i] > tuning.veryShortReach) {
                kept[i] = false
                dropReasons[i] = .isolatedShort
            }
        }
    }

    /// The page's title heading usually sits just before the main content: the nearest `<h1>`/`<h2>` above the
    /// first block kept in it is kept when the kept text has no `<h1>`, with a standfirst between them.
    private mutating func keepTitleHeading(_ page: PageModel) {
        guard let first = firstMainBlock, !page.blocks.indices.contains(where: { kept[$0] && page.blocks[$0].kind == .h1 }) else { return }
        var j = first - 1
        var steps = 0
        while j >= 0 && steps < tuning.titleReach {
            let b = page.blocks[j]
            if (b.kind == .h1 || b.kind == .h2) && b.linkDensity < tuning.titleLinkDensityBelow && !b.underBoilerplate {
                kept[j] = true
                for k in (j + 1)..<first where !kept[k] {
                    let lead = page.blocks[k]
                    if lead.length >= tuning.standfirstAtLeast && lead.linkDensity < tuning.standfirstLinkDensityBelow
                        && !lead.underBoilerplate && lead.kind != .li { kept[k] = true }
                }
                return
            }
            j -= 1
            steps += 1
        }
    }

    /// Within the span of kept text, headings and short link-poor blocks belong to it (section titles, short
    /// paragraphs between long ones) unless they sit in furniture of their own; a list is judged whole.
    private mutating func fillSpanOfKeptText(_ page: PageModel, top: Int) {
        guard let firstKept = kept.firstIndex(of: true), let lastKept = kept.lastIndex(of: true) else { return }
        func belongs(_ b: TextBlock) -> Bool {
            guard b.linkDensity < tuning.spanFillLinkDensityBelow, !isRepeatedLabel(b), !underFurnitureWithinMain(b, page, top: top) else { return false }
            return !(b.underBoilerplate && !inMain[Int(b.element)])
        }
        var i = firstKept
        while i <= lastKept {
            defer { i += 1 }
            guard !kept[i], belongs(page.blocks[i]) else { continue }
            let b = page.blocks[i]
            var end = i
            if b.kind == .li {
                while end + 1 <= lastKept && !kept[end + 1] && page.blocks[end + 1].kind == .li && belongs(page.blocks[end + 1]) { end += 1 }
            }
            let previousKept = (i > 0 && kept[i - 1]) || (i > 1 && kept[i - 2])
            let nextKept = (end + 1 < kept.count && kept[end + 1]) || (end + 2 < kept.count && kept[end + 2])
            if end > i {
                if previousKept && nextKept { for k in i...end { kept[k] = true } }
                i = end
            } else if (b.kind.isHeading && nextKept) || (previousKept && nextKept && b.length >= tuning.spanShortAtLeast) {
                kept[i] = true
            }
        }
    }

    /// A (nearly) empty result means a short or unusual page rather than one without content: its link-poor text
    /// outside furniture is kept, as trafilatura falls back to its baseline.
    private mutating func fallBackWhenTooShort(_ page: PageModel) {
        let keptLength = page.blocks.indices.reduce(0) { $0 + (kept[$1] ? page.blocks[$1].length : 0) }
        guard keptLength < tuning.fallbackBelow else { return }
        for i in page.blocks.indices where !kept[i] {
            let b = page.blocks[i]
            if !b.underBoilerplate && b.linkDensity < tuning.fallbackLinkDensityBelow && b.length >= tuning.fallbackBlockAtLeast && !isRepeatedLabel(b) {
                kept[i] = true
            }
        }
    }

    /// Figures hold captions and picture credits: a figure (or caption) with little text is dropped, unless the
    /// page is mostly captions (a gallery). Figures with more text are slides or quotes, and stay.
    private mutating func dropCaptions(_ page: PageModel) {
        var inCaption = [Bool](repeating: false, count: page.elements.count)
        for i in page.elements.indices {
            let element = page.elements[i]
            let parent = Int(element.parent)
            inCaption[i] = (parent >= 0 && inCaption[parent])
                || ((element.kind == .figure || element.kind == .figcaption) && element.textLength < tuning.figureTextBelow)
        }
        var captionText = 0, otherText = 0
        for i in page.blocks.indices where kept[i] {
            if inCaption[Int(page.blocks[i].element)] { captionText += page.blocks[i].length } else { otherText += page.blocks[i].length }
        }
        guard captionText <= otherText else { return }
        for i in page.blocks.indices where inCaption[Int(page.blocks[i].element)] && kept[i] {
            kept[i] = false
            dropReasons[i] = .caption
        }
    }

    /// A short line with the copyright sign is a rights line or picture credit wherever it stands.
    private mutating func dropRightsLines(_ page: PageModel) {
        for i in page.blocks.indices where kept[i] && !page.blocks[i].kind.isHeading && Self.isRightsLine(page.blocks[i].text, below: tuning.rightsLineBelow) {
            kept[i] = false
            dropReasons[i] = .rightsLine
        }
    }

    /// The same text twice (a repeated teaser or caption) is kept once. Blocks are found by the xxHash64 of their
    /// bytes, then compared.
    private mutating func dropRepeatedText(_ page: PageModel) {
        var seen: [UInt64: [Int]] = [:]
        for i in page.blocks.indices where kept[i] && page.blocks[i].length > 0 {
            let text = page.blocks[i].text
            let key = text.withUnsafeBytes { XXH64.hash($0) }
            if let earlier = seen[key], earlier.contains(where: { page.blocks[$0].text == text }) {
                kept[i] = false
                dropReasons[i] = .repeatedText
            } else {
                seen[key, default: []].append(i)
            }
        }
    }

    /// Every block left out has a reason: the passes name theirs; the rest were never taken in.
    private mutating func nameTheRest(_ page: PageModel) {
        for i in page.blocks.indices {
            if kept[i] { dropReasons[i] = nil; continue }
            guard dropReasons[i] == nil else { continue }
            let b = page.blocks[i]
            dropReasons[i] = b.underBoilerplate ? .furniture : (b.linkDensity > tuning.linkHeavyAbove && !b.kind.isHeading ? .linkHeavy : .outsideMain)
        }
    }
}
