// CEF over syslog for the Azure Monitor Agent → CommonSecurityLog.
//
// One RFC 5424 message per item:
//   <PRI>1 2025-03-04T09:15:02.123Z host vigil - alert - CEF:0|Vigil|Vigil|0.1|<sig>|<name>|<sev>|k=v …
// framed on TCP by octet counting (RFC 6587 §3.4.1, `LEN SP MSG`) or a trailing LF, or sent as one
// UDP datagram. CEF escaping: header fields escape `\` and `|`; extension values escape `\`, `=`
// and encode CR/LF as `\r`/`\n`. A TCP connection the peer closed is noticed before the next
// write and reopened. Syslog has no acknowledgement: "delivered" means written to the socket.
import EventModel
import Glibc
import Logging
import Synchronization

public struct CEFSyslogConfiguration: Sendable, Equatable {
    public enum Transport: String, Sendable { case tcp, udp }
    public enum Framing: String, Sendable { case octetCounting = "octet_counting", lf }

    public var host: String
    public var port: Int
    public var transport: Transport
    public var framing: Framing
    /// Syslog facility number (default 16 = local0).
    public var facility: Int
    public var appName: String
    /// HOSTNAME field; nil uses gethostname().
    public var hostname: String?
    /// Messages longer than this are cut at a character boundary (UDP datagrams must stay small).
    public var maxMessageBytes: Int
    public var maxBatch: Int

    public init(host: String = "127.0.0.1", port: Int = 514, transport: Transport = .tcp, framing: Framing = .octetCounting,
                facility: Int = 16, appName: String = "vigil", hostname: String? = nil, maxMessageBytes: Int? = nil, maxBatch: Int = 200) {
        self.host = host
        self.port = port
        self.transport = transport
        self.framing = framing
        self.facility = facility
        self.appName = appName
        self.hostname = hostname
        self.maxMessageBytes = maxMessageBytes ?? (transport == .udp ? 8192 : 65_536)
        self.maxBatch = maxBatch
    }

    static let facilityNames = ["kern": 0, "user": 1, "daemon": 3, "auth": 4, "syslog": 5, "authpriv": 10,
                                "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23]

    /// Keys: host, port, transport (tcp|udp), framing (octet_counting|lf), facility (number or
    /// name such as local4), app_name, hostname, max_message_bytes, max_batch.
    init(reading r: inout ConfigReader) throws(ConfigError) {
        var transport = Transport.tcp
        if let t = try r.string("transport") {
            guard let v = Transport(rawValue: t.lowercased()) else { throw ConfigError(path: r.sub("transport"), message: "expected tcp or udp") }
            transport = v
        }
        self.init(host: try r.requiredString("host"), port: try r.int("port") ?? 514, transport: transport)
        if let f = try r.string("framing") {
            guard let v = Framing(rawValue: f.lowercased()) else { throw ConfigError(path: r.sub("framing"), message: "expected octet_counting or lf") }
            framing = v
        }
        if let f = try r.string("facility") {
            guard let n = Int(f) ?? Self.facilityNames[f.lowercased()], (0...23).contains(n) else {
                throw ConfigError(path: r.sub("facility"), message: "expected 0-23 or a facility name (local0 … local7, auth, …)")
            }
            facility = n
        }
        if let v = try r.string("app_name") { appName = v }
        hostname = try r.string("hostname")
        if let v = try r.int("max_message_bytes") { maxMessageBytes = v }
        if let v = try r.int("max_batch") { maxBatch = v }
        guard (1...65_535).contains(port) else { throw ConfigError(path: r.sub("port"), message: "expected a port number") }
    }
}

/// A connected TCP or UDP socket. Not thread-safe; closed in deinit.
final class SyslogSocket {
    private(set) var fd: Int32 = -1
    let configuration: CEFSyslogConfiguration

    init(configuration: CEFSyslogConfiguration) { self.configuration = configuration }
    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    func connect() throws(DeliveryError) {
        close()
        var hints = addrinfo()
        hints.ai_socktype = Int32(configuration.transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(configuration.host, String(configuration.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw DeliveryError(.retry(retryAfter: nil), "syslog \(configuration.host): cannot resolve (\(String(cString: gai_strerror(rc))))")
        }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = 0
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if s >= 0 {
                var tv = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { fd = s; return }
                lastErrno = errno
                Glibc.close(s)
            } else {
                lastErrno = errno
            }
            ai = a.pointee.ai_next
        }
        throw DeliveryError(.retry(retryAfter: nil), "syslog \(configuration.transport.rawValue)://\(configuration.host):\(configuration.port): connect failed: \(String(cString: strerror(lastErrno)))")
    }

    /// True when a TCP peer has closed (or reset) the connection since the last write.
    var peerClosed: Bool {
        guard fd >= 0, configuration.transport == .tcp else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if n == 0 { return true }
        if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        return false
    }

    /// Writes the whole frame; returns errno on failure.
    func write(_ frame: [UInt8]) -> Int32? {
        var off = 0
        while off < frame.count {
            let n = frame.withUnsafeBytes { send(fd, $0.baseAddress! + off, frame.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            off += n
        }
        return nil
    }
}

public final class CEFSyslogSink: Sink, @unchecked Sendable {
    public let name: String
    public let configuration: CEFSyslogConfiguration
    public var maxBatch: Int { configuration.maxBatch }
    private let socket: Mutex<SyslogSocket>
    private let logger: Logger
    private let hostname: String

    public init(name: String, configuration: CEFSyslogConfiguration, logger: Logger = Logger(label: "vigil.sink.cef")) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        self.socket = Mutex(SyslogSocket(configuration: configuration))
        if let h = configuration.hostname { hostname = h } else {
            var buf = [CChar](repeating: 0, count: 256)
            gethostname(&buf, 255)
            let h = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            hostname = h.isEmpty ? "-" : h
        }
    }

    public func deliver(_ batch: [OutboxItem]) throws(DeliveryError) {
        var delivered: [Int64] = []
        var rejected: [String] = []
        let now = wallClockSeconds()
        try socket.withLock { (s: inout SyslogSocket) throws(DeliveryError) in
            for item in batch {
                let payload: SinkPayload
                do throws(DeliveryError) { payload = try SinkPayload.parse(item) } catch { rejected.append(error.reason); continue }
                let frame = self.frame(CEFFormat.syslogMessage(payload, facility: configuration.facility, hostname: hostname,
                                                                appName: configuration.appName, now: now, maxBytes: configuration.maxMessageBytes))
                do throws(DeliveryError) {
                    try send(frame, s)
                } catch {
                    throw DeliveryError(error.disposition, error.reason, delivered: delivered)
                }
                delivered.append(item.rowId)
            }
        }
        if !rejected.isEmpty { throw DeliveryError(.permanent, rejected.joined(separator: "; "), delivered: delivered) }
    }

    /// Sends one frame, reconnecting once when the connection is gone.
    private func send(_ frame: [UInt8], _ s: SyslogSocket) throws(DeliveryError) {
        if s.fd < 0 || s.peerClosed {
            if s.fd >= 0 { logger.info("syslog connection closed by peer: reconnecting", metadata: ["sink": "\(name)"]) }
            try s.connect()
        }
        guard let err = s.write(frame) else { return }
        logger.info("syslog write failed: reconnecting", metadata: ["sink": "\(name)", "error": "\(String(cString: strerror(err)))"])
        try s.connect()
        if let err2 = s.write(frame) {
            s.close()
            throw DeliveryError(.retry(retryAfter: nil), "syslog write failed: \(String(cString: strerror(err2)))")
        }
    }

    private func frame(_ message: [UInt8]) -> [UInt8] {
        switch (configuration.transport, configuration.framing) {
        case (.udp, _): return message
        case (.tcp, .octetCounting): return Array("\(message.count) ".utf8) + message
        case (.tcp, .lf): return message + [0x0A]
        }
    }

    public func close() throws {
        socket.withLock { $0.close() }
    }
}

/// CEF text and RFC 5424 framing (pure functions, tested directly).
enum CEFFormat {
    static func escapeHeader(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(ch)
            }
        }
        return out
    }

    static func escapeExtension(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\\\"
            case "=": out += "\\="
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\r\n": out += "\\r\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    /// CEF severity 0–10 (CommonSecurityLog: 0-3 Low, 4-6 Medium, 7-8 High, 9-10 Very-High).
    static func severity(_ s: Severity) -> Int {
        switch s {
        case .informational: return 1
        case .low: return 3
        case .medium: return 5
        case .high: return 8
        case .critical: return 10
        }
    }

    /// Syslog severity for PRI: crit, err, warning, notice, info.
    static func syslogSeverity(_ s: Severity) -> Int {
        switch s {
        case .critical: return 2
        case .high: return 3
        case .medium: return 4
        case .low: return 5
        case .informational: return 6
        }
    }

    static func millis(_ text: String?) -> String? {
        guard let t = text.flatMap(EventTime.init(parsing:)) else { return nil }
        return String(t.nanoseconds / 1_000_000)
    }

    static func isIPAddress(_ s: String) -> Bool {
        var buf = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, s, &buf) == 1 || inet_pton(AF_INET6, s, &buf) == 1
    }

    /// The CEF line for one payload.
    static func cef(_ payload: SinkPayload, msgBudget: Int) -> String {
        var ext: [(String, String)] = []
        let signature: String, title: String, severity: Severity, entities: [PayloadEntity]
        switch payload {
        case .alert(let a):
            signature = a.ruleId.isEmpty ? "vigil-alert" : a.ruleId
            title = a.ruleTitle
            severity = a.severity
            entities = a.entities
            if let rt = millis(a.time) { ext.append(("rt", rt)) }
            ext.append(("externalId", a.id))
            ext.append(("cat", "alert"))
            ext += [("cs1Label", "RuleId"), ("cs1", a.ruleId)]
            if let inc = a.incidentId { ext += [("cs4Label", "IncidentId"), ("cs4", inc)] }
            ext += tags(a.tactics, a.techniques)
            if let d = a.description, !d.isEmpty { ext.append(("msg", truncated(d, maxBytes: msgBudget))) }
        case .incident(let i):
            signature = "vigil-incident"
            title = i.title
            severity = i.severity
            entities = i.entities
            if let rt = millis(i.lastActivity) { ext.append(("rt", rt)) }
            if let start = millis(i.firstActivity) { ext.append(("start", start)) }
            if let end = millis(i.lastActivity) { ext.append(("end", end)) }
            ext.append(("externalId", i.id))
            ext.append(("cat", "incident"))
            ext.append(("act", i.status))
            if !i.ruleIds.isEmpty { ext += [("cs1Label", "RuleId"), ("cs1", i.ruleIds.joined(separator: ","))] }
            ext += [("cs4Label", "IncidentId"), ("cs4", i.id)]
            ext += tags(i.tactics, i.techniques)
            ext += [("cn1Label", "AlertCount"), ("cn1", String(i.alertIds.count)), ("cn2Label", "Revision"), ("cn2", String(i.revision))]
            ext.append(("cnt", String(max(1, i.alertIds.count))))
            if !i.description.isEmpty { ext.append(("msg", truncated(i.description, maxBytes: msgBudget))) }
        }
        if let account = entities.first("Account") { ext.append(("suser", account)) }
        if let ip = entities.first("IP"), isIPAddress(ip) { ext.append(("src", ip)) }
        if let host = entities.first("Host") { ext.append(("dhost", host)) }
        if let url = entities.first("URL") { ext.append(("request", url)) }
        if let r = entities.first("AzureResource") { ext += [("cs5Label", "AzureResourceId"), ("cs5", r)] }
        if let app = entities.first("CloudApplication") { ext += [("cs6Label", "CloudApplication"), ("cs6", app)] }
        let header = ["CEF:0", "Vigil", "Vigil", "0.1", escapeHeader(signature), escapeHeader(title), String(Self.severity(severity))]
        return header.joined(separator: "|") + "|" + ext.map { "\($0.0)=\(escapeExtension($0.1))" }.joined(separator: " ")
    }

    private static func tags(_ tactics: [String], _ techniques: [String]) -> [(String, String)] {
        var out: [(String, String)] = []
        if !tactics.isEmpty { out += [("cs2Label", "Tactics"), ("cs2", tactics.joined(separator: ","))] }
        if !techniques.isEmpty { out += [("cs3Label", "Techniques"), ("cs3", techniques.joined(separator: ","))] }
        return out
    }

    /// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - CEF…` (RFC 5424, no structured data).
    static func syslogMessage(_ payload: SinkPayload, facility: Int, hostname: String, appName: String, now: Double, maxBytes: Int) -> [UInt8] {
        let severity: Severity
        let msgId: String
        switch payload {
        case .alert(let a): severity = a.severity; msgId = "alert"
        case .incident(let i): severity = i.severity; msgId = "incident"
        }
        let pri = facility * 8 + syslogSeverity(severity)
        let ts = EventTime(nanoseconds: Int64(now * 1000) * 1_000_000).iso8601
        func field(_ s: String, _ max: Int) -> String {
            let clean = String(s.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.map(Character.init))
            return clean.isEmpty ? "-" : String(clean.prefix(max))
        }
        let head = "<\(pri)>1 \(ts) \(field(hostname, 255)) \(field(appName, 48)) - \(msgId) - "
        let budget = max(256, maxBytes - head.utf8.count - 512)
        let body = cef(payload, msgBudget: min(4096, budget))
        return Array(truncated(head + body, maxBytes: maxBytes).utf8)
    }
}
