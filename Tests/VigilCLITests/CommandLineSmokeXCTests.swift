import Foundation
import TestSupport
import XCTest

/// The command line answers as documented: version, help listing every subcommand, and a usage
/// error (exit 64) for an unknown flag. XCTest on purpose: with it, both runners' closing lines
/// count real tests.
final class CommandLineSmokeXCTests: XCTestCase {
    func testHelpListsEverySubcommandAndBadFlagsAreUsageErrors() throws {
        try XCTSkipUnless(VigilBinary.exists, "vigil binary not found at .build/debug/vigil")
        let help = try VigilBinary.run(["--help"])
        XCTAssertEqual(help.status, 0)
        for command in ["replay", "events", "rules", "incidents", "outbox", "tail", "run", "baseline", "report", "init"] {
            XCTAssertTrue(help.stdout.contains("  \(command) "), "help does not list '\(command)'")
        }
        XCTAssertFalse(help.stdout.contains("not built yet"))

        let version = try VigilBinary.run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)

        let bad = try VigilBinary.run(["replay", "--no-such-flag", "x"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--no-such-flag"))
    }
}
