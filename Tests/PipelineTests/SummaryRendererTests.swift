import Detection
import Foundation
import Pipeline
import Testing

/// The end-of-replay summary says what the event-time path held at its busiest, in words and in JSON.
@Suite struct SummaryRendererTests {
    private func summary(held: Int, most: Int, open: Int) -> ReplaySummary {
        var s = ReplaySummary()
        s.events = 1_000
        s.eventsHeld = held
        s.mostEventsHeld = most
        s.mostOperationsOpen = open
        return s
    }

    @Test func textSaysWhatWasHeldAtOnce() {
        let text = SummaryRenderer.text(summary(held: 527, most: 69, open: 1), incidents: [])
        #expect(text.contains("Held in event time: 527 events, at most 69 at once; at most 1 operation open at once\n"))
        let many = SummaryRenderer.text(summary(held: 527, most: 69, open: 12), incidents: [])
        #expect(many.contains("at most 12 operations open at once"))
        let noOperations = SummaryRenderer.text(summary(held: 40, most: 5, open: 0), incidents: [])
        #expect(noOperations.contains("Held in event time: 40 events, at most 5 at once\n"))
    }

    @Test func textLeavesTheLineOutWhenNothingWasHeld() {
        #expect(!SummaryRenderer.text(summary(held: 0, most: 0, open: 0), incidents: []).contains("Held in event time"))
    }

    @Test func boundsReachedAreSaidInWordsAndCountedByName() throws {
        var s = summary(held: 527, most: 69, open: 12)
        #expect(!SummaryRenderer.text(s, incidents: []).contains("State bounds reached"))
        s.evictions[.eventsReleasedEarly] = 3
        s.evictions[.baselinesWrittenBack] = 40
        let text = SummaryRenderer.text(s, incidents: [])
        #expect(text.contains("State bounds reached: 3 events released early (event-time buffer full), "
                              + "40 baselines written back to the state store (memory cap; nothing lost)\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(SummaryRenderer.json(s).utf8)) as? [String: Any])
        let bounds = try #require(object["state_evictions"] as? [String: Int])
        #expect(bounds == ["events_released_early": 3, "operations_forced_out": 0, "closed_operations_forgotten": 0, "correlation_groups_dropped": 0,
                           "correlation_events_dropped": 0, "baselines_written_back": 40, "operations_forgotten": 0,
                           "operations_stopped_waiting": 0])
    }

    @Test func jsonCarriesThePeaks() throws {
        let json = SummaryRenderer.json(summary(held: 527, most: 69, open: 12))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["events_held"] as? Int == 527)
        #expect(object["most_events_held"] as? Int == 69)
        #expect(object["most_operations_open"] as? Int == 12)
    }
}
