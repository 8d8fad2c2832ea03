import Testing
import FastJSON

@Suite struct JSONDocumentTests {
    @Test func parsesAndNavigatesCaseInsensitively() throws {
        let doc = try JSONDocument.parse(#"{"Time":"2024-01-01T00:00:00Z","properties":{"StatusCode":"Created","n":[1,2.5,-3]}}"#)
        #expect(doc.root["time"]?.string == "2024-01-01T00:00:00Z")
        #expect(doc.root["PROPERTIES"]?["statuscode"]?.string == "Created")
        let n = try #require(doc.root["properties"]?["n"])
        #expect(n.count == 3)
        #expect(n[0]?.int64 == 1)
        #expect(n[1]?.double == 2.5)
        #expect(n[2]?.int64 == -3)
    }

    @Test func pathLookupMatchesKeysThatContainDots() throws {
        let doc = try JSONDocument.parse(#"{"identity":{"claims":{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"a@b.c"}}}"#)
        let v = JSONPathLookup.values(at: "identity.claims.http://schemas.xmlsoap.org/ws/2005/05/identity/claims/UPN", in: doc.root)
        #expect(v.map(\.string) == ["a@b.c"])
    }

    @Test func pathLookupDescendsIntoJSONInsideStrings() throws {
        let inner = #"{\"properties\":{\"roleDefinitionId\":\"/x/8e3af657\",\"principalType\":\"User\"}}"#
        let doc = try JSONDocument.parse(#"{"properties":{"requestbody":"\#(inner)"}}"#)
        let v = JSONPathLookup.values(at: "properties.requestbody.properties.roleDefinitionId", in: doc.root)
        #expect(v.first?.string == "/x/8e3af657")
        // The string itself is still reachable as a string.
        #expect(JSONPathLookup.values(at: "properties.requestBody", in: doc.root).first?.type == .string)
    }

    @Test func arraysFanOutAndNumericSegmentsIndex() throws {
        let doc = try JSONDocument.parse(#"{"rules":[{"port":"22"},{"port":"3389"}],"tags":["a","b"]}"#)
        #expect(JSONPathLookup.values(at: "rules.port", in: doc.root).compactMap(\.string) == ["22", "3389"])
        #expect(JSONPathLookup.values(at: "rules.1.port", in: doc.root).compactMap(\.string) == ["3389"])
        #expect(JSONPathLookup.values(at: "tags", in: doc.root).compactMap(\.string) == ["a", "b"])
    }

    @Test func writerRoundTripsEscapes() throws {
        let text = #"{"a":"line\nbreak \"q\" \\ \u0001","b":[true,false,null,1.5,-2,18446744073709551615],"c":{}}"#
        let doc = try JSONDocument.parse(text)
        #expect(doc.root.jsonText == text)
    }

    @Test func reportsMalformedAndInvalidUTF8() {
        #expect(throws: JSONError.self) { try JSONDocument.parse(#"{"a":1"#) }
        do {
            _ = try JSONDocument.parse([0x22, 0xFF, 0xFE, 0x22])
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.kind == .invalidUTF8)
        }
    }

    @Test func builderCopiesSubtrees() throws {
        let src = try JSONDocument.parse(#"{"x":{"y":[1,"two",{"z":null}]}}"#)
        var b = JSONBuilder()
        b.beginObject()
        b.string("v", key: "k")
        b.copy(try #require(src.root["x"]), key: "copied")
        b.int(7, key: "n")
        b.end()
        let doc = b.build()
        #expect(doc.root.jsonText == #"{"k":"v","copied":{"y":[1,"two",{"z":null}]},"n":7}"#)
        #expect(doc.root.count == 3)
    }

    @Test func hashIsStableAndSeedDependent() {
        #expect(fastHash64("abc") == fastHash64("abc"))
        #expect(fastHash64("abc") != fastHash64("abd"))
        #expect(fastHash64("abc", seed: 1) != fastHash64("abc", seed: 2))
    }
}

@Suite struct JSONWriterEscapingTests {
    static func reference(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [34]
        for b in s {
            switch b {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 0x0A: out += [92, 110]
            case 0x0D: out += [92, 114]
            case 0x09: out += [92, 116]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(34)
        return out
    }

    @Test func escapesLikeTheReferenceAcrossChunkBoundaries() throws {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("ab\"\\\n\r\t{}:,é".utf8) + [0, 1, 0x1F, 0x7F]
        for length in [0, 1, 5, 2047, 2048, 2049, 5000, 20_000] {
            for plainPrefix in [0, 3, 3000] {
                var s = [UInt8](repeating: UInt8(ascii: "p"), count: plainPrefix)
                for _ in 0..<length { s.append(alphabet.randomElement(using: &rng)!) }
                var w = JSONWriter()
                w.raw("[")
                s.withUnsafeBufferPointer { w.writeString($0) }
                #expect(w.bytes == [91] + Self.reference(s), "length \(length), prefix \(plainPrefix)")
            }
        }
        // Round trip through the parser: escaped text reads back as the original string.
        let text = String(repeating: #"{"k":"v\"q","n":[1,2]}\#n"#, count: 300)
        var w = JSONWriter()
        w.writeString(text)
        #expect(try JSONDocument.parse(w.bytes).root.string == text)
    }
}
