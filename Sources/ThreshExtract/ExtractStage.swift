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
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        statistics.documentsIn += 1
        let html = document.text
        statistics.bytesIn += Int64(html.utf8.count)
        if document.meta["content_type"] == .string("text/plain") {
            // Plain text (text/plain responses, WET records) has no markup to remove: passed on as it is.
            statistics.count("plain-text")
            statistics.documentsOut += 1
            statistics.bytesOut += Int64(html.utf8.count)
            try emit(document)
            return
        }
        let result: Extraction
        do throws(ExtractionOutcome) {
            result = try extractor.extract(html: html)
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
        out.meta = meta
        statistics.documentsOut += 1
        statistics.bytesOut += Int64(result.text.utf8.count)
        try emit(out)
    }
}
