/// One document of the stream: a JSON object with the well-known fields `id`, `source`, `text`, `url`,
/// `meta` and `attrs`, and any other fields the producer wrote, kept in their order.
///
/// The typed properties read and write the underlying object, so a document read from datatrove or
/// dolma JSONL is written back with every field it had.
public struct Document: Sendable, Equatable {
    /// All fields, in order.
    public var fields: JSONObject

    /// Wraps a parsed JSON object.
    public init(fields: JSONObject) { self.fields = fields }

    /// Makes a document with the usual fields in the usual order.
    public init(id: String, source: String? = nil, text: String, url: String? = nil,
                meta: JSONObject = [:], attrs: JSONObject = [:]) {
        var f = JSONObject()
        f.appendUnchecked("id", .string(id))
        if let source { f.appendUnchecked("source", .string(source)) }
        f.appendUnchecked("text", .string(text))
        if let url { f.appendUnchecked("url", .string(url)) }
        if !meta.isEmpty { f.appendUnchecked("meta", .object(meta)) }
        if !attrs.isEmpty { f.appendUnchecked("attrs", .object(attrs)) }
        fields = f
    }

    /// Stable identifier within `source`. A numeric id from another tool reads as its spelling.
    public var id: String {
        get {
            switch fields["id"] {
            case .string(let s): return s
            case .number(let n): return n
            default: return ""
            }
        }
        set { fields["id"] = .string(newValue) }
    }

    /// The dataset the document belongs to.
    public var source: String? {
        get { fields["source"]?.stringValue }
        set { fields["source"] = newValue.map(JSONValue.string) }
    }

    /// The content: HTML straight from `thresh warc`, plain text after `thresh extract`.
    public var text: String {
        get { fields["text"]?.stringValue ?? "" }
        set { fields["text"] = .string(newValue) }
    }

    /// Where the document was fetched from.
    public var url: String? {
        get { fields["url"]?.stringValue }
        set { fields["url"] = newValue.map(JSONValue.string) }
    }

    /// Provenance: file, offset, dates, content type, charset.
    public var meta: JSONObject {
        get { fields["meta"]?.objectValue ?? [:] }
        set { fields["meta"] = .object(newValue) }
    }

    /// What stages computed about the document (scores, draws, cluster ids, token counts).
    public var attrs: JSONObject {
        get { fields["attrs"]?.objectValue ?? [:] }
        set { fields["attrs"] = .object(newValue) }
    }

    /// Parses one JSONL line. The line must hold a JSON object.
    public static func parse(_ line: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> Document {
        guard case .object(let object) = try JSONParser.parse(line) else {
            throw JSONSyntaxError(message: "a document must be a JSON object", offset: 0)
        }
        return Document(fields: object)
    }

    /// Appends the document as one JSON line (with the newline) to `out`.
    public func write(to out: inout [UInt8]) {
        JSONWriter.write(fields, to: &out)
        out.append(0x0A)
    }
}
