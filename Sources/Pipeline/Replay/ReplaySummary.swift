import Detection
import EventDecoding
import EventModel
import Incidents
import Outputs

/// What a replay did: for the end-of-run table and `--summary json`.
public struct ReplaySummary: Sendable {
    public var read = ReadStats()
    public var filesSkippedByTime = 0
    /// Most input files read side by side (the merge's open files).
    public var mostFilesOpen = 0
    /// Files opened after the merge had passed their first events (more overlapping files than
    /// the open-file cap).
    public var filesJoinedBehind = 0
    public var events = 0
    public var eventsByKind: [String: Int] = [:]
    public var alertsRaised = 0
    /// New alerts (not seen in an earlier run), by rule id.
    public var alertsByRule: [String: Int] = [:]
    public var ruleTitles: [String: String] = [:]
    public var alertsBySeverity: [String: Int] = [:]
    public var newAlerts = 0
    public var duplicateAlerts = 0
    public var incidentsCreated = 0
    public var incidentsUpdated = 0
    public var incidentIds: [String] = []
    /// Events that came later than the allowed lateness (stateless rules still saw them).
    public var lateEvents = 0
    /// Activity Log operations assembled from their Start…Succeeded records.
    public var operationsAssembled = 0
    /// Events the event-time path held (for correlations, assembly or baselines), and of those the
    /// ones held without their record (only the baselines wanted them, and no alert could come).
    public var eventsHeld = 0
    public var eventsHeldWithoutRecord = 0
    /// Lifecycle records known on arrival to repeat their operation, which only the baselines
    /// read (as the operation's first record): not held at all.
    public var operationRepeatsNotHeld = 0
    /// Most events held in event time at once, and most operations open at once: what the lateness
    /// window and the operation timeout kept in memory at the input's busiest.
    public var mostEventsHeld = 0
    public var mostOperationsOpen = 0
    /// Event×baseline updates skipped because the stored baseline had learned the event already
    /// (a replay run again, or after a stop): read again, not learned again.
    public var baselineUpdatesAlreadyLearned = 0
    /// What the state bounds cost: events, operations, groups and baselines let go at a cap.
    public var evictions = StatefulStages.Evictions()
    public var delivery: DrainReport?
    public var elapsedSeconds: Double = 0

    public init() {}

    mutating func count(_ event: Event) {
        events += 1
        eventsByKind[event.kind.rawValue, default: 0] += 1
    }

    mutating func count(alerts: ArraySlice<Alert>) {
        alertsRaised += alerts.count
    }

    mutating func record(_ result: CommitResult) {
        newAlerts += result.newAlerts.count
        duplicateAlerts += result.duplicateAlertIds.count
        for a in result.newAlerts {
            alertsByRule[a.ruleId, default: 0] += 1
            ruleTitles[a.ruleId] = a.ruleTitle
            alertsBySeverity[a.severity.rawValue, default: 0] += 1
        }
        for change in result.incidents {
            if change.isNew {
                incidentsCreated += 1
                incidentIds.append(change.record.incident.id)
            } else {
                incidentsUpdated += 1
            }
        }
    }

    public var megabytesPerSecond: Double {
        elapsedSeconds > 0 ? Double(read.bytesDecoded) / 1_000_000 / elapsedSeconds : 0
    }
}
