@testable import Detection
import Foundation
import Testing

@Suite struct SafeRegexTests {
    @Test(arguments: [
        ("abc", "xxabcxx", true), ("^abc", "xabc", false), ("abc$", "abc", true), ("a.c", "abc", true),
        ("a.c", "a\nc", false), ("(?s)a.c", "a\nc", true), ("a|b|c", "zzc", true), ("^(ab|cd)+$", "abcdab", true),
        ("^(ab|cd)+$", "abce", false), ("colou?r", "color", true), ("a{2,3}", "caab", true), ("^a{2,3}$", "aaaa", false),
        ("^a{2}$", "aa", true), ("^a{2,}$", "aaaaa", true), ("[a-c]+x", "bbx", true), ("[^a-c]x", "bx", false),
        ("\\d{3}-\\d{4}", "555-1234", true), ("\\w+@\\w+\\.com", "me@corp.com", true), ("\\s", "nospace", false),
        ("\\bcat\\b", "a cat!", true), ("\\bcat\\b", "concat", false), ("\\Bcat", "concat", true),
        ("(?i)HELLO", "hello", true), ("HELLO", "hello", false), ("(?i:he)LLO", "heLLO", true), ("(?i:he)LLO", "hello", false),
        ("^line2", "line1\nline2", false), ("(?m)^line2$", "line1\nline2\nline3", true), ("\\x41", "A", true),
        ("[[:digit:]]+", "ab12", true), ("\\.exe$", "evil.exe", true), ("\\.exe$", "evilexe", false),
        ("(?P<name>ab)c", "abc", true), ("(?<n>ab)c", "abc", true), ("é+", "caféé", true), ("^.{4}$", "café", true),
        ("a*?b", "aaab", true), ("[\\d.]+", "1.2", true), ("[a\\-z]", "-", true), ("\\A[a-z]+\\z", "abc", true),
        ("x*", "", true), ("", "anything", true), ("(a|)+b", "b", true),
    ])
    func matching(_ pattern: String, _ text: String, _ expected: Bool) throws {
        let re = try SafeRegex(pattern)
        #expect(re.matches(text) == expected, "/\(pattern)/ on \(text.debugDescription)")
    }

    @Test func flagsFromModifiers() throws {
        #expect(try SafeRegex("ABC", flags: RegexFlags(caseInsensitive: true)).matches("xabcx"))
        #expect(try SafeRegex("^b", flags: RegexFlags(multiline: true)).matches("a\nb"))
        #expect(try SafeRegex("a.b", flags: RegexFlags(dotAll: true)).matches("a\nb"))
    }

    @Test(arguments: [
        ("(?=abc)", "rule.unsupported-feature", 0), ("a(?!b)", "rule.unsupported-feature", 1),
        ("(?<=a)b", "rule.unsupported-feature", 0), ("(?<!a)b", "rule.unsupported-feature", 0),
        ("(a)\\1", "rule.unsupported-feature", 3), ("(?>a)", "rule.unsupported-feature", 0),
        ("a++", "rule.unsupported-feature", 2), ("\\p{L}", "rule.unsupported-feature", 0),
        ("(abc", "rule.bad-regex", 0), ("abc)", "rule.bad-regex", 3), ("[abc", "rule.bad-regex", 0),
        ("*a", "rule.bad-regex", 0), ("a{3,2}", "rule.bad-regex", 1), ("[z-a]", "rule.bad-regex", 3),
        ("\\q", "rule.bad-regex", 0), ("a{1001}", "rule.bad-regex", 1),
    ])
    func rejected(_ pattern: String, _ code: String, _ offset: Int) {
        do {
            _ = try SafeRegex(pattern)
            Issue.record("expected /\(pattern)/ to be rejected")
        } catch {
            #expect(error.code == code, "/\(pattern)/: \(error.message)")
            #expect(error.offset == offset, "/\(pattern)/: \(error.message)")
        }
    }

    @Test(arguments: ["(a+)+$", "(a|aa)+$", "(a*)*b", "^(\\w+\\s?)*$", "(.*a){12}"])
    func pathologicalPatternsFinishFast(_ pattern: String) throws {
        let re = try SafeRegex(pattern)
        let input = String(repeating: "a", count: 5_000) + "!"
        let start = Date()
        _ = re.matches(input)
        #expect(Date().timeIntervalSince(start) < 2.0, "/\(pattern)/ took too long")
    }

    @Test func tooLargeAfterExpansionIsRejected() {
        #expect(throws: RegexError.self) { try SafeRegex("(a{1000}){1000}") }
    }
}
