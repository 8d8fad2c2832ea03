@testable import Detection
import Foundation
import TestSupport
import Testing
import Yams

/// `YAMLTree` types an untagged plain scalar as a string without asking Yams' resolver when no
/// resolver rule can match its first character (`mayResolveToNonString`); everywhere else Yams
/// decides. Both must agree with Yams' default resolver on every text.
@Suite struct YAMLScalarKindTests {
    static let tricky = ["", "~", "null", "Null", "NULL", "nULL", "yes", "No", "on", "OFF", "oN", "y", "n", "true", "False",
                         "tRUE", "0", "017", "0o17", "0b101", "0x1F", "+12", "-3", "1_000", "190:20:30", "-3.5", ".5", "1e5",
                         "1e+5", "1.", ".inf", "-.INF", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "=",
                         "-", "+", ".", "hello", "Microsoft.Authorization/roleAssignments/write", "Start", "Succeeded",
                         "*", "a: b", "#", "@x", "%x", "`x", "!x", "0.0.0.0/0", "10.0.0.0/8", "::/0", "1.2.3"]

    /// The ones a YAML document can hold as a plain scalar (not `-`, `*`, `#`, `@`, `%`, `` ` ``, `!` or `a: b`).
    static let plain = tricky.filter { t in !["-", "*", "a: b", "#", "@x", "%x", "`x", "!x"].contains(t) }

    static func yamsKind(_ text: String) -> YAMLTree.ScalarKind {
        switch Resolver.default.resolveTag(of: Node(text)) {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .float: return .float
        default: return .string
        }
    }

    /// Every scalar text of the bundled rule pack, keys included.
    static func packTexts() throws -> [String] {
        var out: [String] = []
        func walk(_ t: YAMLTree) {
            switch t.value {
            case .scalar(let s, _): out.append(s)
            case .sequence(let items): items.forEach(walk)
            case .mapping(let pairs): for p in pairs { walk(p.key); walk(p.value) }
            }
        }
        let root = PackageRoot.url.appendingPathComponent("detections")
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "yml" }
        for f in files { try YAMLTree.documents(String(contentsOf: f, encoding: .utf8)).forEach(walk) }
        return out
    }

    @Test func textsTakenForStringsAreStringsToYams() throws {
        let texts = try Self.tricky + Self.packTexts()
        #expect(texts.count > 1_000)
        var shortCut = 0
        for text in texts where !YAMLTree.mayResolveToNonString(text) {
            shortCut += 1
            #expect(Self.yamsKind(text) == .string, "\(text)")
        }
        #expect(shortCut > texts.count / 2, "most texts skip the resolver")
    }

    @Test(arguments: plain)
    func plainScalarsGetYamsKinds(_ text: String) throws {
        let doc = try #require(YAMLTree.documents("k: \(text)\n").first)
        let value = try #require(doc["k"])
        #expect(value.scalarKind == Self.yamsKind(text))
    }
}
