@testable import Detection
import EventModel
import Testing

@Suite struct ModifierTests {
    let ev = T.event("""
    {"operationName":"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE","caller":"Alice@Contoso.com",
     "properties":{"message":"Owner granted to SP","requestbody":"{\\"properties\\":{\\"roleDefinitionId\\":\\"/providers/x/8e3af657\\",\\"port\\":22}}",
     "count":"42","size":7.5,"cmd":"powershell -enc SQBFAFgA","b64":"dGhpcyBpcyBhIHRlc3Q=","blob":"xxYWRtaW5pc3RyYXRvcgyy",
     "u16":"YQBkAG0AaQBuAA==","empty":"","nul":null,"tags":["a","Beta"],"ip":"10.1.2.3","ip6":"2001:db8::1","other":"alice@contoso.com"}}
    """, operation: "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", caller: "Alice@Contoso.com", ip: "203.0.113.9")

    @Test(arguments: [
        ("properties.message: owner granted to sp", true),
        ("properties.message: Owner", false),
        ("properties.message|contains: GRANTED", true),
        ("properties.message|startswith: owner", true),
        ("properties.message|startswith: granted", false),
        ("properties.message|endswith: to sp", true),
        ("properties.message|endswith: owner", false),
        ("properties.message|contains|all: [owner, sp]", true),
        ("properties.message|contains|all: [owner, nope]", false),
        ("properties.message|contains: [nope, granted]", true),
        ("properties.message|cased: Owner granted to SP", true),
        ("properties.message|cased: owner granted to sp", false),
        ("properties.message|contains|cased: SP", true),
        ("properties.message|contains|cased: sp", false),
        ("properties.message|re: '^Owner\\s+\\w+'", true),
        ("properties.message|re: '^owner'", false),
        ("properties.message|re|i: '^owner'", true),
        ("properties.message|re: 'granted.to'", true),
        ("properties.count|gt: 41", true),
        ("properties.count|gt: 42", false),
        ("properties.count|gte: 42", true),
        ("properties.count|lt: 43", true),
        ("properties.count|lte: 41", false),
        ("properties.size|lt: 8", true),
        ("properties.count: 42", true),
        ("properties.count: 42.0", true),
        ("properties.requestbody.properties.port: 22", true),
        ("properties.requestbody.properties.roleDefinitionId|endswith: 8e3af657", true),
        ("properties.ip|cidr: 10.0.0.0/8", true),
        ("properties.ip|cidr: 192.168.0.0/16", false),
        ("properties.ip6|cidr: '2001:db8::/32'", true),
        ("properties.ip6|cidr: '2001:db9::/32'", false),
        ("properties.ip|cidr: '::/0'", false),
        ("Caller|endswith: '@contoso.com'", true),
        ("CallerIpAddress|cidr: 203.0.113.0/24", true),
        ("properties.message|exists: true", true),
        ("properties.missing|exists: false", true),
        ("properties.missing|exists: true", false),
        ("properties.nul|exists: true", false),
        ("properties.nul: null", true),
        ("properties.missing: null", true),
        ("properties.message: null", false),
        ("properties.empty: ''", true),
        ("properties.message|neq: something else", true),
        ("properties.message|neq: owner granted to sp", false),
        ("properties.other|fieldref: caller", true),
        ("properties.other|fieldref|cased: caller", false),
        ("properties.message|fieldref: caller", false),
        ("properties.other|fieldref|startswith: caller", true),
        ("properties.other|fieldref|endswith: caller", true),
        ("properties.message|fieldref|contains: properties.tags", true),
        ("properties.message|fieldref|endswith: properties.tags", false),
        ("properties.message|fieldref|startswith: caller", false),
        ("properties.other|fieldref|contains|cased: caller", false),
        ("properties.b64|base64|contains: 'this is a test'", true),
        ("properties.b64|base64: 'this is a tesT'", false),
        ("properties.b64|contains|base64: 'this is a test'", true),
        ("properties.blob|base64offset|contains: administrator", true),
        ("properties.blob|base64offset|contains: root", false),
        ("properties.u16|utf16le|base64: admin", true),
        ("properties.u16|wide|base64: admin", true),
        ("properties.u16|utf16be|base64: admin", false),
        ("properties.cmd|windash|contains: ' /enc '", true),
        ("properties.cmd|windash|contains: ' -enc '", true),
        ("properties.cmd|windash|contains: ' /foo '", false),
        ("properties.tags: beta", true),
        ("properties.tags|all: [a, beta]", true),
        ("properties.tags|all: [a, gamma]", false),
        ("operationName: microsoft.authorization/roleassignments/write", true),
    ])
    func modifier(_ item: String, _ expected: Bool) {
        #expect(T.matches("selection:\n  \(item)", ev) == expected, "\(item)")
    }

    /// A YAML number equals the same number in the record (a JSON number, or a plain decimal
    /// string), and text that spells it; not text that only parses as it.
    @Test(arguments: [
        ("0", "0", true), ("0", "\"0\"", true), ("0", "0.0", true), ("0", "\"-0\"", true),
        ("0", "\" 0\"", false), ("0", "\"+0\"", false), ("0", "\"0x0\"", false), ("0", "\"0e0\"", false),
        ("0", "\".0\"", false), ("0", "\"00\"", false),
        ("50126", "50126", true), ("50126", "\"50126\"", true), ("50126", "5.0126e4", true),
        ("50126", "\"050126\"", false), ("1.5", "\"1.5\"", true), ("1.5", "\"1.50\"", true),
    ])
    func numberEquality(_ rule: String, _ recordValue: String, _ expected: Bool) {
        let e = T.event(#"{"operationName":"x","properties":{"code":\#(recordValue)}}"#)
        #expect(T.matches("selection:\n  properties.code: \(rule)", e) == expected, "\(rule) vs \(recordValue)")
    }

    @Test func base64offsetVariants() {
        // pySigma's three offsets for 'administrator'.
        let v = ValueEncodings.base64Offsets(Array("administrator".utf8)).map { String(decoding: $0, as: UTF8.self) }
        #expect(v == ["YWRtaW5pc3RyYXRvc", "FkbWluaXN0cmF0b3", "hZG1pbmlzdHJhdG9y"])
    }

    @Test func windashVariants() {
        let v = ValueEncodings.windash(" -enc")
        #expect(v.count == 5)
        #expect(v.contains(" /enc") && v.contains(" \u{2013}enc"))
    }

    @Test func expandUsesPlaceholders() {
        let yaml = T.rule("selection:\n  Caller|expand: '%admins%'")
        let (set, diags) = T.compile(yaml, placeholders: ["admins": ["alice@contoso.com", "bob@contoso.com"]])
        #expect(T.errors(diags).isEmpty)
        #expect(!Engine(rules: set).matchingRules(ev).isEmpty)
        let bob = T.event("{}", caller: "BOB@contoso.com")
        #expect(!Engine(rules: set).matchingRules(bob).isEmpty)
        let eve = T.event("{}", caller: "eve@contoso.com")
        #expect(Engine(rules: set).matchingRules(eve).isEmpty)
    }

    @Test(arguments: [
        ("a*c", "abbbc", true), ("a*c", "abbbd", false), ("a?c", "abc", true), ("a?c", "ac", false),
        ("a\\*c", "a*c", true), ("a\\*c", "abc", false), ("a\\?c", "a?c", true), ("a\\?c", "abc", false),
        ("a\\\\b", "a\\b", true), ("C:\\Windows\\\\*", "c:\\windows\\system32", true), ("a\\x", "a\\x", true), ("*", "", true),
        ("?é?", "aéb", true), ("*end", "the END", true), ("x*y*z", "xaaybbz", true), ("x*y*z", "xaazbby", false),
    ])
    func wildcards(_ pattern: String, _ value: String, _ expected: Bool) {
        let q = pattern.replacingOccurrences(of: "'", with: "''")
        let v = value.replacingOccurrences(of: "\\", with: "\\\\")
        let e = T.event("{\"f\":\"\(v)\"}")
        #expect(T.matches("selection:\n  f: '\(q)'", e) == expected, "\(pattern) vs \(value)")
    }

    @Test func keywordsSearchEveryString() {
        #expect(T.matches("keywords:\n  - 'roleAssignments/write'", ev, condition: "keywords"))
        #expect(T.matches("keywords:\n  - 'owner granted'\n  - nothing", ev, condition: "keywords"))
        #expect(!T.matches("keywords:\n  - 'listKeys/action'", ev, condition: "keywords"))
        #expect(T.matches("keywords: 'rOlEaSsIgNmEnTs'", ev, condition: "keywords"))
    }

    @Test func cidrParsing() {
        #expect(CIDR("10.0.0.0/8") != nil)
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("::ffff:0:0/96") != nil)
        #expect(CIDR("fe80::/10")!.contains(CIDR.parseIP("fe80::1%eth0")!))
        #expect(CIDR("192.168.1.0/24")!.contains(CIDR.parseIP("192.168.1.77")!))
        #expect(!CIDR("192.168.1.0/24")!.contains(CIDR.parseIP("192.168.2.1")!))
        #expect(CIDR("0.0.0.0/0")!.contains(CIDR.parseIP("8.8.8.8:443")!))
        #expect(CIDR.parseIP("1.2.3") == nil)
        #expect(CIDR.parseIP("1::2::3") == nil)
    }

    @Test func numbersCompareNumericallyAcrossTypes() {
        let e = T.event(#"{"ResultType":0,"s":"50126","d":1.0}"#)
        #expect(T.matches("selection:\n  ResultType: 0", e))
        #expect(T.matches("selection:\n  ResultType: '0'", e))
        #expect(T.matches("selection:\n  s: 50126", e))
        #expect(T.matches("selection:\n  d: 1", e))
    }
}
