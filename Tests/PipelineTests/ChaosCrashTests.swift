import Foundation
import TestSupport
import Testing

/// `vigil replay` killed with SIGKILL at seeded points, restarted on the same state DB and sink until
/// it completes: the sink ends with every alert and every incident (at its final revision) of a
/// clean run. The fast variant runs in `swift test`; scripts/chaos/crash.sh (`make chaos`) runs 20+.
@Suite(.serialized, .enabled(if: Chaos.hasVigil, Chaos.noVigil), .enabled(if: Chaos.python != nil, Chaos.noPython))
struct ChaosCrashTests {
    /// Knuth's MMIX LCG: the same seed gives the same kill points on every machine.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func killedReplaysLoseNothing() throws {
        let dir = try Chaos.temporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("input")
        let expected = try Chaos.workload(into: input, groups: Chaos.long ? 200 : 30, noise: Chaos.long ? 40_000 : 12_000)

        let cleanStart = Date()
        let clean = try Chaos.vigil(Chaos.replayArguments(input: input.path, state: dir.appendingPathComponent("clean.db").path,
                                                          sink: dir.appendingPathComponent("clean.jsonl").path), in: dir)
        let cleanSeconds = Date().timeIntervalSince(cleanStart)
        #expect(clean.status == 0, "\(clean.stderr)")
        let reference = try Chaos.SinkContents(path: dir.appendingPathComponent("clean.jsonl").path)
        #expect(reference.incidents.count == expected.incidents)
        #expect(reference.alerts.count == expected.alerts)
        #expect(reference.redelivered == 0)

        var rng = Seeded(state: 20_261_129)
        var kills = 0
        let runs = Chaos.long ? 20 : 3
        for run in 1...runs {
            let db = dir.appendingPathComponent("run\(run).db").path, sink = dir.appendingPathComponent("run\(run).jsonl").path
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let child = try Chaos.Child(Chaos.vigil, Chaos.replayArguments(input: input.path, state: db, sink: sink), in: dir)
                Thread.sleep(forTimeInterval: Double.random(in: 0.02...max(0.05, cleanSeconds), using: &rng))
                if child.process.isRunning { kills += 1 }
                child.kill9()
                _ = try child.wait()
            }
            let last = try Chaos.vigil(Chaos.replayArguments(input: input.path, state: db, sink: sink), in: dir)
            #expect(last.status == 0, "run \(run): \(last.stderr)")
            let got = try Chaos.SinkContents(path: sink)
            #expect(Set(got.alerts.keys) == Set(reference.alerts.keys), "run \(run): alerts differ")
            #expect(got.incidents == reference.incidents, "run \(run): incidents or their final revisions differ")
            #expect(Chaos.mode(db) == 0o600 && Chaos.mode(sink) == 0o600)
        }
        #expect(kills >= 1, "no start was killed mid-way: the kill points are too late")
    }
}
