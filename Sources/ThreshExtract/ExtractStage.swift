public import ThreshCore

/// `thresh extract` as a stage: documents whose `text` is HTML in, documents whose `text` is the main content
/// out, with `meta.title` and `meta.lang` filled. Pages that give no text (or too little, or trip a guard) are
/// dropped and counted by reason.
public struct ExtractStage: DocumentStage {
    public let extractor: HTMLExtractor
    public private(set) var statistics = StageStatistics(stage: "extract")
    /// Receives each page's block-by-block explanation when the options ask for one.
    public var explanationHandler: ((String, [String]) -> Void)?

    public init(options: ExtractOptions = ExtractOptions()) { extractor = HTMLExtractor(options: options) }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        var html = document.text
        try html.withUTF8 { try process(document, html: $0, emit: emit) }
    }

    /// Processes a document whose HTML comes as UTF-8 bytes (valid UTF-8) beside it, not in its `text` (as
    /// `WARCIngest.processUTF8` hands pages over, so the page never becomes a Swift string).
    public mutating func process(_ document: Document, html: UnsafeBufferPointer<UInt8>, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        statistics.documentsIn += 1
        statistics.bytesIn += Int64(html.count)
        if document.meta["content_type"] == .string("text/plain") {
            // Plain text (text/plain responses, WET records) has no markup to remove: passed on as it is.
            statistics.count("plain-text")
            statistics.documentsOut += 1
            statistics.bytesOut += Int64(html.count)
            var out = document
            // `html` is either the document's own text or given beside an empty one (WARCIngest.processUTF8).
            if out.text.utf8.count != html.count { out.text = String(decoding: html, as: UTF8.self) }
            try emit(out)
            return
        }
        let result: Extraction
        do throws(ExtractionOutcome) {
            result = try extractor.extract(utf8: html)
        } catch {
            statistics.drop(error.rawValue)
            return
        }
        if !result.explanation.isEmpty {
            explanationHandler?(document.id, result.explanation)
        }
        if extractor.options.explain && result.text.count < extractor.options.minimumLength {
            statistics.drop(result.text.isEmpty ? ExtractionOutcome.empty.rawValue : ExtractionOutcome.tooShort.rawValue)
            return
        }
        var out = document
        out.text = result.text
        var meta = out.meta
        if let title = result.title { meta["title"] = .string(title) }
        if let language = result.language { meta["lang"] = .string(language) }
        if let author = result.author { meta["author"] = .string(author) }
        if let date = result.date { meta["date"] = .string(date) }
        if let sitename = result.sitename { meta["sitename"] = .string(sitename) }
        if result.flattenedElements > 0 { statistics.count("elements-flattened-past-depth", result.flattenedElements) }
        out.meta = meta
        statistics.documentsOut += 1
        statistics.bytesOut += Int64(result.text.utf8.count)
        try emit(out)
    }
}
