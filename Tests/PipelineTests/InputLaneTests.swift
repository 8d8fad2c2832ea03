import EventDecoding
import EventModel
import FastJSON
import Foundation
@testable import Pipeline
import TestSupport
import Testing

/// What the merge hands back to a lane (spent blocks, events detection is done with) is freed by
/// the lane's reading thread, and nothing handed back is kept.
@Suite struct InputLaneTests {
    /// `count` Activity Log records, one per line.
    static func file(_ count: Int, in dir: TemporaryFolder) throws -> InputFile {
        let lines = (0..<count).map { i in
            #"{"time": "\#(MergeFixture.time(i))", "resourceId": "\#(MergeFixture.workspace)", "operationName": "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/READ", "category": "Administrative", "resultType": "Success", "correlationId": "c-\#(i)", "properties": {}}"#
        }
        let path = dir.path("activity.json")
        try MergeFixture.write(lines.joined(separator: "\n") + "\n", to: path)
        return InputFile(path: path)
    }

    /// Weak references to the records of a block's events: nil once the events are freed.
    final class Watch {
        private(set) var records: [() -> JSONDocument?] = []
        func add(_ block: [LaneItem]) {
            for case .event(let e) in block {
                weak let doc = e.record
                records.append { doc }
            }
        }
        var alive: Int { records.filter { $0() != nil }.count }
    }

    @Test func spentBlocksAndRetiredEventsGoBackToTheReadingThread() throws {
        let dir = TemporaryFolder(prefix: "vigil-lane")
        let lane = InputLane(file: try Self.file(400, in: dir), index: 0, blockItems: 16, queueBlocks: 2)
        lane.start(options: ReaderOptions())
        let watch = Watch()
        var blocks = 0, retiredEvents = 0
        var used: [LaneItem] = []
        // Every other block is handed back whole; of the others, the events go back as "retired"
        // (as replay hands back what the event-time path released) and the block's array empty.
        while let block = lane.next(returning: used, retired: []) {
            blocks += 1
            watch.add(block)
            if blocks % 2 == 0 {
                used = block
            } else {
                let events = block.compactMap { if case .event(let e) = $0 { e } else { nil } }
                retiredEvents += events.count
                used = []
                _ = lane.next(returning: [], retired: events).map { next in
                    blocks += 1
                    watch.add(next)
                    used = next
                }
            }
        }
        used = []
        #expect(blocks == 25)
        #expect(retiredEvents > 0)
        // The thread frees what it took back at each hand-over; what came back after its last one
        // (at most the queue's blocks and the one in hand) is freed here, by the lane's owner.
        let taken = lane.itemsTakenBack
        #expect(taken >= 400 - (2 + 2) * 16, "taken back: \(taken)")
        #expect(taken <= 400)
        #expect(watch.alive == 0, "\(watch.alive) events handed back are still alive")
    }

    /// A consumer that holds the last `hold` events, as the event-time buffer does, and retires
    /// the older ones.
    struct Holder: MergedConsumer {
        let watch = Watch()
        let hold: Int
        var held: [Event] = []
        var retired: [Event] = []
        var retiredTotal = 0

        mutating func event(_ event: Event, file: Int) throws {
            watch.add([.event(event)])
            held.append(event)
            if held.count > hold { retired.append(held.removeFirst()) }
        }
        mutating func diagnostic(_ diagnostic: Diagnostic) {}
        mutating func fileFinished(_ file: Int, stats: ReadStats) throws {}
        mutating func takeRetired() -> [Event] {
            retiredTotal += retired.count
            defer { retired = [] }
            return retired
        }
    }

    /// Through the merge: each spent block and the events the consumer retired reach the lane.
    @Test func theMergeHandsBlocksAndRetiredEventsBack() throws {
        let dir = TemporaryFolder(prefix: "vigil-lane")
        var options = MergeOptions()
        options.blockItems = 8
        options.queueBlocks = 1
        var input = MergedInput(files: [try Self.file(400, in: dir)], reader: ReaderOptions(), options: options)
        var consumer = Holder(hold: 50)
        try input.run(into: &consumer)
        #expect(consumer.retiredTotal >= 300)
        // Everything but what came back after the lane's last hand-over: the block read then and
        // the queued one, with what was retired meanwhile.
        #expect(input.itemsTakenBack >= 400 + consumer.retiredTotal - 4 * 8, "taken back: \(input.itemsTakenBack)")
        let watch = consumer.watch
        consumer = Holder(hold: 0)
        #expect(watch.alive == 0, "\(watch.alive) events still alive")
    }
}
