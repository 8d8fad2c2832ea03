import EventModel
import Pipeline
import Testing

@Suite struct ReportCoverageTests {
    let matrix = CoverageMatrix(rules: [
        (id: "r1", title: "Secrets listed", area: "identity", controls: ["IM-8"]),
        (id: "r2", title: "Registry admin user", area: "containers", controls: ["IM-1", "IM-8"]),
        (id: "r3", title: "NSG open", area: "network", controls: ["NS-1"]),
        (id: "r4", title: "Odd rule", area: "Identity", controls: ["ZZ-9"]),
        (id: "r5", title: "Brand new area", area: "ai-safety", controls: ["NS-2"]),
    ])

    private func control(_ area: String, _ id: String) -> CoverageMatrix.Control? {
        matrix.areas.first { $0.name == area }?.controls.first { $0.id == id }
    }

    @Test func rulesLandOnTheirAreaAndControls() {
        #expect(control("identity", "IM-8")?.rules.map(\.id) == ["r1"])
        #expect(control("containers", "IM-8")?.rules.map(\.id) == ["r2"])
        #expect(control("containers", "IM-1")?.status == .guarded)
        #expect(control("identity", "IM-1")?.status == .gap)          // listed even though no identity rule guards it
        #expect(control("network", "NS-1")?.status == .guarded)
        #expect(control("network", "NS-2")?.status == .gap)
        // Area names match case-insensitively; unknown controls and areas are kept, not dropped.
        #expect(control("identity", "ZZ-9")?.inCatalogue == false)
        #expect(control("ai-safety", "NS-2")?.rules.map(\.id) == ["r5"])
        #expect(matrix.areas.map(\.name).suffix(2) == ["process-only", "ai-safety"])
    }

    @Test func processOnlyControlsAreMarked() {
        let process = matrix.areas.first { $0.name == BaselineCatalogue.processArea }
        #expect(process?.controls.map(\.id) == ["DS", "Training", "Blueprints"])
        #expect(process?.controls.allSatisfy { $0.status == .processOnly && !$0.visibleInLogs } == true)
        let s = matrix.controlIdsByStatus
        #expect(s[.processOnly] == ["DS", "Training", "Blueprints"])
        #expect(s[.guarded]?.isSuperset(of: ["IM-1", "IM-8", "NS-1", "NS-2", "ZZ-9"]) == true)   // NS-2: guarded in one area
        #expect(s[.gap]?.contains("NS-2") == false)
        #expect(s[.gap]?.contains("PA-6") == true)
    }

    @Test func textRendererListsAreasControlsAndRules() {
        let text = matrix.renderText()
        #expect(text.hasPrefix("Baseline coverage: 5 rules guard "))
        #expect(text.contains("\nidentity\n"))
        #expect(text.contains("\nprocess-only (not visible in logs)\n"))
        let lines = text.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.contains("IM-8 guarded Restrict the exposure of credentials and secrets"))
        #expect(lines.contains("- Secrets listed (r1)"))
        #expect(lines.contains("PA-6 gap Use privileged access workstations"))
        #expect(lines.contains { $0.hasPrefix("Training process-only ") })
        // Columns line up: the status starts at the same column on every control line.
        func statusColumn(_ id: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("  \(id) ") }) else { return nil }
            let afterId = line.dropFirst(2 + id.count)
            return 2 + id.count + afterId.prefix { $0 == " " }.count
        }
        #expect(statusColumn("IM-8") != nil)
        #expect(statusColumn("IM-8") == statusColumn("Blueprints"))
        #expect(statusColumn("ZZ-9") == statusColumn("Training"))
        #expect(text.contains("ZZ-9") && text.contains("(not in the catalogue)"))
    }

    @Test func coverageSectionInTheHTMLReport() {
        let model = ReportModel(generatedAt: EventTime(seconds: 0), source: "test", coverage: matrix)
        let html = HTMLReport.render(model)
        #expect(html.contains("<h2>Baseline coverage</h2>"))
        #expect(html.contains("<span class=\"chip process-only\">not visible in logs</span>"))
        #expect(html.contains("title=\"Restrict the exposure of credentials and secrets — 1 rule\">IM-8<b>1</b>"))
        #expect(html.contains("<div>Registry admin user</div>"))
    }
}
