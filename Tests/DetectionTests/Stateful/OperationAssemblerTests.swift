import TestSupport
import Detection
import EventModel
import FastJSON
import Testing

@Suite struct OperationAssemblerTests {
    static let op = "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/COMPUTES/WRITE"
    static let request = #"{"properties":{"computeType":"ComputeInstance","properties":{"vmSize":"Standard_NC24","sshSettings":{"sshPublicAccess":"Enabled"}}}}"#
    static let response = #"{"properties":{"provisioningState":"Succeeded"}}"#

    static func record(_ result: String, minute: Int, corr: String = "corr-1", request: String? = nil, response: String? = nil,
                       line: Int, caller: String = "alice@contoso.example") -> Event {
        Fixture.activity(time: Fixture.at(day: 0, hour: 9, minute: minute), operation: op, result: result, correlationId: corr,
                         caller: caller, resource: Fixture.workspaceId + "/computes/ci-1", requestBody: request,
                         responseBody: response, line: line)
    }

    static func run(_ events: [Event], _ assembler: inout OperationAssembler) -> [Event] {
        var out: [Event] = []
        for e in events { out += assembler.process(e) }
        return out
    }

    @Test func startThenSuccess() throws {
        var a = OperationAssembler()
        let start = Self.record("Start", minute: 0, request: Self.request, line: 1)
        #expect(a.process(start).isEmpty)
        let out = a.process(Self.record("Success", minute: 2, response: Self.response, line: 2))
        try #require(out.count == 1)
        let e = out[0]
        #expect(e.kind == .operation && e.shape == .assembled)
        #expect(e.result == "Succeeded")
        #expect(e.operation == Self.op.lowercased())
        #expect(e.caller == "alice@contoso.example")
        #expect(e.callerIP == "203.0.113.10")
        #expect(e.correlationId == "corr-1")
        #expect(e.time == Fixture.at(day: 0, hour: 9, minute: 2))
        #expect(e.resource?.name == "ci-1")
        #expect(e.position == start.position)
        #expect(e.text(at: "status") == "Succeeded")
        #expect(e.text(at: "records") == "2")
        #expect(e.text(at: "firstTime") == Fixture.at(day: 0, hour: 9).iso8601)
        #expect(e.text(at: "lastTime") == Fixture.at(day: 0, hour: 9, minute: 2).iso8601)
        // Bodies are decoded objects, not JSON strings.
        #expect(e.record.root["requestBody"]?.type == .object)
        #expect(e.text(at: "requestBody.properties.properties.sshSettings.sshPublicAccess") == "Enabled")
        #expect(e.text(at: "responseBody.properties.provisioningState") == "Succeeded")
        #expect(e.text(at: "identity.claims.appid") == "app-1")
        #expect(e.text(at: "vigil.kind") == "operation")
        #expect(a.stats.emittedComplete == 1 && a.stats.open == 0)
    }

    @Test func theRecordIsBuiltOnlyWhenRead() throws {
        var a = OperationAssembler()
        _ = a.process(Self.record("Start", minute: 0, request: Self.request, line: 1))
        let out = a.process(Self.record("Success", minute: 2, response: Self.response, line: 2))
        let e = try #require(out.first)
        // Typed fields are there at once; the JSON waits for the first reader.
        #expect(e.result == "Succeeded" && e.caller == "alice@contoso.example")
        #expect(e.values(at: "vigil.operation").first?.text == Self.op.lowercased())
        #expect(!e.recordIsBuilt)
        // Paths into the bodies and the identity are read in the records they come from.
        #expect(e.text(at: "responseBody.properties.provisioningState") == "Succeeded")
        #expect(e.text(at: "identity.claims.appid") == "app-1")
        #expect(!e.recordIsBuilt)
        let copy = e   // copies share the one build
        #expect(e.text(at: "status") == "Succeeded")
        #expect(e.recordIsBuilt && copy.recordIsBuilt)
        #expect(copy.record === e.record)
        #expect(copy.record.root.jsonText.contains("\"requestBody\":{\"properties\""))
    }

    /// A lookup into a body or the identity is answered from the records the document is built
    /// from (`Open.values(at:)`), without building it; it must give what the built document gives,
    /// whatever shape the bodies have.
    @Test func pathsReadInTheRecordsGiveWhatTheBuiltRecordGives() throws {
        func raw(_ result: String, minute: Int, corr: String, key: String = "properties", properties: String,
                 identity: Bool = true) -> Event {
            let claims = #""claims":{"appid":"app-\#(minute)","http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"u\#(minute)@contoso.example"}"#
            let id = identity ? #","identity":{\#(claims)}"# : ""
            let time = Fixture.at(day: 0, hour: 9, minute: minute).iso8601
            return Fixture.event(#"{"time":"\#(time)","resourceId":"\#(Fixture.workspaceId)/computes/ci-1","operationName":"\#(Self.op)","#
                + #""category":"Administrative","resultType":"\#(result)","correlationId":"\#(corr)"\#(id),"\#(key)":\#(properties)}"#,
                line: minute + 1)
        }
        let request = Fixture.quote(#"{"properties":{"computeType":"ComputeInstance","tags":["a","b"],"inner":"{\"x\":1}"}}"#)
        let accepted = #"{"responseBody":"{\"state\":\"Accepted\"}"}"#
        let cases: [(name: String, records: [Event])] = [
            ("start, accept, success", [raw("Start", minute: 0, corr: "c1", properties: #"{"requestbody":\#(request)}"#),
                                        raw("Accept", minute: 1, corr: "c1", properties: accepted),
                                        raw("Success", minute: 2, corr: "c1", properties: #"{"responseBody":"{\"state\":\"Done\",\"n\":[1,2]}"}"#)]),
            ("start and accept only", [raw("Start", minute: 0, corr: "c2", properties: #"{"requestbody":\#(request)}"#),
                                       raw("Accept", minute: 1, corr: "c2", properties: accepted)]),
            ("no start record", [raw("Success", minute: 2, corr: "c3", properties: #"{"responseBody":"{\"state\":\"Done\"}"}"#)]),
            ("bodies as objects", [raw("Start", minute: 0, corr: "c4", properties: #"{"requestbody":{"properties":{"computeType":"Object"}}}"#),
                                   raw("Success", minute: 2, corr: "c4", properties: #"{"responseBody":{"state":"Done"}}"#)]),
            ("empty and plain-text bodies", [raw("Start", minute: 0, corr: "c5", properties: #"{"requestbody":""}"#),
                                             raw("Success", minute: 2, corr: "c5", properties: #"{"responseBody":"not json"}"#)]),
            ("properties_d, identity on the final record only", [
                raw("Start", minute: 0, corr: "c6", key: "properties_d", properties: #"{"requestbody":\#(request)}"#, identity: false),
                raw("Success", minute: 2, corr: "c6", properties: "{}")]),
        ]
        let paths = ["requestBody.properties.computeType", "requestbody.properties.tags", "requestbody.properties.inner.x",
                     "requestbody.properties.missing", "requestbody.x", "responseBody.state", "responsebody.n", "responsebody.n.1",
                     "identity.claims.appid", "identity.claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
                     "identity.nothing"]
        var answered = 0
        for c in cases {
            var a = OperationAssembler(configuration: .init(timeoutSeconds: 900))
            var out: [Event] = []
            for r in c.records { out += a.process(r) }
            out += a.finish()
            let e = try #require(out.first, "\(c.name)")
            let routed = paths.map { e.values(at: $0).map(\.text) }
            #expect(!e.recordIsBuilt, "\(c.name): the paths were read without building the record")
            let root = e.record.root
            for (path, got) in zip(paths, routed) {
                let built = JSONPathLookup.values(at: path, in: root).map { FieldValue.json($0).text }
                #expect(got == built, "\(c.name): \(path)")
                if !got.isEmpty { answered += 1 }
            }
        }
        // Most paths find something somewhere: the comparison is not between empty lists.
        #expect(answered >= 20)
    }

    /// A Log Analytics `AzureActivity` row: `Properties_d` (and `Properties`) hold the bodies, and in
    /// a CSV export each cell holds JSON text; an empty `Properties` cell must not hide `Properties_d`.
    @Test func logAnalyticsRowsGiveTheirBodies() throws {
        func row(_ status: String, minute: Int, properties: String, emptyPropertiesCell: Bool) -> Event {
            let time = Fixture.at(day: 0, hour: 9, minute: minute).iso8601
            let cell = emptyPropertiesCell ? #""Properties":"","# : ""
            return Fixture.event(#"{"TimeGenerated":"\#(time)","_ResourceId":"\#(Fixture.workspaceId)/computes/ci-1","#
                + #""OperationNameValue":"\#(Self.op)","CategoryValue":"Administrative","ActivityStatusValue":"\#(status)","#
                + #""CorrelationId":"la-1","Caller":"alice@contoso.example","Type":"AzureActivity",\#(cell)"Properties_d":\#(properties)}"#,
                line: minute + 1)
        }
        let request = Fixture.quote(#"{"properties":{"computeType":"ComputeInstance"}}"#)
        let shapes: [(name: String, start: String, success: String)] = [
            ("objects", #"{"requestbody":\#(request)}"#, #"{"responseBody":"{\"state\":\"Done\"}"}"#),
            ("CSV cells (JSON text)", Fixture.quote(#"{"requestbody":\#(request)}"#), Fixture.quote(#"{"responseBody":"{\"state\":\"Done\"}"}"#)),
        ]
        for shape in shapes {
            for empty in [false, true] {
                var a = OperationAssembler(configuration: .init(timeoutSeconds: 900))
                var out = a.process(row("Start", minute: 0, properties: shape.start, emptyPropertiesCell: empty))
                out += a.process(row("Success", minute: 2, properties: shape.success, emptyPropertiesCell: empty))
                out += a.finish()
                let e = try #require(out.first, "\(shape.name), empty Properties cell: \(empty)")
                #expect(e.values(at: "requestBody.properties.computeType").map(\.text) == ["ComputeInstance"], "\(shape.name), \(empty)")
                #expect(e.values(at: "responseBody.state").map(\.text) == ["Done"], "\(shape.name), \(empty)")
                let root = e.record.root
                #expect(JSONPathLookup.values(at: "requestBody.properties.computeType", in: root).map { FieldValue.json($0).text }
                        == ["ComputeInstance"], "the built record too: \(shape.name), \(empty)")
            }
        }
    }

    /// `JSONPathLookup` stops 64 levels below the root it is given. In the built document a body
    /// sits one level below the root, so a routed lookup that starts at the body must count that
    /// level too, or it finds a value 63 levels into the body that the built document does not.
    @Test func pathsReadInTheRecordsStopAtTheDepthTheBuiltRecordStopsAt() throws {
        for levels in [62, 63] {
            let body = String(repeating: #"{"a":"#, count: levels) + "1" + String(repeating: "}", count: levels)
            var a = OperationAssembler()
            _ = a.process(Self.record("Start", minute: 0, request: body, line: 1))
            let e = try #require(a.process(Self.record("Success", minute: 2, response: body, line: 2)).first)
            let deep = [String](repeating: "a", count: levels).joined(separator: ".")
            let paths = ["requestBody." + deep, "responseBody." + deep]
            let routed = paths.map { e.values(at: $0).map(\.text) }
            #expect(!e.recordIsBuilt)
            for (path, got) in zip(paths, routed) {
                let built = JSONPathLookup.values(at: path, in: e.record.root).map { FieldValue.json($0).text }
                #expect(got == built, "\(levels) levels: \(path.prefix(14))")
            }
        }
    }

    @Test func startAcceptSuccess() throws {
        var a = OperationAssembler()
        let out = Self.run([Self.record("Start", minute: 0, request: Self.request, line: 1),
                            Self.record("Accept", minute: 1, line: 2),
                            Self.record("Success", minute: 5, response: Self.response, line: 3)], &a)
        try #require(out.count == 1)
        #expect(out[0].text(at: "records") == "3")
        #expect(out[0].result == "Succeeded")
        #expect(out[0].text(at: "requestBody.properties.computeType") == "ComputeInstance")
    }

    /// The request body may come on the Accept record (activity-log.md: "on the Start/Accept record").
    @Test func requestBodyOnTheAcceptRecord() throws {
        var a = OperationAssembler()
        let out = Self.run([Self.record("Start", minute: 0, line: 1),
                            Self.record("Accept", minute: 1, request: Self.request, line: 2),
                            Self.record("Success", minute: 5, response: Self.response, line: 3)], &a)
        try #require(out.count == 1)
        #expect(out[0].text(at: "requestBody.properties.computeType") == "ComputeInstance")
        #expect(!out[0].recordIsBuilt)
        #expect(out[0].text(at: "requestBody.properties.computeType") == JSONPathLookup.values(
            at: "requestBody.properties.computeType", in: out[0].record.root).first.map { FieldValue.json($0).text ?? "" })
        // A Start with its own body keeps it.
        var b = OperationAssembler()
        let other = #"{"properties":{"computeType":"AmlCompute"}}"#
        let both = Self.run([Self.record("Start", minute: 0, request: other, line: 1),
                             Self.record("Accept", minute: 1, request: Self.request, line: 2),
                             Self.record("Success", minute: 5, line: 3)], &b)
        #expect(both.first?.text(at: "requestBody.properties.computeType") == "AmlCompute")
    }

    @Test func startThenFailure() throws {
        var a = OperationAssembler()
        let out = Self.run([Self.record("Start", minute: 0, request: Self.request, line: 1),
                            Self.record("Failure", minute: 1, line: 2)], &a)
        try #require(out.count == 1)
        #expect(out[0].result == "Failed")
        #expect(out[0].text(at: "responseBody") == nil)
    }

    @Test func restSpellingsAndOnlySuccess() throws {
        var a = OperationAssembler()
        _ = Self.run([Self.record("Succeeded", minute: 0, corr: "corr-9", response: Self.response, line: 1)], &a)
        let out = a.finish()   // a Succeeded without a Start waits for the clock or the end of input
        try #require(out.count == 1)
        #expect(out[0].text(at: "records") == "1")
        #expect(out[0].result == "Succeeded")
        #expect(out[0].text(at: "requestBody") == nil)
        #expect(out[0].text(at: "responseBody.properties.provisioningState") == "Succeeded")
        #expect(OperationAssembler.Phase(result: "Started") == .started && OperationAssembler.Phase(result: "Accepted") == .accepted)
        #expect(OperationAssembler.Phase(result: "Failed") == .failed && OperationAssembler.Phase(result: "Active") == nil)
    }

    @Test func outOfOrderArrivalThroughTheBufferMatchesInOrder() throws {
        let records = [Self.record("Start", minute: 0, request: Self.request, line: 1),
                       Self.record("Accept", minute: 1, line: 2),
                       Self.record("Success", minute: 3, response: Self.response, line: 3)]
        func assemble(_ input: [Event]) -> [Event] {
            var buffer = EventTimeBuffer(latenessSeconds: 900)
            var a = OperationAssembler()
            var out: [Event] = []
            for e in input { for r in buffer.push(e) { out += a.process(r) } }
            for r in buffer.flush() { out += a.process(r) }
            return out + a.finish()
        }
        let inOrder = assemble(records)
        let reversed = assemble(records.reversed())
        try #require(inOrder.count == 1 && reversed.count == 1)
        #expect(inOrder[0].id == reversed[0].id)
        #expect(reversed[0].result == "Succeeded")
        #expect(reversed[0].text(at: "records") == "3")
        #expect(reversed[0].record.root.jsonText == inOrder[0].record.root.jsonText)
    }

    @Test func stragglerAfterCloseIsAbsorbed() {
        var a = OperationAssembler()
        // A Success without its Start waits until the clock passes its time, then goes out as it stands.
        let out = Self.run([Self.record("Success", minute: 3, response: Self.response, line: 3),
                            Self.record("Start", minute: 4, corr: "corr-2", line: 4),
                            Self.record("Start", minute: 0, request: Self.request, line: 1)], &a)
        #expect(out.count == 1)
        #expect(out.first?.result == "Succeeded")
        #expect(a.stats.absorbedAfterClose == 1)
        #expect(a.finish().count == 1)   // corr-2, still open
    }

    /// Start and Success of one instant: the buffer orders ties by record id, so the Success may
    /// come first. The operation still carries the Start's request body.
    @Test func startAndSuccessAtTheSameInstantInEitherOrder() throws {
        let start = Self.record("Start", minute: 3, request: Self.request, line: 1)
        let success = Self.record("Success", minute: 3, response: Self.response, line: 2)
        for order in [[start, success], [success, start]] {
            var a = OperationAssembler()
            var out = Self.run(order, &a)
            if out.isEmpty { out = a.process(Self.record("Start", minute: 4, corr: "corr-2", line: 3)) }
            try #require(out.count == 1)
            #expect(out[0].result == "Succeeded")
            #expect(out[0].text(at: "records") == "2")
            #expect(out[0].text(at: "requestBody.properties.computeType") == "ComputeInstance")
            #expect(a.stats.absorbedAfterClose == 0)
        }
        // At the end of input a waiting Success is emitted complete.
        var a = OperationAssembler()
        #expect(a.process(success).isEmpty)
        let end = a.finish()
        #expect(end.count == 1 && end[0].result == "Succeeded")
    }

    @Test func neverFinishedIsEmittedAfterTheTimeout() throws {
        var a = OperationAssembler(configuration: .init(timeoutSeconds: 900))
        #expect(a.process(Self.record("Start", minute: 0, request: Self.request, line: 1)).isEmpty)
        #expect(a.process(Self.record("Accept", minute: 2, line: 2)).isEmpty)
        // Another operation's record at 09:14 is not yet past the timeout; 09:16 is.
        #expect(a.process(Self.record("Start", minute: 14, corr: "corr-2", line: 3)).isEmpty)
        let out = a.process(Self.record("Start", minute: 16, corr: "corr-3", line: 4))
        try #require(out.count == 1)
        #expect(out[0].result == "Incomplete")
        #expect(out[0].text(at: "lastStatus") == "Accepted")
        #expect(out[0].text(at: "records") == "2")
        #expect(out[0].text(at: "requestBody.properties.computeType") == "ComputeInstance")
        #expect(a.stats.emittedIncomplete == 1)
        // advance() on an idle clock, then finish() for the rest.
        #expect(a.advance(to: Fixture.at(day: 0, hour: 9, minute: 30)).count == 1)
        let rest = a.finish()
        #expect(rest.map { $0.correlationId } == ["corr-3"])
        #expect(a.stats.open == 0)
    }

    @Test func openOperationsAreCapped() {
        var a = OperationAssembler(configuration: .init(maxOpenOperations: 2))
        var out: [Event] = []
        for i in 0..<5 { out += a.process(Self.record("Start", minute: i, corr: "corr-\(i)", line: i + 1)) }
        #expect(a.stats.evicted == 3)
        #expect(out.map { $0.correlationId } == ["corr-0", "corr-1", "corr-2"])
        #expect(a.stats.open == 2)
        #expect(a.stats.maxOpen == 3)
    }

    @Test func otherRecordsAreIgnored() {
        var a = OperationAssembler()
        #expect(a.process(Fixture.dataPlane(time: Fixture.at(day: 0))).isEmpty)
        #expect(a.process(Fixture.activity(time: Fixture.at(day: 0), operation: "Microsoft.Resourcehealth/healthevent/Activated/action",
                                           result: "Active")).isEmpty)
        #expect(a.stats.recordsSeen == 0)
    }

    @Test func phaseSpellingsAnyCase() {
        typealias P = OperationAssembler.Phase
        let cases: [(String, P?)] = [("Start", .started), ("STARTED", .started), ("accept", .accepted), ("Accepted", .accepted),
                                     ("Success", .succeeded), ("succeeded", .succeeded), ("Failure", .failed), ("FAILED", .failed),
                                     ("Cancel", .canceled), ("Canceled", .canceled), ("cancelled", .canceled),
                                     ("Active", nil), ("Resolved", nil), ("", nil), ("Starts", nil), ("Succeeded!", nil), ("sta", nil)]
        for (text, phase) in cases { #expect(P(result: text) == phase, "\(text)") }
    }

    /// The assembled id is pinned: fastHash64 of "operation|<correlationId lower-cased>|<operation>|<ids sorted>".
    /// The correlationId groups case-insensitively, whichever spelling comes first.
    @Test func assembledIdFormulaAndCaseInsensitiveGrouping() throws {
        var a = OperationAssembler()
        let start = Self.record("Start", minute: 0, corr: "Corr-ABC", request: Self.request, line: 1)
        let success = Self.record("Success", minute: 2, corr: "corr-abc", response: Self.response, line: 2)
        let out = Self.run([start, success], &a)
        try #require(out.count == 1)
        let ids = [start.id, success.id].sorted()
        let text = "operation|corr-abc|\(Self.op.lowercased())|\(ids[0])|\(ids[1])"
        #expect(out[0].id == fastHash64(text))
        #expect(out[0].text(at: "records") == "2")
        #expect(a.stats.open == 0 && a.stats.emittedComplete == 1)
        // A straggler in a third spelling is absorbed by the closed operation.
        #expect(a.process(Self.record("Accept", minute: 3, corr: "CORR-abc", line: 3)).isEmpty)
        #expect(a.stats.absorbedAfterClose == 1)
    }

    @Test func closedMemoryIsCappedAndExpires() {
        var a = OperationAssembler(configuration: .init(timeoutSeconds: 600, maxClosedRemembered: 1))
        _ = Self.run([Self.record("Start", minute: 0, corr: "c-1", line: 1), Self.record("Success", minute: 1, corr: "c-1", line: 2),
                      Self.record("Start", minute: 1, corr: "c-2", line: 3), Self.record("Success", minute: 2, corr: "c-2", line: 4)], &a)
        #expect(a.stats.emittedComplete == 2)
        #expect(a.stats.closedForgotten == 1)
        // c-1 was forgotten (cap 1): its straggler opens a new operation; c-2's is absorbed.
        _ = a.process(Self.record("Accept", minute: 3, corr: "c-1", line: 5))
        _ = a.process(Self.record("Accept", minute: 3, corr: "c-2", line: 6))
        #expect(a.stats.absorbedAfterClose == 1 && a.stats.open == 1)
        // After the timeout c-2 is forgotten too: a record for it opens anew.
        _ = a.process(Self.record("Start", minute: 20, corr: "c-2", line: 7))
        #expect(a.stats.absorbedAfterClose == 1)
        // Forgotten at its timeout, not at the cap: not counted as an eviction.
        #expect(a.stats.closedForgotten == 1)
        #expect(a.finish().count == 1 && a.stats.emittedIncomplete == 2)
        // The c-1 straggler's operation (last record at minute 3) was forgotten at its timeout, not at the cap.
        #expect(a.stats.closedForgotten == 1)
    }

    /// A final record at the very instant its operation times out is not absorbed: the operation,
    /// emitted Incomplete then, is emitted again, completed by it.
    @Test func aRecordAtTheInstantItsOperationTimesOutIsNotAbsorbed() {
        func record(_ result: String, _ time: EventTime, line: Int) -> Event {
            Fixture.activity(time: time, operation: Self.op, result: result, correlationId: "c-1", caller: "alice@contoso.example",
                             resource: Fixture.workspaceId + "/computes/ci-1", requestBody: nil, responseBody: nil, line: line)
        }
        var a = OperationAssembler(configuration: .init(timeoutSeconds: 600))
        _ = a.process(record("Start", Fixture.at(day: 0, hour: 9), line: 1))
        let out = a.process(record("Success", Fixture.at(day: 0, hour: 9, minute: 10), line: 2))
        #expect(out.map(\.result) == ["Incomplete", "Succeeded"] && a.stats.emittedIncomplete == 1 && a.stats.completedLate == 1)
        #expect(a.stats.absorbedAfterClose == 0)
        #expect(a.finish().isEmpty)
    }

    /// A long-running operation (a compute taking 20 minutes) is emitted Incomplete at its timeout,
    /// then again, completed, when its Success comes: with the Start's request body, the Success's
    /// response, every record, and an id of its own. Only the first final record completes it; one
    /// past `completionSeconds`, or past `maxAwaitingCompletion` newer ones, starts afresh.
    @Test func aLongRunningOperationIsCompletedAfterItsTimeout() throws {
        var a = OperationAssembler(configuration: .init(timeoutSeconds: 900))
        var out = Self.run([Self.record("Start", minute: 0, request: Self.request, line: 1),
                            Self.record("Accept", minute: 1, line: 2),
                            Self.record("Start", minute: 16, corr: "other", line: 3)], &a)   // moves event time past the timeout
        #expect(out.map(\.result) == ["Incomplete"])
        out = Self.run([Self.record("Success", minute: 20, response: Self.response, line: 4),
                        Self.record("Success", minute: 21, line: 5)], &a)
        try #require(out.count == 1)
        let done = out[0]
        #expect(done.result == "Succeeded" && done.text(at: "records") == "3")
        #expect(done.text(at: "requestBody.properties.computeType") == "ComputeInstance")
        #expect(done.text(at: "responseBody.properties.provisioningState") == "Succeeded")
        #expect(a.stats.completedLate == 1 && a.stats.absorbedAfterClose == 1)
        var ids = Set<UInt64>()
        a.drainDoneRecords { ids.insert($0) }
        #expect(ids.count == 4, "every record of the operation, the late Successes included, is handed back")

        // Past the completion window, a Success is an operation of its own (no request body).
        var b = OperationAssembler(configuration: .init(timeoutSeconds: 900, completionSeconds: 600))
        _ = Self.run([Self.record("Start", minute: 0, request: Self.request, line: 1),
                      Self.record("Start", minute: 16, corr: "other", line: 2),
                      Self.record("Start", minute: 40, corr: "third", line: 3)], &b)
        let late = Self.run([Self.record("Success", minute: 41, line: 4)], &b) + b.finish()
        #expect(b.stats.completedLate == 0)
        #expect(late.contains { $0.correlationId == "corr-1" && $0.text(at: "requestBody.properties.computeType") == nil })

        // How long it waits is measured from its last record in event time, not from how far the
        // clock (the watermark) had moved when it was emitted: the same records complete it or not
        // whatever the arrival order.
        for moved in [15, 28, 160] {
            for (successAt, completes) in [(170, true), (200, false)] {
                var d = OperationAssembler(configuration: .init(timeoutSeconds: 900))
                _ = d.process(Self.record("Start", minute: 0, request: Self.request, line: 1))
                _ = d.advance(to: Fixture.at(day: 0, hour: 9, minute: moved))
                let got = d.process(Self.record("Success", minute: successAt, line: 2)) + d.finish()
                #expect(got.contains { $0.result == "Succeeded" && $0.text(at: "requestBody.properties.computeType") == "ComputeInstance" }
                        == completes, "clock moved to \(moved)′, Success at \(successAt)′")
            }
        }
        // An Accept while it waits is a straggler of it; the Success still completes it with its body.
        var e = OperationAssembler(configuration: .init(timeoutSeconds: 900))
        let accepted = Self.run([Self.record("Start", minute: 0, request: Self.request, line: 1),
                                 Self.record("Start", minute: 16, corr: "other", line: 2),
                                 Self.record("Accept", minute: 17, line: 3),
                                 Self.record("Success", minute: 20, line: 4),
                                 Self.record("Success", minute: 30, line: 5)], &e)   // a repeat, within the timeout
        #expect(accepted.filter { $0.correlationId == "corr-1" }.map(\.result) == ["Incomplete", "Succeeded"])
        #expect(accepted.last { $0.correlationId == "corr-1" }?.text(at: "requestBody.properties.computeType") == "ComputeInstance")
        #expect(e.stats.absorbedAfterClose == 2)

        // With a timeout of 0 (every operation emitted at its first record, by choice) none waits.
        var z = OperationAssembler(configuration: .init(timeoutSeconds: 0))
        let zero = Self.run([Self.record("Start", minute: 0, request: Self.request, line: 1),
                             Self.record("Success", minute: 20, line: 2)], &z)
        #expect(zero.map(\.result) == ["Incomplete"] && z.stats.completedLate == 0)
        #expect(z.finish().map { $0.text(at: "requestBody.properties.computeType") } == [nil], "the Success alone, no body")

        // At most `maxAwaitingCompletion` wait: the older one stops waiting.
        var c = OperationAssembler(configuration: .init(timeoutSeconds: 900, maxAwaitingCompletion: 1))
        _ = Self.run([Self.record("Start", minute: 0, request: Self.request, line: 1),
                      Self.record("Start", minute: 1, corr: "second", request: Self.request, line: 2),
                      Self.record("Start", minute: 17, corr: "other", line: 3)], &c)
        #expect(c.stats.emittedIncomplete == 2 && c.stats.awaitingForgotten == 1)
        let second = Self.run([Self.record("Success", minute: 18, corr: "second", line: 4)], &c)
        #expect(second.map(\.result) == ["Succeeded"] && c.stats.completedLate == 1)
    }
}
