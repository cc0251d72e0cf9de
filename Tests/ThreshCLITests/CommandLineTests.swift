import Foundation
import Testing
import ThreshTestSupport

/// End-to-end: the built `thresh` binary, its stdout, stderr and exit status.
@Suite struct CommandLineTests {
    struct Run { var status: Int32; var stdout: String; var stderr: String }

    func thresh(_ arguments: [String], stdin: String? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.threshBinary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: TestPaths.repository)
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func warcOnTheSamplesWritesDocumentsAndCountsEveryRecord() throws {
        let dir = makeTemporaryDirectory()
        let run = try thresh(["warc", "Samples/crawl-sample.warc.gz", "--stats", dir + "/stats.json", "--quiet"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n")
        let documents = lines.filter { $0.hasPrefix("{\"id\"") }
        #expect(documents.count == lines.count)
        #expect(documents.count == 7)
        #expect(documents.contains { $0.contains("Река течёт к морю") })
        #expect(documents.contains { $0.contains("川は山から海へ流れ") })
        #expect(documents.contains { $0.contains("crème brûlée") })
        let stats = String(decoding: try readFile(dir + "/stats.json"), as: UTF8.self)
        #expect(stats.contains(#""documents_in":27,"documents_out":7"#))
        #expect(stats.contains(#""invalid-header":1"#))
        #expect(run.stderr.contains("Samples/crawl-sample.warc.gz, record 25, offset"))
    }

    @Test func samplesAreRegeneratedByteForByte() throws {
        let dir = makeTemporaryDirectory()
        let run = try thresh(["samples", "-o", dir + "/again.warc.gz"])
        #expect(run.status == 0)
        #expect(try readFile(dir + "/again.warc.gz") == readFile(TestPaths.repository + "/Samples/crawl-sample.warc.gz"))
    }

    @Test func catConvertsCompressionAndTakesTheHead() throws {
        let dir = makeTemporaryDirectory()
        let input = (0..<5).map { #"{"id":"\#($0)","text":"t\#($0)","added":"2024"}"# }.joined(separator: "\n") + "\n"
        var run = try thresh(["cat", "-", "-o", dir + "/x.jsonl.zst"], stdin: input)
        #expect(run.status == 0)
        run = try thresh(["cat", dir + "/x.jsonl.zst", "--head", "2", "--quiet"])
        #expect(run.stdout == (0..<2).map { #"{"id":"\#($0)","text":"t\#($0)","added":"2024"}"# }.joined(separator: "\n") + "\n")
    }

    @Test func invalidInputNamesFileAndLineAndFails() throws {
        let run = try thresh(["cat", "-", "--quiet"], stdin: "{\"id\":\"a\"}\nnot json\n")
        #expect(run.status == 1)
        #expect(run.stderr.contains("-, line 2: invalid document"))
        let skipping = try thresh(["cat", "-", "--on-error", "skip"], stdin: "{\"id\":\"a\"}\nnot json\n")
        #expect(skipping.status == 0)
        #expect(skipping.stderr.contains("dropped invalid-json: 1"))
    }

    @Test func writingToADeviceLeavesTheDeviceInPlace() throws {
        let run = try thresh(["warc", "Samples/crawl-sample.warc.gz", "-o", "/dev/null", "--quiet"])
        #expect(run.status == 0)
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func missingFileIsAClearError() throws {
        let run = try thresh(["warc", "/nonexistent/x.warc.gz"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("/nonexistent/x.warc.gz: cannot open"))
    }
}
