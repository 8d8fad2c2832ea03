import Outputs

/// A command-line output: `jsonl:FILE` or `jsonl:-` (stdout).
public struct OutputSpec: Sendable, Hashable {
    public enum Kind: String, Sendable { case jsonl }
    public var kind: Kind
    public var target: String

    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw PipelineError("output '\(text)': expected KIND:TARGET, e.g. jsonl:alerts.jsonl or jsonl:-")
        }
        let k = String(text[..<colon]).lowercased()
        guard let kind = Kind(rawValue: k) else {
            throw PipelineError("output '\(text)': unknown kind '\(k)' (known: jsonl; other sinks come from --config)")
        }
        let target = String(text[text.index(after: colon)...])
        guard !target.isEmpty else { throw PipelineError("output '\(text)': missing target (a file, or - for stdout)") }
        self.kind = kind
        self.target = target
    }

    public func makeSink() throws -> any Sink {
        switch kind {
        case .jsonl:
            return try JSONLinesSink(name: "jsonl:" + target, destination: target == "-" ? .standardOutput : .file(target))
        }
    }
}
