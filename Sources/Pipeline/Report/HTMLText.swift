/// Escaping for everything the report writes. Every string from the database (titles, entity values,
/// evidence) is attacker-influenced: it goes through `escape` before it reaches HTML or SVG, always.
enum HTMLText {
    /// Text and attribute values: `& < > " '` become entities; NUL and other C0 controls except tab,
    /// newline and carriage return become U+FFFD (browsers mangle them anyway).
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Cuts `text` to at most `limit` characters, saying how much was left out.
    static func truncated(_ text: String, limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "\n… (\(text.count - limit) more characters)"
    }

    /// Re-indents JSON text for reading (two spaces per level). Works on the characters, respecting
    /// strings and escapes, so text that is not JSON comes back readable rather than rejected.
    static func indentJSON(_ text: String) -> String {
        let trimmed = text.trimmingSpaces()
        guard let first = trimmed.first, first == "{" || first == "[" else { return text }
        var out = ""
        var depth = 0
        var inString = false, escaped = false
        func newline() { out += "\n" + String(repeating: "  ", count: max(0, depth)) }
        let chars = Array(trimmed)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                i += 1
                continue
            }
            switch c {
            case "\"": inString = true; out.append(c)
            case "{", "[":
                // Keep empty containers on one line.
                if i + 1 < chars.count, chars[i + 1] == (c == "{" ? "}" : "]") {
                    out.append(c); out.append(chars[i + 1]); i += 1
                } else {
                    out.append(c); depth += 1; newline()
                }
            case "}", "]": depth -= 1; newline(); out.append(c)
            case ",": out.append(c); newline()
            case ":": out += ": "
            case " ", "\n", "\r", "\t": break
            default: out.append(c)
            }
            i += 1
        }
        return out
    }
}

extension String {
    func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[start...end]
    }
}
