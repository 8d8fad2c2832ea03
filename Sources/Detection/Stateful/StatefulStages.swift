// The stateful stages in the order a replay runs them: reorder by event time, assemble
// operations, check baselines. `replay`/`tail` call `push` per decoded event and `finish` at the end.
import EventModel

public struct StatefulStages {
    public var buffer: EventTimeBuffer
    public var assembler: OperationAssembler
    public let anomaly: AnomalyDetector

    public init(buffer: EventTimeBuffer = EventTimeBuffer(), assembler: OperationAssembler = OperationAssembler(),
                anomaly: AnomalyDetector) {
        self.buffer = buffer
        self.assembler = assembler
        self.anomaly = anomaly
    }

    /// Takes one decoded event. `onEvent` receives, in event-time order, every event the stateless
    /// rules should see: released records and assembled operations, and late records
    /// (`late: true`, also reported by `buffer.drainLate()`). Returns anomaly alerts.
    public mutating func push(_ event: Event, onEvent: (Event, _ late: Bool) -> Void = { _, _ in }) -> [Alert] {
        var alerts: [Alert] = []
        for released in buffer.push(event) { alerts += ordered(released, onEvent) }
        for late in buffer.drainLateKeepingDiagnostics() { onEvent(late, true) }
        return alerts
    }

    /// End of input: releases and assembles everything still held, then saves the baselines.
    public mutating func finish(onEvent: (Event, _ late: Bool) -> Void = { _, _ in }) -> [Alert] {
        var alerts: [Alert] = []
        for released in buffer.flush() { alerts += ordered(released, onEvent) }
        for op in assembler.finish() {
            onEvent(op, false)
            alerts += anomaly.process(op)
        }
        alerts += anomaly.finish()
        return alerts
    }

    private mutating func ordered(_ event: Event, _ onEvent: (Event, Bool) -> Void) -> [Alert] {
        var alerts: [Alert] = []
        onEvent(event, false)
        let ops = assembler.process(event)
        alerts += anomaly.process(event)
        for op in ops {
            onEvent(op, false)
            alerts += anomaly.process(op)
        }
        return alerts
    }
}
