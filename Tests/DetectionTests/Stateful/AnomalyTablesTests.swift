@testable import Detection
import EventModel
import Testing

/// The anomaly detector's own tables (`HashedTable`, `IdMap`) against `Dictionary`, and the
/// resident profile form (`LiveProfile`) against the stored one it replaces on the hot path.
@Suite struct AnomalyTablesTests {
    /// A small deterministic generator (the tests must not depend on the run).
    struct Steps {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33) % bound
        }
    }

    @Test(arguments: [false, true])
    func hashedTableAgreesWithDictionary(collide: Bool) {
        // `collide`: every key gets one of four hashes, so probing and full-key comparison carry it.
        func hash(_ s: String) -> UInt64 { collide ? UInt64(s.utf8.count % 4) : textHash(s) }
        var table = HashedTable<String, Int>()
        var reference: [String: Int] = [:]
        var steps = Steps(state: collide ? 7 : 11)
        for round in 0..<3_000 {
            let key = "/subscriptions/\(steps.next(400))/workspaces/W\(steps.next(3))"
            switch steps.next(10) {
            case 0..<5:
                table.set(key, hash: hash(key), round)
                reference[key] = round
            case 5..<7:
                // Single-key removal shifts the rest of the probe run back: every other key must stay findable.
                #expect(table.remove(key, hash: hash(key)) == reference.removeValue(forKey: key))
            case 7..<9:
                #expect(table[key, hash: hash(key)] == reference[key])
            default:
                let cut = steps.next(400)
                table.removeAll { k, _ in k.hasPrefix("/subscriptions/\(cut)/") }
                reference = reference.filter { !$0.key.hasPrefix("/subscriptions/\(cut)/") }
            }
            #expect(table.count == reference.count)
            if round % 50 == 0 {
                #expect(reference.allSatisfy { table[$0.key, hash: hash($0.key)] == $0.value })
            }
        }
        #expect(Dictionary(uniqueKeysWithValues: table.entries.map { ($0.key, $0.value) }) == reference)
        #expect(table.allValues.sorted() == reference.values.sorted())
        table.removeAll()
        #expect(table.count == 0 && table[reference.keys.first!, hash: hash(reference.keys.first!)] == nil)
    }

    @Test func textHashReadsEveryByte() {
        // Lengths around the 8- and 16-byte steps; a change in any one byte changes the hash.
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 150] {
            let base = String(repeating: "a", count: n)
            #expect(textHash(base) == textHash(String(base.utf8.map { Character(UnicodeScalar($0)) })))
            for i in 0..<n {
                var bytes = Array(base.utf8)
                bytes[i] = UInt8(ascii: "b")
                #expect(textHash(String(decoding: bytes, as: UTF8.self)) != textHash(base), "length \(n), byte \(i)")
            }
            if n > 0 { #expect(textHash(base) != textHash(base + "\0")) }
        }
    }

    @Test func idMapAgreesWithDictionary() {
        var map = IdMap()
        var reference: [Int32: Int64] = [:]
        var steps = Steps(state: 3)
        for _ in 0..<5_000 {
            let key = Int32(steps.next(300))
            switch steps.next(3) {
            case 0:
                map.addOne(key, ifCountBelow: 200)
                if let v = reference[key] { reference[key] = v + 1 } else if reference.count < 200 { reference[key] = 1 }
            case 1:
                let value = Int64(steps.next(1_000))
                let adding = steps.next(4) != 0
                map.keepEarliest(key, value, addingIf: adding)
                if let v = reference[key] { reference[key] = min(v, value) } else if adding { reference[key] = value }
            default:
                #expect(map[key] == reference[key])
                #expect(map.contains(key) == (reference[key] != nil))
            }
            #expect(map.count == reference.count)
        }
        #expect(Dictionary(uniqueKeysWithValues: map.pairs.map { ($0.key, $0.value) }) == reference)
    }

    /// Learning into the resident form, then spelling it out, gives the stored profile that
    /// `AccessProfile.learn` builds, and the same bytes; loading a stored profile back is lossless.
    @Test func liveProfileLearnsLikeTheStoredForm() throws {
        var ranges = Interner(), operations = Interner()
        var stored = AccessProfile(space: "workspace", subject: "alice@contoso.com", scope: "/subscriptions/1/ws", scopeName: "ws",
                                   time: 1_700_000_000)
        var live = LiveProfile(fresh: stored)
        var steps = Steps(state: 5)
        for k in 0..<2_000 {
            let time = EventTime(seconds: 1_700_000_000 + Int64(steps.next(40 * 86_400)))
            let range = k % 11 == 0 ? nil : "203.0.\(steps.next(90)).0/24"
            let operation = k % 13 == 0 ? nil : "microsoft.machinelearningservices/op\(steps.next(300))"
            let keep = operation?.hasSuffix("7") ?? false
            stored.learn(time: time, range: range, operation: operation, keepOperation: keep)
            live.learn(time: time, range: range.map { ranges.id(of: $0) }, operation: operation.map { operations.id(of: $0) },
                       keepOperation: keep)
        }
        var sources = Interner()
        let spelled = live.stored(rangeText: ranges.key, operationText: operations.key, sourceName: sources.key)
        #expect(spelled == stored)
        #expect(stored.ipRanges.count == AccessProfile.maxRanges)
        #expect(live.encoded(rangeText: ranges.key, operationText: operations.key, sourceName: sources.key) == stored.encoded())

        var ranges2 = Interner(), operations2 = Interner()
        let loaded = LiveProfile(try #require(AccessProfile.decode(stored.encoded())), sourceId: { sources.id(of: $0) }, rangeId: { ranges2.id(of: $0) },
                                 operationId: { operations2.id(of: $0) })
        #expect(loaded.profile.ipRanges.isEmpty && loaded.profile.operations.isEmpty)
        #expect(loaded.stored(rangeText: ranges2.key, operationText: operations2.key, sourceName: sources.key) == stored)
    }
}
