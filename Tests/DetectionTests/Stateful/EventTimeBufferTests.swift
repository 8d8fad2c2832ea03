import TestSupport
import Detection
import EventModel
import Testing

@Suite struct EventTimeBufferTests {
    /// 300 records over ~5 hours, some sharing a timestamp (ties broken by record id).
    static func records() -> [Event] {
        (0..<300).map { i in
            Fixture.dataPlane(time: Fixture.at(day: 0, hour: 8, minute: i, second: (i % 3 == 0) ? 0 : 30) .adding(seconds: -Int64(i % 7 == 0 ? 60 : 0)),
                              caller: "user\(i % 5)@contoso.example", serial: i)
        }
    }

    static func replay(_ events: [Event], lateness: Int64 = 900) -> (ids: [UInt64], late: Int) {
        var buffer = EventTimeBuffer(latenessSeconds: lateness)
        var out: [UInt64] = []
        for e in events { out += buffer.push(e).map(\.id) }
        out += buffer.flush().map(\.id)
        return (out, buffer.stats.late)
    }

    @Test func releasesBehindTheWatermarkInEventTimeOrder() {
        var buffer = EventTimeBuffer(latenessSeconds: 900)
        let a = Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9), serial: 1)
        let b = Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: 10), serial: 2)
        let c = Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: 5), serial: 3)
        #expect(buffer.push(a).isEmpty)
        #expect(buffer.push(b).isEmpty)
        #expect(buffer.push(c).isEmpty)
        #expect(buffer.watermark == Fixture.at(day: 0, hour: 8, minute: 55))
        // 09:21 moves the watermark to 09:06: a (09:00) and c (09:05) go, b (09:10) stays.
        let d = Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: 21), serial: 4)
        #expect(buffer.push(d).map(\.id) == [a.id, c.id])
        #expect(buffer.flush().map(\.id) == [b.id, d.id])
        #expect(buffer.stats.released == 4 && buffer.stats.late == 0)
    }

    @Test(arguments: [1 as UInt64, 7, 42, 2024])
    func shuffledWithinTheLatenessGivesTheSameOrder(seed: UInt64) {
        let events = Self.records()
        let inFileOrder = Self.replay(events)
        // Arrival order: event time plus a seeded delay below the lateness.
        var rng = SplitMix64(seed: seed)
        let shuffled = events.map { ($0, $0.time!.nanoseconds + Int64(rng.next() % 899) * 1_000_000_000) }
            .sorted { $0.1 < $1.1 }.map(\.0)
        #expect(shuffled.map(\.id) != events.map(\.id))
        let replayed = Self.replay(shuffled)
        #expect(replayed.late == 0)
        #expect(inFileOrder.late == 0)
        #expect(replayed.ids == inFileOrder.ids)
        let sorted = events.sorted { ($0.time!, $0.id) < ($1.time!, $1.id) }.map(\.id)
        #expect(replayed.ids == sorted)
    }

    @Test func lateEventIsCountedReportedAndHandedBack() {
        var buffer = EventTimeBuffer(latenessSeconds: 600)
        _ = buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 10), serial: 1))
        _ = buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 11), serial: 2))
        let late = Fixture.dataPlane(time: Fixture.at(day: 0, hour: 10, minute: 20), serial: 41)
        #expect(buffer.push(late).isEmpty)
        #expect(buffer.stats.late == 1)
        let reported = buffer.drainLate()
        #expect(reported.count == 1)
        #expect(reported[0].event.id == late.id)
        #expect(reported[0].diagnostic.code == "input.late-event")
        #expect(reported[0].diagnostic.location.file == "test.jsonl")
        #expect(reported[0].diagnostic.location.line == 42)
        #expect(reported[0].diagnostic.message.contains("30 min behind"))
        #expect(buffer.drainLate().isEmpty)
        #expect(!buffer.flush().contains { $0.id == late.id })
    }

    @Test func capacityReleasesTheOldestEarlyAndCountsIt() {
        var buffer = EventTimeBuffer(latenessSeconds: 86_400, capacity: 3)
        var released: [Event] = []
        for i in 0..<5 { released += buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: i), serial: i)) }
        #expect(buffer.stats.evicted == 2)
        #expect(buffer.stats.maxBuffered == 4)
        #expect(released.map(\.time) == [Fixture.at(day: 0, hour: 9, minute: 0), Fixture.at(day: 0, hour: 9, minute: 1)])
        // Behind an evicted event is late.
        _ = buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 8), serial: 9))
        #expect(buffer.stats.late == 1)
        #expect(buffer.flush().count == 3)
    }

    @Test func eventsWithoutTimePassStraightThrough() {
        var buffer = EventTimeBuffer()
        var untimed = Fixture.dataPlane(time: Fixture.at(day: 0), serial: 1)
        untimed.time = nil
        _ = buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0), serial: 2))
        #expect(buffer.push(untimed).map(\.id) == [untimed.id])
        #expect(buffer.stats.untimed == 1)
    }

    @Test func advanceReleasesOnAnIdleClock() {
        var buffer = EventTimeBuffer(latenessSeconds: 900)
        let a = Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9), serial: 1)
        _ = buffer.push(a)
        #expect(buffer.advance(to: Fixture.at(day: 0, hour: 9, minute: 10)).isEmpty)
        #expect(buffer.advance(to: Fixture.at(day: 0, hour: 9, minute: 16)).map(\.id) == [a.id])
    }

    /// The watermark never moves back: an event newer than every one pushed, but older than the
    /// clock `advance` moved to (an event this path did not want), leaves it where it is.
    @Test func aPushAfterAnAdvanceDoesNotMoveTheWatermarkBack() {
        var buffer = EventTimeBuffer(latenessSeconds: 900)
        _ = buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9), serial: 1))
        _ = buffer.advance(to: Fixture.at(day: 0, hour: 10))
        #expect(buffer.watermark == Fixture.at(day: 0, hour: 9, minute: 45))
        _ = buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: 50), serial: 2))
        #expect(buffer.watermark == Fixture.at(day: 0, hour: 9, minute: 45))
        #expect(!buffer.isLate(Fixture.at(day: 0, hour: 9, minute: 45)) && buffer.isLate(Fixture.at(day: 0, hour: 9, minute: 44)))
    }

    /// Once the full buffer lets an event go early, an event at that same time is late: with a
    /// smaller id it belongs before the one already released.
    @Test func anEventAtAnEvictedEventsTimeIsLate() {
        var buffer = EventTimeBuffer(latenessSeconds: 900, capacity: 1)
        let t = Fixture.at(day: 0, hour: 9)
        let x = Fixture.dataPlane(time: t, serial: 1), y = Fixture.dataPlane(time: t, serial: 2)
        let (first, second) = x.id > y.id ? (x, y) : (y, x)
        #expect(buffer.push(first).isEmpty)
        #expect(buffer.push(Fixture.dataPlane(time: Fixture.at(day: 0, hour: 9, minute: 1), serial: 3)).map(\.id) == [first.id])
        #expect(buffer.stats.evicted == 1)
        #expect(buffer.push(second).isEmpty)
        #expect(buffer.stats.late == 1, "released after \(first.id), which it precedes")
        #expect(buffer.isLate(t))
    }
}
