import EventModel

/// The report's timeline as inline SVG: alerts per time bucket as bars stacked by severity, events
/// per bucket (when known) as a shaded area on its own right-hand scale, and incidents as markers
/// along the top at their first activity. Hover titles give exact numbers.
struct TimelineChart {
    var alertsPerHour: [EventTime: [Severity: Int]]
    var eventsPerHour: [EventTime: Int]?
    var incidents: [Incident]

    static let width = 1160.0, height = 270.0
    static let left = 52.0, right = 60.0, top = 30.0, bottom = 40.0
    /// Bucket sizes tried in order, in hours: the first that yields at most `maxBuckets` wins.
    static let bucketHours: [Int64] = [1, 2, 3, 6, 12, 24, 48, 168, 720]
    static let maxBuckets: Int64 = 120

    struct Bucket {
        var start: EventTime
        var alerts: [Severity: Int] = [:]
        var events = 0
        var alertTotal: Int { alerts.values.reduce(0, +) }
    }

    /// The buckets covering every hour with data, and their size in hours; empty when there is no data.
    func buckets() -> (buckets: [Bucket], hours: Int64) {
        var hours = Array(alertsPerHour.keys) + (eventsPerHour.map { Array($0.keys) } ?? [])
        hours += incidents.map { ReportModel.hour(of: $0.firstActivity) }
        guard let lo = hours.min(), let hi = hours.max() else { return ([], 1) }
        // Buckets start at multiples of their size (whole days for a day or more: UTC midnight).
        func aligned(_ size: Int64) -> (start: Int64, count: Int64) {
            let sizeSeconds = size * 3600
            let start = lo.seconds - ((lo.seconds % sizeSeconds) + sizeSeconds) % sizeSeconds
            return (start, (hi.seconds - start) / sizeSeconds + 1)
        }
        let size = TimelineChart.bucketHours.first { aligned($0).count <= TimelineChart.maxBuckets } ?? 720
        let sizeSeconds = size * 3600
        let (start, count64) = aligned(size)
        let count = Int(count64)
        var out = (0..<count).map { Bucket(start: EventTime(seconds: start + Int64($0) * sizeSeconds)) }
        func index(_ t: EventTime) -> Int { min(count - 1, max(0, Int((t.seconds - start) / sizeSeconds))) }
        for (hour, bySeverity) in alertsPerHour {
            for (s, n) in bySeverity { out[index(hour)].alerts[s, default: 0] += n }
        }
        for (hour, n) in eventsPerHour ?? [:] { out[index(hour)].events += n }
        return (out, size)
    }

    /// 1, 2, 5 × 10^k at or above `value` (at least 1).
    static func niceCeiling(_ value: Int) -> Int {
        guard value > 1 else { return 1 }
        var magnitude = 1
        while magnitude * 10 <= value { magnitude *= 10 }
        for step in [1, 2, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    /// Tick step and axis top for values up to `maximum`: about four nice steps (1, 2, 5 × 10^k).
    static func axis(_ maximum: Int) -> (step: Int, top: Int) {
        let step = niceCeiling((maximum + 3) / 4)
        return (step, max(step, (maximum + step - 1) / step * step))
    }

    /// `246000` → `246,000`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func label(_ t: EventTime, bucketHours: Int64) -> String {
        let iso = t.iso8601   // 2025-03-04T09:00:00Z
        return bucketHours >= 24 ? String(iso.prefix(10)) : String(iso.dropFirst(5).prefix(11)).replacingT()
    }

    static func number(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    func svg() -> String {
        let (buckets, size) = buckets()
        let w = TimelineChart.width, h = TimelineChart.height
        let l = TimelineChart.left, r = TimelineChart.right, t = TimelineChart.top, b = TimelineChart.bottom
        var s = "<svg class=\"timeline\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"Timeline of alerts\">"
        guard !buckets.isEmpty else {
            return s + "<text x=\"\(Int(w / 2))\" y=\"\(Int(h / 2))\" text-anchor=\"middle\" class=\"muted\">"
                + "No alerts or incidents in this period.</text></svg>"
        }
        let plotW = w - l - r, plotH = h - t - b
        let slot = plotW / Double(buckets.count)
        let barW = max(1, slot * 0.72)
        let (alertStep, alertMax) = TimelineChart.axis(buckets.map(\.alertTotal).max() ?? 0)
        let (eventStep, eventMax) = TimelineChart.axis(buckets.map(\.events).max() ?? 0)
        func x(_ i: Int) -> Double { l + Double(i) * slot }
        func yAlerts(_ n: Int) -> Double { t + plotH - plotH * Double(n) / Double(alertMax) }
        func yEvents(_ n: Int) -> Double { t + plotH - plotH * Double(n) / Double(eventMax) }
        let n = TimelineChart.number

        // Grid and left axis (alerts).
        for v in stride(from: 0, through: alertMax, by: alertStep) {
            let y = yAlerts(v)
            s += "<line class=\"grid\" x1=\"\(n(l))\" x2=\"\(n(w - r))\" y1=\"\(n(y))\" y2=\"\(n(y))\"/>"
            s += "<text class=\"axis\" x=\"\(n(l - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(v)</text>"
        }
        s += "<text class=\"axis-title\" x=\"12\" y=\"\(n(t + plotH / 2))\" transform=\"rotate(-90 12 \(n(t + plotH / 2)))\" "
            + "text-anchor=\"middle\">alerts</text>"

        // Events: shaded area on the right-hand scale.
        let hasEvents = eventsPerHour != nil && buckets.contains { $0.events > 0 }
        if hasEvents {
            var points = "\(n(x(0))),\(n(yEvents(0)))"
            for (i, bucket) in buckets.enumerated() {
                points += " \(n(x(i))),\(n(yEvents(bucket.events))) \(n(x(i) + slot)),\(n(yEvents(bucket.events)))"
            }
            points += " \(n(x(buckets.count))),\(n(yEvents(0)))"
            s += "<polygon class=\"events\" points=\"\(points)\"/>"
            for v in stride(from: 0, through: eventMax, by: eventStep) {
                s += "<text class=\"axis events-axis\" x=\"\(n(w - r + 6))\" y=\"\(n(yEvents(v) + 4))\">"
                    + "\(TimelineChart.grouped(v))</text>"
            }
            s += "<text class=\"axis-title\" x=\"\(n(w - 10))\" y=\"\(n(t + plotH / 2))\" "
                + "transform=\"rotate(90 \(n(w - 10)) \(n(t + plotH / 2)))\" text-anchor=\"middle\">events</text>"
        }

        // Alert bars, stacked by severity (lowest at the bottom).
        for (i, bucket) in buckets.enumerated() {
            let range = "\(bucket.start.iso8601) +\(size)h"
            if hasEvents, bucket.events > 0 {
                s += "<rect class=\"hover\" x=\"\(n(x(i)))\" y=\"\(n(t))\" width=\"\(n(slot))\" height=\"\(n(plotH))\">"
                    + "<title>\(HTMLText.escape(range)): \(TimelineChart.grouped(bucket.events)) events, \(bucket.alertTotal) alerts</title></rect>"
            }
            var running = 0
            for severity in Severity.allCases {
                guard let count = bucket.alerts[severity], count > 0 else { continue }
                let y0 = yAlerts(running), y1 = yAlerts(running + count)
                running += count
                s += "<rect class=\"sev-fill-\(severity.rawValue)\" x=\"\(n(x(i) + (slot - barW) / 2))\" y=\"\(n(y1))\" "
                    + "width=\"\(n(barW))\" height=\"\(n(max(0.5, y0 - y1)))\"><title>\(HTMLText.escape(range)): "
                    + "\(count) \(severity.rawValue) alert\(count == 1 ? "" : "s")</title></rect>"
            }
        }

        // Incident markers at their first activity.
        var perBucket: [Int: Int] = [:]
        let start = buckets[0].start.seconds, sizeSeconds = size * 3600
        for incident in incidents.sorted(by: { $0.firstActivity < $1.firstActivity }) {
            let i = min(buckets.count - 1, max(0, Int((incident.firstActivity.seconds - start) / sizeSeconds)))
            let stack = perBucket[i, default: 0]
            perBucket[i] = stack + 1
            guard stack < 3 else { continue }
            let cx = x(i) + slot / 2, cy = t - 8 - Double(stack) * 7
            s += "<path class=\"sev-fill-\(incident.severity.rawValue) incident-mark\" "
                + "d=\"M\(n(cx)) \(n(cy - 5)) L\(n(cx + 5)) \(n(cy)) L\(n(cx)) \(n(cy + 5)) L\(n(cx - 5)) \(n(cy)) Z\">"
                + "<title>Incident: \(HTMLText.escape(incident.title)) (\(incident.severity.rawValue), from "
                + "\(incident.firstActivity.iso8601))</title></path>"
        }

        // X axis.
        s += "<line class=\"axis-line\" x1=\"\(n(l))\" x2=\"\(n(w - r))\" y1=\"\(n(t + plotH))\" y2=\"\(n(t + plotH))\"/>"
        let every = max(1, Int((Double(buckets.count) / 8).rounded(.up)))
        for i in stride(from: 0, to: buckets.count, by: every) {
            s += "<line class=\"axis-line\" x1=\"\(n(x(i)))\" x2=\"\(n(x(i)))\" y1=\"\(n(t + plotH))\" y2=\"\(n(t + plotH + 5))\"/>"
            s += "<text class=\"axis\" x=\"\(n(x(i)))\" y=\"\(n(t + plotH + 18))\" text-anchor=\"start\">"
                + "\(HTMLText.escape(TimelineChart.label(buckets[i].start, bucketHours: size)))</text>"
        }
        s += "<text class=\"axis\" x=\"\(n(w - r))\" y=\"\(n(t + plotH + 34))\" text-anchor=\"end\">"
            + "UTC, one bar per \(size == 1 ? "hour" : size % 24 == 0 ? "\(size / 24) day\(size == 24 ? "" : "s")" : "\(size) hours")</text>"
        return s + "</svg>"
    }
}

private extension String {
    /// `03-04T09:00` → `03-04 09:00`.
    func replacingT() -> String { String(map { $0 == "T" ? " " : $0 }) }
}
