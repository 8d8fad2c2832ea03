import EventDecoding
import EventModel
import FastJSON
import Foundation
import Testing

@Suite struct InputSetTests {
    @Test func exportHourFromPathSegments() throws {
        let p = "x/insights-activity-logs/resourceId=/SUBSCRIPTIONS/ABC/y=2024/m=05/d=01/h=13/m=00/PT1H.json"
        #expect(InputSet.exportHour(ofPath: p) == EventTime(parsing: "2024-05-01T13:00:00Z"))
        #expect(InputSet.exportHour(ofPath: "logs/2024/05/01/a.json") == nil)
        #expect(InputSet.exportHour(ofPath: "y=2024/m=13/d=01/h=00/m=00/PT1H.json") == nil)
    }

    /// Builds an export tree whose directory order is not time order, plus a stray file.
    private func makeTree(_ root: URL) throws -> [String] {
        let hours = [("2024", "05", "02", "00"), ("2024", "05", "01", "23"), ("2023", "12", "31", "09"), ("2024", "05", "01", "03")]
        var written: [String] = []
        for (n, (y, m, d, h)) in hours.enumerated() {
            let container = n % 2 == 0 ? "insights-activity-logs" : "insights-logs-amlcomputejobevent"
            let dir = root.appendingPathComponent("\(container)/resourceId=/SUBSCRIPTIONS/S1/y=\(y)/m=\(m)/d=\(d)/h=\(h)/m=00")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let file = dir.appendingPathComponent("PT1H.json")
            try "{\"time\":\"\(y)-\(m)-\(d)T\(h):10:00Z\",\"n\":\(n)}\n".write(to: file, atomically: true, encoding: .utf8)
            written.append(file.path)
        }
        try "{\"n\":\"other\"}\n".write(to: root.appendingPathComponent("aaa-other.json"), atomically: true, encoding: .utf8)
        try "hidden".write(to: root.appendingPathComponent(".DS_Store"), atomically: true, encoding: .utf8)
        return written
    }

    @Test func exportTreeIsReadOldestHourFirst() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try makeTree(root)
        let set = try InputSet(paths: [root.path])
        let hours = set.files.compactMap(\.exportHour).map(\.iso8601)
        #expect(hours == ["2023-12-31T09:00:00Z", "2024-05-01T03:00:00Z", "2024-05-01T23:00:00Z", "2024-05-02T00:00:00Z"])
        #expect(set.files.count == 5)
        #expect(set.files.last?.path.hasSuffix("aaa-other.json") == true)
        #expect(set.files.allSatisfy { $0.path.hasPrefix(root.path + "/") })

        // Reading follows that order.
        var reader = RecordReader(options: ReaderOptions(normalizer: Normalizer(acceptsUnknownShapes: true)))
        var c = Collector()
        for f in set.files { try reader.read(f, into: &c) }
        #expect(c.events.map { $0.text(at: "n") } == ["2", "3", "1", "0", "other"])
        #expect(reader.stats.files == 5)
    }

    @Test func fromAndToSkipWholeExportHours() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        _ = try makeTree(root)
        let set = try InputSet(paths: [root.path], from: EventTime(parsing: "2024-05-01T12:00:00Z"), to: EventTime(parsing: "2024-05-01T23:30:00Z"))
        // 2023-12-31 and 2024-05-01T03 end (with an hour's slack) before `from`; 05-02T00 starts
        // within the slack of `to`, so it is kept; the non-export file is always kept.
        #expect(set.files.compactMap(\.exportHour).map(\.iso8601) == ["2024-05-01T23:00:00Z", "2024-05-02T00:00:00Z"])
        #expect(set.skippedByTime.count == 2)
        let narrow = try InputSet(paths: [root.path], to: EventTime(parsing: "2024-01-01T00:00:00Z"))
        #expect(narrow.files.compactMap(\.exportHour).map(\.iso8601) == ["2023-12-31T09:00:00Z"])
    }

    @Test func explicitFilesKeepTheirOrderAndDuplicatesAreDropped() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let a = root.appendingPathComponent("b.json").path, b = root.appendingPathComponent("a.json").path
        try "{}".write(toFile: a, atomically: true, encoding: .utf8)
        try "{}".write(toFile: b, atomically: true, encoding: .utf8)
        let set = try InputSet(paths: [a, b, "-", a])
        #expect(set.files.map(\.path) == [a, b, "-"])
    }

    @Test func missingPathsAreAllReported() {
        do {
            _ = try InputSet(paths: ["/nonexistent/one", "/nonexistent/two"])
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.map(\.code) == [InputCode.notFound, InputCode.notFound])
            #expect(error.diagnostics.map(\.location.file) == ["/nonexistent/one", "/nonexistent/two"])
        }
    }
}

/// Event-time filtering needs the normaliser to fill `time`; it runs once the normaliser does.
@Suite struct EventTimeFilterTests {
    static let normaliserSetsTime: Bool = {
        let doc = try? JSONDocumentLoader.resourceLogRecord()
        guard let doc, let e = try? Normalizer().normalize(doc, position: SourcePosition(source: "t"), id: 0) else { return false }
        return e.time != nil
    }()

    @Test(.enabled(if: normaliserSetsTime, "the normaliser does not fill Event.time yet"))
    func fromAndToFilterEvents() throws {
        let lines = ["09:59:59", "10:00:00", "10:30:00", "11:00:00"].map {
            "{\"time\":\"2024-05-01T\($0)Z\",\"resourceId\":\"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG\",\"operationName\":\"MICROSOFT.X/Y/WRITE\",\"category\":\"Administrative\",\"resultType\":\"Success\"}"
        }
        var reader = RecordReader(options: ReaderOptions(from: EventTime(parsing: "2024-05-01T10:00:00Z"), to: EventTime(parsing: "2024-05-01T11:00:00Z")))
        var c = Collector()
        try reader.read(bytes: Array(lines.joined(separator: "\n").utf8), name: "t", into: &c)
        #expect(c.events.compactMap(\.time).map(\.iso8601) == ["2024-05-01T10:00:00Z", "2024-05-01T10:30:00Z"])
        #expect(reader.stats.filtered == 2)
    }
}

enum JSONDocumentLoader {
    static func resourceLogRecord() throws -> FastJSON.JSONDocument {
        try FastJSON.JSONDocument.parse(#"{"time":"2024-05-01T10:00:00Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG","operationName":"MICROSOFT.X/Y/WRITE","category":"Administrative","resultType":"Success"}"#)
    }
}
