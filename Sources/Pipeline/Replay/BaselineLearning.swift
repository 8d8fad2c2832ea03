// `vigil baseline learn`: history read the way replay reads it — every input format (JSON lines,
// envelopes, arrays, CSV, gzip, export trees) and files merged by event time — through the anomaly
// rules in learn-only mode. Only what the baselines want waits in the event-time buffer, and without
// its record (`StatefulStages`), so memory follows the lateness window, not the input's size.
import Detection
import EventDecoding
import EventModel

public enum BaselineLearning {
    public struct Summary: Sendable {
        public var read = ReadStats()
        /// Events behind the watermark: not learned.
        public var late = 0
        /// Operations taken once each (`OperationOnce`).
        public var operations = 0
    }

    /// Learns from every event of `paths` into `detector` (which should be in `.learnOnly` mode,
    /// its window `markWindow(...)`), saves the baselines, and reports each input problem to
    /// `onDiagnostic`. `operationTimeoutSeconds`: how long an operation's later records may follow
    /// its first (as `vigil run` and `replay` are configured; default: the lateness).
    public static func run(paths: [String], detector: AnomalyDetector, latenessSeconds: Int64, operationTimeoutSeconds: Int64? = nil,
                           maxLineBytes: Int = ReaderOptions.defaultMaxLineBytes,
                           onDiagnostic: @escaping (Diagnostic) -> Void) throws(InputSetError) -> Summary {
        let timeout = DetectionStage.operationTimeout(latenessSeconds: latenessSeconds, configured: operationTimeoutSeconds)
        let inputs = try InputSet(paths: paths)
        var merge = MergeOptions()
        merge.latenessSeconds = latenessSeconds
        var input = MergedInput(files: inputs.files, reader: ReaderOptions(maxLineBytes: maxLineBytes), options: merge)
        var consumer = Learner(stages: StatefulStages(buffer: EventTimeBuffer(latenessSeconds: latenessSeconds),
                                                      assembler: OperationAssembler(configuration: .init(timeoutSeconds: timeout)),
                                                      anomaly: detector),
                               onDiagnostic: onDiagnostic)
        consumer.stages.retiresEvents = true
        do { try input.run(into: &consumer) } catch {
            // The learner itself never throws; a reader failure is reported like any input problem.
            onDiagnostic(Diagnostic(.error, code: "input.read-failed", "\(error)", at: SourceLocation(file: paths.joined(separator: ", "))))
        }
        _ = consumer.stages.finish()
        _ = detector.finish()   // saves: learn-only raises no alert to commit with them
        for d in consumer.stages.buffer.lateDiagnostics() { onDiagnostic(d) }
        for d in detector.drainDiagnostics() { onDiagnostic(d) }
        var summary = Summary()
        summary.read = input.stats
        summary.late = consumer.stages.buffer.stats.late
        summary.operations = consumer.stages.operationOnce.stats.operations
        return summary
    }

    /// The anomaly detector's window (`AnomalyDetector.Configuration.latenessSeconds`), as
    /// `RuleSetup.makeDetection` sets it: what a restart may read again and an operation's later
    /// records may follow by, so marks written here read the same in `vigil run` and `replay`.
    public static func markWindow(latenessSeconds: Int64, operationTimeoutSeconds: Int64?) -> Int64 {
        max(latenessSeconds, DetectionStage.operationTimeout(latenessSeconds: latenessSeconds, configured: operationTimeoutSeconds))
    }

    private struct Learner: MergedConsumer {
        var stages: StatefulStages
        let onDiagnostic: (Diagnostic) -> Void

        mutating func event(_ event: Event, file: Int) throws {
            _ = stages.take(event)
        }

        mutating func diagnostic(_ diagnostic: Diagnostic) { onDiagnostic(diagnostic) }
        mutating func fileFinished(_ file: Int, stats: ReadStats) throws {}
        mutating func takeRetired() -> [Event] { stages.takeRetired() }
    }
}
