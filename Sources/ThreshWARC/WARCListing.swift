public import ThreshCore

/// One JSON object per record with the fields warcio's listing has (offset, type, uri, id, content length,
/// digests, HTTP status token, record length): `thresh warc list`, and the tests' comparison with warcio.
public enum WARCListing {
    public static func entries(_ warc: WARCReader) throws -> [JSONObject] {
        var entries: [JSONObject] = []
        while let record = try warc.next() {
            var o = JSONObject()
            o["offset"] = .int(record.offset)
            o["type"] = .string(record.type)
            o["uri"] = record.targetURI.map(JSONValue.string) ?? .null
            o["id"] = record.recordID.map(JSONValue.string) ?? .null
            o["content_length"] = .int(record.contentLength)
            o["block_digest"] = record.header("WARC-Block-Digest").map(JSONValue.string) ?? .null
            o["payload_digest"] = record.header("WARC-Payload-Digest").map(JSONValue.string) ?? .null
            var status: JSONValue = .null
            if record.hasHTTPBlock, let block = try warc.readBlock(), let head = HTTPHead.parse(block) {
                status = head.secondToken.map(JSONValue.string) ?? .null
            }
            o["status"] = status
            let end = try warc.finishRecord()
            o["length"] = end.map { .int($0 - record.offset) } ?? .null
            entries.append(o)
        }
        return entries
    }
}
