import EventModel
import Foundation
@testable import Pipeline
import StateStore
import Testing

@Suite struct ReportHTMLTests {
    private func report(since: EventTime? = nil, coverage: CoverageMatrix? = nil) throws -> (ReportModel, String) {
        let folder = ReportTemporaryFolder()
        let db = try ReportFixtures.seededDatabase(in: folder)
        let model = try ReportModel(database: db, since: since, generatedAt: ReportFixtures.t0.adding(seconds: 86_400),
                                    coverage: coverage)
        return (model, HTMLReport.render(model))
    }

    @Test func modelCountsEveryAlertAndGroupsIncidents() throws {
        let (model, _) = try report()
        #expect(model.totalAlerts == 6)
        #expect(model.alertsBySeverity == [.high: 2, .medium: 2, .critical: 1, .low: 1])
        #expect(model.ruleCounts.first?.ruleId == "rule-secrets" || model.ruleCounts.first?.ruleId == "rule-nsg")
        #expect(model.ruleCounts.map(\.total).reduce(0, +) == 6)
        #expect(model.ruleCounts.first { $0.ruleId == "rule-nsg" }?.bySeverity == [.medium: 2])
        // Alice's three alerts share one incident; alerts sit in the hours they happened.
        let alice = try #require(model.incidents.first { $0.incident.entities.contains(ReportFixtures.alice) })
        #expect(alice.alerts.map(\.id) == ["a1", "a2", "a3"])
        #expect(model.alertsPerHour[ReportFixtures.t0] == [.high: 2])
        #expect(model.alertsPerHour[ReportFixtures.t0.adding(seconds: 3_600)] == [.medium: 1])
        #expect(model.eventsPerHour == nil)
    }

    @Test func sinceLeavesOutOlderActivity() throws {
        let (model, html) = try report(since: ReportFixtures.t0.adding(seconds: -3_600))
        #expect(model.totalAlerts == 5)
        #expect(!model.incidents.contains { $0.incident.entities.contains { $0.value == "carol@contoso.com" } })
        #expect(!html.contains("carol@contoso.com"))
        #expect(html.contains("activity since 2025-03-04T08:00:00Z"))
    }

    @Test func reportShowsIncidentsRulesAndEvidence() throws {
        let (model, html) = try report()
        for entry in model.incidents { #expect(html.contains(HTMLText.escape(entry.incident.title))) }
        #expect(html.contains("AML Workspace Secrets Listed by a User"))
        #expect(html.contains("NSG Opened to the Internet"))
        #expect(html.contains("Lonely Low Alert"))
        #expect(html.contains("alice@contoso.com"))
        #expect(html.contains("&quot;operationName&quot;: &quot;LISTKEYS&quot;"))   // evidence, re-indented
        #expect(html.contains("<svg class=\"timeline\""))
        #expect(html.contains("6</div><div class=\"label\">alerts"))
        // The most severe incident comes first, open.
        let critical = try #require(html.range(of: "<details class=\"incident border-critical\" open>"))
        #expect(html.range(of: "<details class=\"incident")?.lowerBound == critical.lowerBound)
    }

    @Test func reportIsSelfContained() throws {
        let (_, html) = try report(coverage: CoverageMatrix(rules: [(id: "r", title: "R", area: "identity", controls: ["IM-8"])]))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        #expect(!html.contains("<script"))
        for resource in ["url(", "@import", "://", "<link", "<iframe", "<object", "<embed", "<img", "<base"] {
            #expect(!html.contains(resource), "report contains \(resource)")
        }
        // No tag carries a src or href attribute (data text may contain "src=" escaped, which is harmless).
        var tags: [Substring] = []
        var rest = html[...]
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            tags.append(rest[open...close])
            rest = rest[rest.index(after: close)...]
        }
        #expect(tags.count > 100)
        #expect(!tags.contains { $0.contains(" src=") || $0.contains(" href=") || $0.contains(/\son[a-z]+=/) })
    }

    @Test func attackerTextIsEscapedEverywhere() throws {
        let (_, html) = try report()
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("a &amp; b &#39;q&#39;"))
        #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;@contoso.com"))
        #expect(html.contains("Defender Plan Downgraded &lt;b&gt;bold&lt;/b&gt;"))
        #expect(!html.contains("<b>bold</b>"))
        #expect(!html.contains("alert(1)</script>"))
    }

    @Test func escapingCoversMarkupQuotesAndControls() {
        #expect(HTMLText.escape("<a href='x'>\"&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;")
        #expect(HTMLText.escape("a\u{0}b\u{7}c\td\n") == "a\u{FFFD}b\u{FFFD}c\td\n")
        #expect(HTMLText.escape("ünïcödé ✓") == "ünïcödé ✓")
    }

    @Test func evidenceIsIndentedAndCut() {
        #expect(HTMLText.indentJSON("{\"a\":[1,{\"b\":\"x,{y}\"}],\"c\":{}}")
                == "{\n  \"a\": [\n    1,\n    {\n      \"b\": \"x,{y}\"\n    }\n  ],\n  \"c\": {}\n}")
        #expect(HTMLText.indentJSON("not json, {really}") == "not json, {really}")
        #expect(HTMLText.indentJSON("{\"q\":\"a\\\"}b\"}") == "{\n  \"q\": \"a\\\"}b\"\n}")
        #expect(HTMLText.truncated(String(repeating: "x", count: 30), limit: 10) == "xxxxxxxxxx\n… (20 more characters)")
    }

    @Test func capsAreNotedInTheReport() throws {
        let folder = ReportTemporaryFolder()
        let db = try ReportFixtures.seededDatabase(in: folder)
        let model = try ReportModel(database: db, generatedAt: ReportFixtures.t0,
                                    limits: .init(incidents: 3, alertsPerIncident: 1))
        #expect(model.incidents.count == 3 && model.totalIncidents == 4)
        #expect(model.notes.count == 2)
        let html = HTMLReport.render(model)
        #expect(html.contains("Showing the 3 most recently active of 4 incidents."))
    }

    @Test func emptyDatabaseRendersAnEmptyReport() throws {
        let folder = ReportTemporaryFolder()
        let db = try StateDatabase(path: folder.path("state.db"))
        let html = HTMLReport.render(try ReportModel(database: db, generatedAt: ReportFixtures.t0))
        #expect(html.contains("No alerts or incidents in this period."))
        #expect(html.contains("No incidents."))
        #expect(html.hasSuffix("</html>\n"))
    }
}
