#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventModel
import FastJSON
import Logging

/// Where input problems go: stderr as `file:line: error[code]: message`, and optionally a file as
/// JSON lines (`--errors FILE`). Counts what it reported, by code.
public final class DiagnosticReporter: @unchecked Sendable {
    private let file: UnsafeMutablePointer<FILE>?
    private let quietAfter: Int
    public private(set) var counts: [String: Int] = [:]
    public private(set) var total = 0

    /// How a diagnostic is echoed to stderr: `file:line: level[code]: message`, or, in a service
    /// whose logs are JSON lines, a JSON log line (`ServiceLogging.line(for:)`).
    public enum Echo: Sendable { case text, serviceLog }
    private let echo: Echo

    /// - Parameter quietAfter: stop echoing to stderr after this many (the file still gets all).
    public init(errorsPath: String?, quietAfter: Int = 200, echo: Echo = .text) throws {
        self.echo = echo
        if let errorsPath {
            guard let f = fopen(errorsPath, "w") else {
                throw PipelineError("cannot write the errors file \(errorsPath): \(String(cString: strerror(errno)))")
            }
            file = f
        } else {
            file = nil
        }
        self.quietAfter = quietAfter
    }

    deinit { if let file { fclose(file) } }

    /// Warnings and notes echoed per code before they are only counted (the file still gets all):
    /// a replay of a multi-category export can produce thousands of `input.late-event` warnings.
    public var echoPerWarningCode = 5

    public func report(_ d: Diagnostic) {
        total += 1
        counts[d.code, default: 0] += 1
        if d.level != .error {
            let n = counts[d.code, default: 0]
            if n <= echoPerWarningCode {
                write(d)
            } else if n == echoPerWarningCode + 1 {
                write(note: "(further \(d.code) \(d.level.rawValue)s are counted, not printed\(file == nil ? "" : "; all are in the errors file"))")
            }
        } else if total <= quietAfter {
            write(d)
        } else if total == quietAfter + 1 {
            write(note: "(further input problems are counted, not printed\(file == nil ? "" : "; all are in the errors file"))")
        }
        guard let file else { return }
        let line = Self.json(d) + "\n"
        _ = line.withCString { fputs($0, file) }
        fflush(file)
    }

    private func write(_ d: Diagnostic) {
        StandardStreams.writeError((echo == .text ? "\(d)" : ServiceLogging.line(for: d)) + "\n")
    }

    private func write(note: String) {
        StandardStreams.writeError((echo == .text ? note : ServiceLogging.line(note, level: .notice)) + "\n")
    }

    public static func json(_ d: Diagnostic) -> String {
        var w = JSONWriter()
        var first = true
        w.beginObject()
        w.field("level", first: &first); w.writeString(d.level.rawValue)
        w.field("code", first: &first); w.writeString(d.code)
        w.field("message", first: &first); w.writeString(d.message)
        w.field("file", first: &first); w.writeString(d.location.file)
        if let line = d.location.line { w.field("line", first: &first); w.raw(String(line)) }
        if let column = d.location.column { w.field("column", first: &first); w.raw(String(column)) }
        if let offset = d.location.offset { w.field("offset", first: &first); w.raw(String(offset)) }
        w.endObject()
        return w.text
    }
}

public struct PipelineError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public enum StandardStreams {
    public static func writeError(_ text: String) { write(fd: 2, text) }
    public static func writeOutput(_ text: String) { write(fd: 1, text) }

    public static func write(fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buf in
            var done = 0
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
    }

    public static var stderrIsTerminal: Bool { isatty(2) != 0 }
    public static var stdoutIsTerminal: Bool { isatty(1) != 0 }
}
