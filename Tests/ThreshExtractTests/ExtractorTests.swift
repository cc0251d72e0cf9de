import Testing
import ThreshCore
@testable import ThreshExtract

@Suite struct ExtractorTests {
    let article = (1...4).map { "<p>This is paragraph number \($0) of the article, with enough words to read as prose, commas, and a full stop.</p>" }
        .joined(separator: "\n")

    func page(_ body: String, head: String = "<title>Page title</title>", lang: String = "en") -> String {
        "<!doctype html><html lang=\"\(lang)\"><head>\(head)</head><body>\(body)</body></html>"
    }

    func extract(_ html: String, _ configure: (inout ExtractOptions) -> Void = { _ in }) throws -> Extraction {
        var options = ExtractOptions()
        configure(&options)
        return try HTMLExtractor(options: options).extract(html: html)
    }

    @Test func keepsTheArticleAndItsParagraphs() throws {
        let result = try extract(page("<article><h1>The headline</h1>\(article)</article>"))
        #expect(result.text.hasPrefix("The headline\n\nThis is paragraph number 1"))
        #expect(result.text.split(separator: "\n\n").count == 5)
        #expect(result.title == "Page title")
        #expect(result.language == "en")
    }

    @Test(arguments: [
        ("navigation", "<nav><a href=/>Home</a> <a href=/a>About us</a> <a href=/c>Contact the team</a></nav>"),
        ("header", "<div class=\"site-header\"><a href=/>Brand name here</a> <a href=/s>Subscribe now today</a></div>"),
        ("footer", "<footer><p>Copyright 2026 Example Corporation, all rights reserved, imprint and privacy policy apply.</p></footer>"),
        ("cookie banner", "<div id=\"cookie-consent\"><p>We use cookies to improve your experience, and by continuing you accept our cookie policy.</p></div>"),
        ("share bar", "<div class=\"share-buttons\"><a href=#>Share on Facebook</a> <a href=#>Share on Twitter</a></div>"),
        ("comments", "<section id=\"comments\"><p>Great article, I really enjoyed reading it and will share it with all my friends here.</p></section>"),
        ("related links", "<aside class=\"related\"><h3>Related</h3><ul><li><a href=/x>Another story about rivers</a></li><li><a href=/y>Yet another story about lakes</a></li></ul></aside>"),
        ("ads", "<div class=\"advert\"><p>Buy the best shoes at the lowest prices, order today and get free shipping on everything.</p></div>"),
    ])
    func dropsBoilerplate(kind: String, html: String) throws {
        let result = try extract(page(html + "<article>\(article)</article>" + html))
        #expect(result.text.contains("paragraph number 3"), "\(kind)")
        for probe in ["Home", "Brand name", "Copyright 2026", "cookies", "Share on", "Great article", "Another story", "best shoes"] {
            #expect(!result.text.contains(probe), "\(kind): \(probe) leaked")
        }
    }

    @Test func figureCaptionsAndCreditsAreLeftOutUnlessFavouringRecall() throws {
        let figure = "<figure><img src=a.jpg><figcaption>The river at dawn. Photo: Jane Doe/Agency</figcaption></figure>"
        let credit = "<figure><img src=b.jpg><p>Picture credit: Some Agency</p></figure>"
        // A figure holding a lot of text is a slide or a quote, not a caption: it stays.
        let slide = "<figure><h2>Slide two</h2><p>" + String(repeating: "This slide tells a long part of the story, with details. ", count: 8) + "</p></figure>"
        let html = page("<article><h1>The headline</h1>\(article)\(figure)\(article)\(credit)\(slide)\(article)</article>")
        let balanced = try extract(html).text
        #expect(!balanced.contains("Photo: Jane Doe"))
        #expect(!balanced.contains("Picture credit"))
        #expect(balanced.contains("This slide tells a long part"))
        #expect(balanced.contains("paragraph number 4"))
        let recall = try extract(html) { $0.favor = .recall }.text
        #expect(recall.contains("Photo: Jane Doe"))
    }

    @Test func longReaderCommentsDoNotDisplaceAShorterArticle() throws {
        let comment = (1...6).map { "<p>Reader comment \($0): " + String(repeating: "I disagree with the author, for many reasons, and here they are. ", count: 6) + "</p>" }
            .joined()
        let html = page("<div class=\"entry-content\"><h1>The headline</h1>\(article)</div>"
            + "<div id=\"comments\"><div class=\"thread\"><div class=\"text\">\(comment)</div></div></div>")
        let text = try extract(html).text
        #expect(text.contains("paragraph number 2"))
        #expect(!text.contains("Reader comment"))
        // A furniture name on the wrapper of the whole page does not make its article furniture.
        let wrapped = try extract(page("<div class=\"footer\"><article>\(article)</article><p>Short footer line.</p></div>")).text
        #expect(wrapped.contains("paragraph number 3"))
    }

    @Test func anElementLeftOpenInANoscriptDoesNotHideThePage() throws {
        // libxml2 alone keeps the noscript open over the rest of the page (its end tag is ignored while the div is
        // open); a browser with scripting on reads the noscript body as text, and so does Thresh.
        let html = page("<noscript><div id=\"nojs\">NOSCRIPT</noscript><div class=\"wrap\"><article>\(article)</article></div>")
        let text = try extract(html).text
        #expect(text.contains("paragraph number 4"))
        #expect(!text.contains("NOSCRIPT"))
        var unelided = ExtractOptions()
        unelided.elideRawText = false
        #expect(try HTMLExtractor(options: unelided).extract(html: html).text == text)
    }

    @Test func rubyReadingsAndSoftHyphensAreNotText() throws {
        let ruby = "<p>日本語の<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>を読むための長い文章です。" + String(repeating: "これは記事の本文です。", count: 20) + "</p>"
        let text = try extract(page("<article>\(ruby)<p>Extraordinarily long words such as inter\u{AD}national\u{AD}isation "
            + "break across lines, with commas, clauses, and a full stop at the end of the sentence.</p>\(article)</article>")).text
        #expect(text.contains("日本語の漢字を読む"))
        #expect(!text.contains("かんじ"))
        #expect(text.contains("internationalisation"))
    }

    @Test func textIsInNormalizationFormC() throws {
        // A precomposed letter that NFC decomposes (U+09DF is a composition exclusion) and a decomposed one it composes.
        let text = try extract(page("<article><p>\u{9DF} and Cafe\u{301} in one sentence, with commas, clauses, and a stop.</p>\(article)</article>")).text
        #expect(text.unicodeScalars.map(\.value).prefix(2) == [0x9AF, 0x9BC])
        #expect(text.contains("Caf\u{E9} in"))
        #expect(text.utf8.contains(0xCC) == false)  // no combining acute left
    }

    @Test func aLayoutWrapperNamedLikeFurnitureIsNotFurniture() throws {
        // The whole page sits in a wrapper whose class has a furniture part ("l-outer--nav").
        let html = page("<div class=\"l-outer l-outer--nav\"><nav><a href=/>Home</a> <a href=/a>About</a></nav>"
            + "<h1>The headline</h1><div><div><section>\(article)</section></div></div></div>")
        let text = try extract(html).text
        #expect(text.contains("The headline"))
        #expect(text.contains("paragraph number 4"))
        #expect(!text.contains("About"))
    }

    @Test func aLinkFreeStandfirstNamedTeaserIsContent() throws {
        let lead = "<div class=\"news-teaser\"><p>The standfirst sums up the story in two sentences, with commas, and it names "
            + "no link at all. It is the first thing a reader reads, and it is longer than a teaser in a grid would be.</p></div>"
        let teasers = "<div class=\"teaser-list\"><div class=\"teaser\"><a href=/x>Another story about rivers and lakes</a></div>"
            + "<div class=\"teaser\"><a href=/y>Yet another story about mountains and valleys</a></div></div>"
        let text = try extract(page("<article><h1>The headline</h1>\(lead)\(article)</article>\(teasers)")).text
        #expect(text.contains("The standfirst sums up"))
        #expect(!text.contains("Another story"))
    }

    @Test func anArticleSplitIntoNestedSectionsIsKeptWhole() throws {
        // Each section sits four wrappers deep, so the scores reach no common container: the best container is one
        // section (with enough text not to fall back to the whole page), and the article holding five times its
        // paragraph text is the main content. (The links keep the other sections from being kept as prose found
        // outside the main content.)
        let sections = (1...5).map { n in
            "<div class=\"block\"><div class=\"inner\"><div class=\"col\"><div class=\"text\"><h2>Section \(n)</h2>"
                + "<p>Section \(n) opens with a paragraph of its own, long enough to be prose, with commas, clauses, and a stop.</p>"
                + "<p>Section \(n) goes on. " + String(repeating: "It has a longer paragraph, with commas, clauses, and a stop. ", count: 4)
                + "It cites <a href=/s\(n)>a source of its own, under the long title that the cited work has</a>.</p>"
                + "</div></div></div></div>"
        }.joined()
        let html = page("<nav><a href=/>Home</a> <a href=/a>About</a></nav><div class=\"page\"><article>\(sections)</article></div>"
            + "<footer><a href=/i>Imprint</a></footer>")
        let text = try extract(html).text
        for n in 1...5 { #expect(text.contains("Section \(n) goes on"), "section \(n)") }
        #expect(!text.contains("Imprint"))
    }

    @Test func aListBetweenKeptParagraphsIsKeptWhole() throws {
        // The steps sit outside the main container, between two of its paragraphs; each item alone is too short to
        // count, the list between kept text does. A link list in the same place does not.
        let steps = "<ol><li>Place the seeds on a towel.</li><li>Wrap them up gently.</li><li>Spray the towel until wet.</li>"
            + "<li>Seal it in a plastic bag.</li></ol>"
        let links = "<ul><li><a href=/a>Another recipe for bread</a></li><li><a href=/b>Yet another recipe for cake</a></li></ul>"
        let long = String(repeating: "The seeds need warmth, moisture, and patience, and they sprout in two weeks. ", count: 4)
        let html = page("<div><div class=\"entry\"><p>\(long)</p></div>\(steps)<div class=\"entry\"><p>\(long) Then they grow.</p></div>"
            + "\(links)<div class=\"entry\"><p>\(long) At last they bloom.</p></div></div>")
        let text = try extract(html).text
        #expect(text.contains("Place the seeds on a towel.\nWrap them up gently.\nSpray the towel until wet.\nSeal it in a plastic bag."))
        #expect(!text.contains("Another recipe"))
    }

    /// Unclosed `<div>`s and deep nesting lose nothing: 600 paragraphs each opening a `<div>` that is never closed
    /// all come out, and past the depth limit elements are flattened into the deepest one kept, counted.
    @Test func deepAndUnclosedNestingKeepsItsText() throws {
        func nested(_ n: Int) -> String {
            page("<article>" + (0..<n).map { "<div><p>Paragraph \($0) has enough words to read as a sentence, with commas, and a full stop.</p>" }.joined() + "</article>")
        }
        let text = try extract(nested(600)).text
        #expect(text.split(separator: "\n\n").count == 600)
        #expect(text.contains("Paragraph 599 has"))
        let deep = try extract(nested(PageBuilder.maximumDepth + 300))
        #expect(deep.flattenedElements > 0)
        #expect(!deep.text.isEmpty)
        // 400 levels of plain nesting around one article.
        let wrapped = page(String(repeating: "<div>", count: 400) + "<article>\(article)</article>" + String(repeating: "</div>", count: 400))
        #expect(try extract(wrapped).text.contains("paragraph number 4"))
    }

    /// A page whose content is a list and a table keeps all of both (and not the menu beside them).
    @Test func listAndTablePagesKeepTheirItems() throws {
        let items = (0..<40).map { "<li>Item \($0): a short entry of the list with some words</li>" }.joined()
        let rows = (0..<20).map { "<tr><td>Town \($0)</td><td>\(1000 + $0) inhabitants</td><td>founded \(1500 + $0)</td></tr>" }.joined()
        let menu = "<nav><ul>" + (0..<15).map { "<li><a href=\"/x\($0)\">Link \($0)</a></li>" }.joined() + "</ul></nav>"
        let text = try extract(page(menu + "<main><h1>Towns of the valley</h1><p>The valley holds many towns, listed below with their "
            + "population and the year each was founded.</p><ul>\(items)</ul><table>\(rows)</table></main>")).text
        #expect(text.split(separator: "Item ").count - 1 == 40)
        #expect(text.split(separator: "Town ").count - 1 == 20)
        #expect(!text.contains("Link 3"))
    }

    /// Author, publication date and site name from the page's `<meta>`, as trafilatura reports them.
    @Test func authorDateAndSiteNameComeFromMeta() throws {
        let head = """
            <meta name="author" content="By Jane  Doe"><meta property="article:published_time" content="2023-05-17T08:30:00+02:00">
            <meta property="og:site_name" content="The Example Times">
            """
        let result = try extract(page("<article>\(article)</article>", head: head))
        #expect(result.author == "Jane Doe")
        #expect(result.date == "2023-05-17")
        #expect(result.sitename == "The Example Times")
        #expect(try extract(page("<article>\(article)</article>")).author == nil)
        #expect(PageBuilder.isoDate("17.05.2023") == nil && PageBuilder.isoDate("2023-13-01") == nil)
    }

    /// No rule reads words: prose that opens like a label stays ("Next, …", "Bake the cookie …"), while a short
    /// label that stands twice on the page and a short rights line with the copyright sign go, in any language.
    @Test func labelsAreJudgedByStructureNotWords() throws {
        let html = page("""
            <article><h1>Chocolate cookies</h1>
            <p>Share</p>
            \(article)
            <p>Next, beat in the eggs.</p>
            <p>Bake the cookie dough for 12 minutes.</p>
            <p>Foto: © 2024 Agentur Beispiel</p>
            \(article.split(separator: "number").joined(separator: "section"))
            <p>Share</p>
            </article>
            """)
        let text = try extract(html).text
        #expect(text.contains("Next, beat in the eggs."))
        #expect(text.contains("Bake the cookie dough for 12 minutes."))
        #expect(!text.contains("Share"))
        #expect(!text.contains("Agentur Beispiel"))
        // --explain names the rule that left each block out.
        let explanation = try extract(html) { $0.explain = true }.explanation
        let drops = explanation.filter { $0.hasPrefix("drop") }
        #expect(drops.count == 3 && drops.allSatisfy { !$0.hasPrefix("drop(?)") }, "\(drops)")
        #expect(drops.contains { $0.hasPrefix("drop(repeated-label)") && $0.hasSuffix("| Share") })
        #expect(drops.contains { $0.hasPrefix("drop(rights-line)") })
    }

    /// A short line with the copyright sign is a rights line or picture credit wherever it stands (recall mode keeps
    /// it); a long paragraph that mentions the sign is prose.
    @Test func shortRightsLinesAreFurnitureWhereverTheyStand() throws {
        let html = page("<article><h1>The headline</h1>\(article)<p>The skier on the slope. © AFP / Jane Doe</p>\(article)</article>")
        let text = try extract(html).text
        #expect(text.contains("paragraph number 4"))
        #expect(!text.contains("© AFP"))
        #expect(try extract(html) { $0.favor = .recall }.text.contains("© AFP"))
        #expect(ContentSelector.isRightsLine(Array("Ski-Star aus der Schweiz. (Foto: © Getty)".utf8)))
        #expect(!ContentSelector.isRightsLine(Array(("The council said the photograph, © the agency, "
            + String(repeating: "had been published months earlier, with commas and clauses, ", count: 3)).utf8)))
        #expect(!ContentSelector.isRightsLine(Array("The river rose overnight.".utf8)))
    }

    @Test func aServiceDialogDoesNotDisplaceARecipeCutIntoShortSteps() throws {
        // Each step is one short paragraph in a box of its own, so no container scores much; the dialog's one
        // long paragraph would outscore them all.
        let steps = (1...6).map { "<div class=\"step\"><div class=\"num\">\($0)</div><p>Step \($0): stir the batter, then rest it.</p></div>" }
            .joined()
        let dialog = "<div class=\"modal\"><div class=\"body\"><p>Our service team answers your questions about products, "
            + "recipes and ingredients, and handles complaints, tours, seminars and demonstrations. We look forward to your call.</p></div></div>"
        let html = page("<div class=\"recipe\"><h1>Muffins</h1><p>Soft muffins from a yeast dough, filled with a vanilla cream, and topped with almonds.</p>"
            + "<div class=\"steps\">\(steps)</div></div>\(dialog)")
        let text = try extract(html).text
        #expect(text.contains("Soft muffins"))
        #expect(!text.contains("Our service team"))
    }

    @Test func aGalleryArticleIsItsCaptions() throws {
        // Every item is a figure with a short caption: together they are the article, not credits around one.
        let slides = (1...8).map { "<figure><h2>\($0). Costume number \($0)</h2><img src=\($0).jpg><figcaption><p>What you need: a hat, "
            + "a scarf, and a coat for costume \($0), with a smile.</p></figcaption></figure>" }.joined()
        let text = try extract(page("<article><h1>Forty costumes</h1><p>Our favourite ideas for the season.</p>\(slides)</article>")).text
        for n in [1, 8] { #expect(text.contains("a coat for costume \(n),"), "slide \(n)") }
    }

    @Test func aFactSheetOfShortLinesIsKept() throws {
        // No block is long, so none vouches for its short neighbours; the link-poor container decides alone.
        let sheet = "<article><h1>Film swap, April</h1><h3>Places</h3><p>Shuji: Japan.</p><p>Walter: Germany.</p><h3>Film</h3>"
            + "<p>Fuji X-TRA 400.</p><h3>Cameras</h3><p>Shuji: Widelux.</p><p>Walter: Pentax Z-1 p.</p></article>"
        let html = page("<nav><a href=/>Home</a> <a href=/a>About us</a> <a href=/b>Blog</a></nav>\(sheet)<footer><a href=/i>Imprint</a></footer>")
        let text = try extract(html).text
        #expect(text.contains("Fuji X-TRA 400."))
        #expect(text.contains("Walter: Pentax Z-1 p."))
        #expect(!text.contains("Imprint"))
    }

    @Test func anAuthorBoxBesideTheArticleIsFurniture() throws {
        // The biography is link-free prose, long enough to pass for text, between two parts of the article.
        let bio = "<div class=\"author-box\"><p>Hello, I am a food blogger, cookbook author and journalist, and I have been baking "
            + "since I was a child, with flour, butter, and patience, in my grandmother's kitchen.</p></div>"
        let html = page("<div class=\"post\"><div class=\"body\"><h1>The headline</h1>\(article)</div>\(bio)"
            + "<div class=\"more\">\(article)</div></div>")
        let text = try extract(html).text
        #expect(text.contains("paragraph number 4"))
        #expect(!text.contains("food blogger"))
        // A short biography in a sibling kept with the article body (for the editors' note beside it) is left out
        // as it is inside the body.
        let body = (1...8).map { "<p>Paragraph \($0) of the body reads as prose, with commas, clauses, and a full stop at its end.</p>" }.joined()
        let note = "<p>" + String(repeating: "The editors add a long note here, with commas, clauses, and more commas, on sources. ", count: 3) + "</p>"
        let sibling = page("<div class=\"post\"><div class=\"body\"><h1>The headline</h1>\(body)</div><div class=\"extras\">"
            + "<div class=\"author-box\"><p>Jane writes about food, baking, and kitchens, and has written six books.</p></div>\(note)</div></div>")
        let withSibling = try extract(sibling).text
        #expect(withSibling.contains("The editors add a long note"))
        #expect(!withSibling.contains("Jane writes"))
    }

    @Test func scriptsStylesAndTemplatesNeverAppear() throws {
        let html = page("<article>\(article)<script>var secret = 'SCRIPT';</script><style>.x{content:'STYLE'}</style>"
            + "<noscript>NOSCRIPT</noscript><template><p>TEMPLATE</p></template><p style=\"display:none\">HIDDEN</p></article>",
            head: "<title>t</title><script>HEADSCRIPT</script>")
        let text = try extract(html).text
        for probe in ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HIDDEN"] { #expect(!text.contains(probe)) }
    }

    @Test func tablesBecomeRowsOfCells() throws {
        let table = "<table><tr><th>Country</th><th>Capital</th></tr><tr><td>France</td><td>Paris</td></tr>"
            + "<tr><td>Spain</td><td><table><tr><td>Madrid</td></tr></table></td></tr></table>"
        let text = try extract(page("<article>\(article)\(table)</article>")).text
        #expect(text.contains("Country | Capital\nFrance | Paris"))
        #expect(text.contains("Madrid"))
    }

    @Test func brokenMarkupIsRecovered() throws {
        let html = "<html><body><div class=content><p>First paragraph of the story, long enough to count as real prose here, really."
            + "<p>Second paragraph <b>bold <i>both</b> still going, with commas, and more words to read as content.<div><p>Third one"
            + " & entities &amp; &eacute;t&eacute; &#8212; decoded, and the end of the text is here for all to read."
        let text = try extract(html).text
        #expect(text.contains("First paragraph"))
        #expect(text.contains("Second paragraph bold both still going"))
        #expect(text.contains("& entities & été — decoded"))
    }

    @Test func markdownFormat() throws {
        let html = page("<article><h1>Title</h1>\(article)<h2>Section</h2><ul><li>first item of the list</li><li>second item</li></ul>\(article)</article>")
        let text = try extract(html) { $0.format = .markdown }.text
        #expect(text.hasPrefix("# Title\n\n"))
        #expect(text.contains("## Section"))
        #expect(text.contains("- first item of the list\n- second item"))
    }

    @Test func guardsAndMinimumLengthDropPages() {
        #expect(throws: ExtractionOutcome.tooShort) { try extract(page("<article>\(article)</article>")) { $0.minimumLength = 1000 } }
        #expect(throws: ExtractionOutcome.empty) { try extract(page("<script>only a script</script>")) }
        #expect(throws: ExtractionOutcome.tooLarge) { try extract(page(article)) { $0.maximumInputBytes = 100 } }
        let many = String(repeating: "<div><span>x</span></div>", count: 2000)
        #expect(throws: ExtractionOutcome.tooManyNodes) { try extract(page(many + article)) { $0.maximumNodes = 1000 } }
        // The clock is read every 1,024 elements, while the page is being parsed.
        #expect(throws: ExtractionOutcome.timeout) { try extract(page(many + article)) { $0.maximumSeconds = 0 } }
        #expect(throws: Never.self) { try extract(page(many + article)) }
    }

    /// libxml2's search for a stray end tag's open element is linear in the depth, so nested inline elements closed
    /// by a flood of stray end tags parse in quadratic time, inside htmlParseDocument where no element callback
    /// runs. The error callback reads the clock, so the guard holds there too: the page is dropped as timed out
    /// within about the limit, instead of parsing for minutes.
    @Test func aFloodOfStrayEndTagsStopsAtTheTimeLimit() {
        let html = "<html><body><p>The start of the page.</p>" + String(repeating: "<b>", count: 60_000)
            + String(repeating: "</i>", count: 400_000) + "</body></html>"
        let started = monotonicSeconds()
        #expect(throws: ExtractionOutcome.timeout) { try extract(html) { $0.maximumSeconds = 1 } }
        #expect(monotonicSeconds() - started < 10, "the guard fired late")
    }

    @Test func classAndIdNamesAreReadByTheirParts() {
        #expect(ClassHints.classify("sidebar").boilerplate == "sidebar")
        #expect(ClassHints.classify("site-nav clearfix").boilerplate == "nav")
        #expect(ClassHints.classify("rightRail").boilerplate == "rail")
        #expect(ClassHints.classify("mainNavigation").boilerplate == "navigation")
        // A camel-case hump counts for layout names only; a hyphen counts for every furniture part.
        #expect(ClassHints.classify("jobTeaser").boilerplate == nil)
        #expect(ClassHints.classify("job-teaser").boilerplate == "teaser")
        #expect(ClassHints.classify("entry-content").content)
        #expect(ClassHints.classify("post articleBody").content)
        #expect(ClassHints.classify("comments entry").content)
        #expect(ClassHints.classify("").boilerplate == nil)
    }

    @Test func nonASCIITextIsReadAsTheUTF8ItIs() throws {
        // A stale charset declaration must not make libxml2 decode the (already UTF-8) text a second time,
        // nor may the first non-ASCII byte make it guess an encoding.
        let body = "<article><p>Grüße aus Köln, naïve café prices, and 東京 in one paragraph: enough text to be content here.</p>\(article)</article>"
        for head in ["<title>Köln</title>", "<meta charset=\"iso-8859-1\"><title>Köln</title>",
                     "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><title>Köln</title>"] {
            let result = try extract(page(body, head: head))
            #expect(result.text.hasPrefix("Grüße aus Köln, naïve café prices, and 東京 in one paragraph"), "\(head)")
            #expect(result.title == "Köln")
        }
    }

    @Test func shortPagesKeepTheirFewParagraphs() throws {
        // The container that looks like content holds only links; the page's text is two short paragraphs
        // elsewhere: the main content comes out empty, and the fallback keeps the link-poor text.
        let links = "<div class=\"content\"><ul><li><a href=/1>Link number one</a></li><li><a href=/2>Link number two</a></li></ul></div>"
        let html = page(links + "<div><p>Wie war das nochmal mit den Variablen? Ein Auszug aus dem Kurs.</p>"
            + "<p>Variablen sind kein Problem für dich? Dann lies die nächste Lektion.</p></div>")
        let text = try extract(html).text
        #expect(text == "Wie war das nochmal mit den Variablen? Ein Auszug aus dem Kurs.\n\nVariablen sind kein Problem für dich? Dann lies die nächste Lektion.")
    }

    @Test func nulBytesDoNotEndThePage() throws {
        // libxml2 2.9 stops at a NUL; pages with stray NULs (seen in the wild) keep the text after them.
        let text = try extract(page("<div><img src=x>\u{0}\u{0}\u{0}</div><article>\(article)</article>")).text
        #expect(text.contains("paragraph number 4"))
    }

    @Test func textSplitAcrossParserChunksIsCollapsedAsOne() throws {
        // libxml2 reports long text runs in pieces of about 1,000 bytes; whitespace collapsing carries across.
        let words = (0..<600).map { "word\($0)" }.joined(separator: "   \n  ")
        let text = try extract(page("<article><p>\(words).</p></article>")).text
        #expect(text == (0..<600).map { "word\($0)" }.joined(separator: " ") + ".")
    }

    @Test func favorRecallKeepsMoreThanPrecision() throws {
        let side = "<div class=\"box\"><p>A long side note outside the article that still reads as prose, with commas, clauses, and enough length to matter here, surely.</p></div>"
        let html = page("<article>\(article)</article>" + side)
        let recall = try extract(html) { $0.favor = .recall }.text
        let precision = try extract(html) { $0.favor = .precision }.text
        #expect(recall.contains("side note"))
        #expect(!precision.contains("side note"))
    }

    @Test func stageCountsDropsAndPassesPlainText() throws {
        var stage = ExtractStage()
        var out: [Document] = []
        try stage.process(Document(id: "a", text: page("<article>\(article)</article>"))) { out.append($0) }
        try stage.process(Document(id: "b", text: page("<nav><a href=/>Home</a> <a href=/a>About us</a></nav><p> </p>"))) { out.append($0) }
        try stage.process(Document(id: "c", text: "Plain  text\nstays as it is.", meta: ["content_type": .string("text/plain")])) { out.append($0) }
        try stage.process(Document(id: "d", text: page("<p>x</p>"))) { out.append($0) }
        #expect(out.map(\.id) == ["a", "c"])
        #expect(out[0].meta["title"] == .string("Page title"))
        #expect(out[1].text == "Plain  text\nstays as it is.")
        #expect(stage.statistics.documentsIn == 4 && stage.statistics.documentsOut == 2)
        #expect(stage.statistics.dropped == ["empty": 1, "too-short": 1])
    }
}

/// Script and style bodies and unread attributes are cut before libxml2 parses the page; the page must read the
/// same either way.
@Suite struct RawTextEliderTests {
    func elided(_ html: String, attributes: Bool = false) -> String? {
        Array(html.utf8).withUnsafeBufferPointer { RawTextElider.elide($0, attributes: attributes) }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func extractBothWays(_ html: String) -> (String, String) {
        func run(_ elide: Bool) -> String {
            var options = ExtractOptions()
            options.elideRawText = elide
            options.minimumLength = 0
            options.favor = .recall
            do { return try HTMLExtractor(options: options).extract(html: html).text } catch { return "dropped: \(error)" }
        }
        return (run(true), run(false))
    }

    let prose = "<p>The main text of this page is long enough to be kept, with commas, clauses, and a full stop.</p>"

    @Test func cutsScriptAndStyleBodies() {
        #expect(elided("<p>a</p><script type=\"x\">var a = '<p>no</p>';</script><style>p{}</style><p>b</p>")
            == "<p>a</p><script type=\"x\"></script><style></style><p>b</p>")
        #expect(elided("<SCRIPT>x</ScRiPt >") == "<SCRIPT></ScRiPt >")
        #expect(elided("<p>nothing to cut</p>") == nil)
        // "<scripts>" is another element; an empty body leaves nothing to cut.
        #expect(elided("<scripts>x</scripts><script></script>") == nil)
    }

    @Test func squeezesWhitespaceRunsInTextOnly() {
        #expect(elided("<p title=\"a   b\">x  \n y</p>\n\n<p>z</p>", attributes: true) == "<p >x y</p>\n<p>z</p>")
        // From a <pre> on, whitespace is left as it is.
        #expect(elided("<p>a  b</p><pre>c  d</pre><p>e  f</p>", attributes: true) == "<p>a b</p><pre>c  d</pre><p>e  f</p>")
    }

    @Test func titleWhitespaceCollapsesAcrossLineEndings() throws {
        let html = "<html><head><title>\r\n A\r\n \r\n B \t</title></head><body>\(prose)</body></html>"
        #expect(try HTMLExtractor().extract(html: html).title == "A B")
    }

    @Test func cutsAttributesExtractionDoesNotRead() {
        #expect(elided("<a href=\"/x?a>b\" CLASS=\"nav\" data-x='1'>t</a><img src=x.png alt=y/>", attributes: true)
            == "<a  CLASS=\"nav\" >t</a><img  >")  // an unquoted value runs to '>' ("y/"), as in libxml2
        #expect(elided("<html lang=en><meta property=\"og:title\" content=\"T\"><div id=a role=main style=\"display:none\" hidden aria-hidden=\"true\" itemprop=text>",
                       attributes: true) == nil)
        // A tag that does not end keeps its attributes, and so does the rest of the page.
        #expect(elided("<p title=\"x\">a</p><a href=\"b", attributes: true) == "<p >a</p><a href=\"b")
    }

    @Test(arguments: [
        // Whitespace runs in text, a form feed among them, and preformatted text after them.
        "<p>TEXT \r\n\t  TEXT</p>\n\n    <div>\n\n   <span>a</span>  \u{0C}  <span>b</span>\n</div><pre>  x\n\n   y</pre><p>a   b</p>",
        "<ul>\n  <li>one</li>\n  <li>two  three</li>\n</ul><textarea>  t  </textarea><p>  c   d  </p>",
        // Attributes: cut ones next to kept ones, case, quotes of the other kind inside values, no blank between.
        "<div data-a=\"x\"class=\"comments\">TEXT</div><div TITLE='a \"b\"' ID=\"sidebar\">TEXT</div>",
        "<a href=x/>TEXT</a><img src=\"a.png\"/><p style=\"display: none\" title=x>TEXT</p><p hidden data-x=1>TEXT</p>",
        "<div aria-hidden=\"true\" onclick=\"go('>')\">TEXT</div><span itemprop=\"articleBody\" data-q=\"1\">TEXT</span>",
        // A quoted attribute value may hold '>' and '<script>'.
        "<div title=\"a > b <script>\">TEXT</div><script>1</script>",
        // A bogus attribute (Vue's @click) ends at the first '>', quotes or not.
        "<div @click=\"a>b\">TEXT</div><script>if (a<b) {}</script>",
        // Comments hide tags; an unterminated one keeps the rest as it is.
        "<!-- <script> -->TEXT<script>x</script><!-- open <script>y</script>",
        // Odd comment endings are left to the parser.
        "<!-->TEXT<script>x</script>--><!-- a --!><script>z</script>TEXT -->",
        // "</" inside a script ends it only before the element's own name, in any case.
        "<script>document.write('</div>'); if (a </b) {}</SCRIPT>TEXT",
        // Self-closing and unterminated raw-text elements.
        "<script src=\"x.js\"/>TEXT<style>p{}",
        "<script src=a.js/>TEXT<script>x</script>",
        // Declarations, processing instructions, "<!" and "</" without names, stray '<'.
        "<!DOCTYPE html><?php echo 1 ?>TEXT<! x><script>a</script></ >a < b<style>q</style><",
        "<![CDATA[ <script> ]]>TEXT</script>",
        // Unquoted values and blanks around '='.
        "<p class = x>TEXT</p><script type = text/javascript >x</script><p id=>TEXT</p>",
    ])
    func readsTheSameWithAndWithout(body: String) {
        let html = "<html><body>\(prose)\(body)\(prose)</body></html>"
        let (cut, whole) = Self.extractBothWays(html)
        #expect(cut == whole, "\(body)")
    }
}
