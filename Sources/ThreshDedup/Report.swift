public import ThreshCore

/// `thresh dedup stats --html`: one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched)
/// with totals, removal rates per source, the cluster-size and Jaccard histograms, and the largest clusters'
/// members side by side.
public enum DedupReport {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A horizontal bar chart as inline SVG.
    static func bars(_ title: String, _ rows: [(String, Double, String)], width: Int = 560) -> String {
        let rowHeight = 22
        let height = rows.count * rowHeight + 30
        let peak = max(rows.map(\.1).max() ?? 1, 1e-9)
        var svg = "<figure><figcaption>\(escape(title))</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(escape(title))\">"
        for (i, row) in rows.enumerated() {
            let y = 10 + i * rowHeight
            let w = Int(Double(width - 240) * row.1 / peak)
            svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"12\">\(escape(row.0))</text>"
            svg += "<rect class=\"bar\" x=\"130\" y=\"\(y + 3)\" width=\"\(max(w, row.1 > 0 ? 1 : 0))\" height=\"16\" fill=\"#4a7ab5\"/>"
            svg += "<text x=\"\(136 + w)\" y=\"\(y + 15)\" font-size=\"12\">\(escape(row.2))</text>"
        }
        return svg + "</svg></figure>"
    }

    /// The report for a dedup output's statistics and largest clusters.
    public static func html(stats: JSONObject, clusters: [JSONObject]) -> String {
        let documents = stats["documents"]?.intValue ?? 0, removed = stats["removed"]?.intValue ?? 0
        let rate = documents > 0 ? Double(removed) / Double(documents) : 0
        var h = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Thresh dedup report</title>
            <style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
            td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}
            .cluster{display:flex;gap:8px;overflow-x:auto;margin-bottom:1.5em}.member{flex:0 0 280px;border:1px solid #ccc;
            padding:6px;font-size:12px;white-space:pre-wrap}.removed{background:#fbeaea}.kept{background:#eaf6ea}
            figure{margin:1em 0}figcaption{font-weight:bold}</style></head><body>
            <h1>Dedup report</h1>
            """
        h += "<p id=\"summary\">\(documents) documents; \(removed) removed (\(format1(rate * 100))%); \(stats["clusters"]?.intValue ?? 0) clusters; "
            + "\(stats["candidate_pairs"]?.intValue ?? 0) candidate pairs, \(stats["verified_pairs"]?.intValue ?? 0) verified "
            + "(\(stats["bands"]?.intValue ?? 0) bands × \(stats["rows"]?.intValue ?? 0) rows, threshold \(stats["threshold"]?.doubleValue.map(format3) ?? "?")).</p>"
        h += "<h2>Per source</h2><table id=\"sources\"><tr><th>source</th><th>documents</th><th>removed</th><th>rate</th></tr>"
        var sourceRows: [(String, Double, String)] = []
        for (source, v) in stats["per_source"]?.objectValue ?? [:] {
            let d = v.objectValue?["documents"]?.intValue ?? 0, r = v.objectValue?["removed"]?.intValue ?? 0
            let share = d > 0 ? Double(r) / Double(d) : 0
            h += "<tr><td style=\"text-align:left\">\(escape(source))</td><td>\(d)</td><td>\(r)</td><td>\(format1(share * 100))%</td></tr>"
            sourceRows.append((source, share, "\(format1(share * 100))%"))
        }
        h += "</table>"
        h += bars("Removal rate per source", sourceRows)
        let sizes = (stats["cluster_sizes"]?.objectValue ?? [:]).map { (Int($0.key) ?? 0, $0.value.intValue ?? 0) }.sorted { $0.0 < $1.0 }
        h += bars("Clusters by size (documents per cluster)", sizes.map { ("\($0.0)", Double($0.1), "\($0.1)") })
        let histogram = stats["jaccard_histogram"]?.arrayValue?.compactMap(\.intValue) ?? []
        h += bars("Jaccard similarity of verified pairs", histogram.enumerated().filter { $0.element > 0 }.map {
            ("\(format3(Double($0.offset) / 20))–\(format3(Double($0.offset + 1) / 20))", Double($0.element), "\($0.element)")
        })
        h += "<h2>Largest clusters</h2>"
        for c in clusters {
            h += "<h3>Cluster \(c["cluster"]?.intValue ?? 0): \(c["size"]?.intValue ?? 0) documents, survivor \(escape(c["survivor"]?.stringValue ?? ""))</h3><div class=\"cluster\">"
            for m in c["members"]?.arrayValue ?? [] {
                let o = m.objectValue ?? [:]
                let isRemoved = o["removed"] == .bool(true)
                h += "<div class=\"member \(isRemoved ? "removed" : "kept")\"><b>\(isRemoved ? "removed" : "kept"): \(escape(o["id"]?.stringValue ?? ""))</b>\n\(escape(o["snippet"]?.stringValue ?? ""))</div>"
            }
            h += "</div>"
        }
        return h + "</body></html>\n"
    }
}

extension StageStatistics {
    /// The summary row of one dedup job, from its `stats.json`: its own documents (documents of `--index` are not
    /// counted, so a reference dataset deduplicated on its own is not counted twice in a run), drops by reason, text
    /// bytes, pairs and clusters.
    public init(dedupStatistics o: JSONObject, seconds: Double) {
        self.init(stage: "dedup")
        let index = o["index_documents"]?.intValue ?? 0
        documentsIn = (o["documents"]?.intValue ?? 0) - index
        let removed = o["removed"]?.intValue ?? 0
        drop("duplicate", count: removed)
        documentsOut = documentsIn - removed
        bytesIn = Int64(o["text_bytes"]?.intValue ?? 0)
        bytesOut = bytesIn - Int64(o["removed_text_bytes"]?.intValue ?? 0)
        count("candidate-pairs", o["candidate_pairs"]?.intValue ?? 0)
        count("verified-pairs", o["verified_pairs"]?.intValue ?? 0)
        count("clusters", o["clusters"]?.intValue ?? 0)
        self.seconds = seconds
    }
}
