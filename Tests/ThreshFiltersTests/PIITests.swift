import Testing
import ThreshCore
import ThreshIO
@testable import ThreshFilters
import ThreshTestSupport

/// The PII stage against datatrove's PIIFormatter itself, one fresh formatter per text (`scripts/make-filter-fixtures`).
@Suite struct PIITests {
    @Test func replacementsMatchDatatrove() throws {
        let rows = try readJSONLines(TestPaths.fixtures + "/filters/pii.jsonl")
        #expect(rows.count >= 6)
        var stage = try PIIStage(PIIOptions.schema.defaults)
        for (n, row) in rows.enumerated() {
            var out: Document?
            try stage.process(Document(id: "\(n)", text: row["text"]!.stringValue!)) { out = $0 }
            #expect(out?.text == row["expected"]!.stringValue!, "\(row["text"]!.stringValue!)")
        }
        #expect((stage.statistics.counters["pii.email"] ?? 0) >= 5)
        #expect((stage.statistics.counters["pii.ip"] ?? 0) >= 3)
    }

    @Test func addressesPythonCallsGlobal() {
        func ok(_ s: String, _ publicOnly: Bool = true) -> Bool { PIIStage.isValidIPv4(Array(s.utf16), publicOnly: publicOnly) }
        #expect(ok("93.184.216.34") && ok("8.8.8.8"))
        #expect(!ok("192.168.1.10") && !ok("10.0.0.1") && !ok("127.0.0.1") && !ok("100.64.1.1") && !ok("172.31.0.1"))
        #expect(ok("192.168.1.10", false))
        #expect(!ok("01.2.3.4", false) && !ok("256.1.1.1", false))
    }
}
