/// A streaming transformation of documents: the protocol every stage implements, so stages can run alone
/// behind the command line or fused in one process by the batch runner.
///
/// `process` may emit zero or more documents per input; `finish` flushes stages that must see everything.
/// Documents a stage does not emit are counted in `statistics.dropped` under a reason.
public protocol DocumentStage {
    /// Handles one document.
    mutating func process(_ document: Document, emit: (Document) throws -> Void) throws
    /// Called once after the last document.
    mutating func finish(emit: (Document) throws -> Void) throws
    /// The stage's counters so far.
    var statistics: StageStatistics { get }
}

extension DocumentStage {
    public mutating func finish(emit: (Document) throws -> Void) throws {}
}
