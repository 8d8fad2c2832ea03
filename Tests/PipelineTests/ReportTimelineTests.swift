import EventModel
@testable import Pipeline
import Testing

@Suite struct ReportTimelineTests {
    let t0 = EventTime(parsing: "2025-03-04T09:00:00Z")!

    @Test func hourOfFloorsToTheUTCHour() {
        #expect(ReportModel.hour(of: EventTime(parsing: "2025-03-04T09:59:59.9Z")!) == t0)
        #expect(ReportModel.hour(of: EventTime(seconds: -1)) == EventTime(seconds: -3600))
        var model = ReportModel(generatedAt: t0, source: "replay")
        model.countEvent(at: t0.adding(seconds: 10))
        model.countEvent(at: t0.adding(seconds: 3599), count: 4)
        #expect(model.eventsPerHour == [t0: 5])
        #expect(model.totalEvents == 5)
    }

    /// (span in hours, expected bucket size in hours)
    static let spans: [(Int, Int64)] = [(10, 1), (168, 2), (720, 12), (4800, 48)]

    @Test(arguments: spans)
    func bucketSizeKeepsBarsReadable(hours: Int, bucket: Int64) {
        let chart = TimelineChart(alertsPerHour: [t0: [.low: 1], t0.adding(seconds: Int64(hours - 1) * 3600): [.high: 2]],
                                  eventsPerHour: nil, incidents: [])
        let (buckets, size) = chart.buckets()
        #expect(size == bucket)
        #expect(buckets.count <= Int(TimelineChart.maxBuckets))
        #expect(buckets.map(\.alertTotal).reduce(0, +) == 3)
    }

    @Test func eventsGetTheirOwnScaleAndAlertsStackBySeverity() {
        let chart = TimelineChart(alertsPerHour: [t0: [.low: 1, .critical: 2]], eventsPerHour: [t0: 1200, t0.adding(seconds: 7200): 300],
                                  incidents: [])
        let svg = chart.svg()
        #expect(svg.contains("<polygon class=\"events\""))
        #expect(svg.contains(">1,500</text>") && !svg.contains(">2,000</text>"))   // events scale: 0, 500, 1,000, 1,500
        #expect(svg.contains("2 critical alerts"))
        #expect(svg.contains("1 low alert<"))
        #expect(svg.contains("1,200 events, 3 alerts"))
        #expect(TimelineChart.niceCeiling(0) == 1 && TimelineChart.niceCeiling(7) == 10 && TimelineChart.niceCeiling(101) == 200)
        #expect(TimelineChart.axis(7) == (2, 8) && TimelineChart.axis(0) == (1, 1) && TimelineChart.axis(17_000) == (5_000, 20_000))
        #expect(TimelineChart.grouped(246_000) == "246,000" && TimelineChart.grouped(999) == "999"
                && TimelineChart.grouped(-1_234_567) == "-1,234,567")
    }

    @Test func incidentMarkersCarryEscapedTitles() {
        let incident = Incident(id: "i1", title: "Secrets <listed>", description: "", severity: .high,
                                firstActivity: t0, lastActivity: t0)
        let svg = TimelineChart(alertsPerHour: [:], eventsPerHour: nil, incidents: [incident]).svg()
        #expect(svg.contains("Incident: Secrets &lt;listed&gt; (high"))
        #expect(!svg.contains("<listed>"))
    }
}
