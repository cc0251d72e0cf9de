public import ThreshCore

/// What to do with an input line that is not a valid document.
public enum OnError: String, Sendable, CaseIterable {
    /// Stop with an error naming the file and line.
    case fail
    /// Count the line under `invalid-json` and go on.
    case skip
}

/// Reads documents from JSONL files (plain, `.gz`, `.zst`, or stdin as `-`), one object per line.
/// Blank lines are ignored.
public final class DocumentReader {
    private let lines: LineReader
    private let onError: OnError
    /// Called once for each skipped line with the error (for diagnostics); counting is the caller's.
    public var reportSkipped: ((ThreshError) -> Void)?
    /// Lines skipped as invalid.
    public private(set) var skipped = 0

    /// The file name used in messages.
    public var name: String { lines.name }

    /// Called before each (possibly blocking) read of the input; see `DecompressingReader.beforeRead`.
    public var beforeRead: (() -> Void)? {
        get { lines.beforeRead }
        set { lines.beforeRead = newValue }
    }
    /// Decompressed bytes consumed so far.
    public var bytesRead: Int64 { lines.bytesRead }
    /// Bytes read from the file itself (compressed), for progress against the file's size.
    public var fileBytesRead: Int64 { lines.fileBytesRead }

    public init(path: String, onError: OnError = .fail) throws {
        lines = LineReader(try DecompressingReader(path: path))
        self.onError = onError
    }

    /// The next document, or nil at the end.
    /// - Throws: `ThreshError(.invalidJSON)` with file and line number when `onError` is `.fail`.
    public func next() throws -> Document? {
        while true {
            let result: Result<Document, JSONSyntaxError>?? = try lines.nextLine { line -> Result<Document, JSONSyntaxError>? in
                if isBlank(line) { return nil }
                do throws(JSONSyntaxError) { return .success(try Document.parse(line)) } catch { return .failure(error) }
            }
            guard let result else { return nil }
            guard let result else { continue }
            switch result {
            case .success(let document): return document
            case .failure(let syntax):
                let error = ThreshError(.invalidJSON, "invalid document: \(syntax.message) (column \(syntax.offset + 1))",
                                        file: name, line: lines.lineNumber)
                if onError == .fail { throw error }
                skipped += 1
                reportSkipped?(error)
            }
        }
    }

    /// Calls `body` with the next non-blank line's bytes, unparsed (valid only inside `body`); nil at the end.
    /// For a second pass over input that `next()` has already validated, where most lines pass through as they are.
    public func nextLine<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        while true {
            let result: R?? = try lines.nextLine { line -> R? in isBlank(line) ? nil : try body(line) }
            guard let result else { return nil }
            if let result { return result }
        }
    }

    /// The document in a line from `nextLine`.
    /// - Throws: `ThreshError(.invalidJSON)` with file and line number.
    public func parse(_ line: UnsafeRawBufferPointer) throws -> Document {
        do throws(JSONSyntaxError) { return try Document.parse(line) } catch {
            throw ThreshError(.invalidJSON, "invalid document: \(error.message) (column \(error.offset + 1))", file: name, line: lines.lineNumber)
        }
    }

    private func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        for b in line where b != 0x20 && b != 0x09 && b != 0x0D { return false }
        return true
    }
}

/// Writes documents as JSONL to a file or stdout, buffered and (for files) atomically.
public final class DocumentWriter {
    public let output: OutputFile
    /// Documents written.
    public private(set) var count = 0

    public init(path: String, compression: OutputFile.Compression = .fromName) throws {
        output = try OutputFile(path: path, compression: compression)
    }

    /// Writes one document as a line.
    public func write(_ document: Document) throws {
        try output.append { document.write(to: &$0) }
        count += 1
    }

    /// Writes one line of an already valid document as it is, adding the newline.
    public func write(line: UnsafeRawBufferPointer) throws {
        try output.append { $0.append(contentsOf: line); $0.append(0x0A) }
        count += 1
    }

    /// Bytes written (uncompressed).
    public var bytesWritten: Int64 { output.bytesWritten }

    /// Writes buffered documents through (to a pipe: the next stage sees them now).
    public func flush() throws { try output.flush() }

    /// Flushes and closes (renaming a file into place).
    public func close() throws { try output.close() }
}
