import Foundation
import Glibc
import Logging

/// A tiny HTTP/1.1 server on one thread: `GET /healthz` and `GET /metrics`. One request per
/// connection (`Connection: close`); anything else gets 404 (or 405 for other methods). Plain POSIX
/// sockets: the only network code in Vigil that listens.
public final class MetricsServer: @unchecked Sendable {
    public let host: String
    /// The bound port (the chosen one when asked for 0).
    public private(set) var port: UInt16 = 0
    private let fd: Int32
    private let metrics: RunMetrics
    private let health: @Sendable () -> (ok: Bool, text: String)
    private let logger: Logger
    private let stopped = StopFlag()
    private let finished = StopFlag()

    /// Binds and listens at once (so a taken port fails at startup, clearly).
    public init(host: String, port: UInt16, metrics: RunMetrics, logger: Logger,
                health: @escaping @Sendable () -> (ok: Bool, text: String)) throws {
        self.host = host
        self.metrics = metrics
        self.health = health
        self.logger = logger
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var info: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &info)
        guard rc == 0, let first = info else {
            throw PipelineError("metrics.listen: cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(info) }
        let s = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw PipelineError("metrics.listen: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(s, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(s, 16) == 0 else {
            let why = String(cString: strerror(errno))
            close(s)
            throw PipelineError("metrics.listen: cannot listen on \(host):\(port): \(why)")
        }
        fd = s
        var addr = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(s, $0, &len) }
        }
        self.port = withUnsafePointer(to: &addr) { p in
            if Int32(p.pointee.ss_family) == AF_INET6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    deinit { close(fd) }

    /// Serves on a new thread until `stop()`.
    public func start() {
        let t = Thread { [self] in
            serve()
            finished.set()
        }
        t.name = "vigil-metrics"
        t.start()
    }

    /// Stops accepting and waits for the thread (at most ~0.3 s).
    public func stop() {
        stopped.set()
        finished.wait(timeoutSeconds: 2)
    }

    private func serve() {
        while !stopped.isSet {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while request.count < 16 * 1024 {
            let n = recv(client, &chunk, chunk.count, 0)
            if n <= 0 { break }
            request += chunk[0..<n]
            if request.count >= 4, Array(request.suffix(4)) == [13, 10, 13, 10] { break }
            if request.count >= 2, Array(request.suffix(2)) == [10, 10] { break }
        }
        let line = String(decoding: request.prefix { $0 != 10 && $0 != 13 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let (status, type, body): (String, String, String)
        if parts.count < 2 {
            (status, type, body) = ("400 Bad Request", "text/plain", "bad request\n")
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            (status, type, body) = ("405 Method Not Allowed", "text/plain", "only GET\n")
        } else {
            let target = parts[1].split(separator: "?").first.map(String.init) ?? ""
            switch target {
            case "/metrics":
                (status, type, body) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render())
            case "/healthz", "/health":
                let h = health()
                (status, type, body) = (h.ok ? "200 OK" : "503 Service Unavailable", "text/plain", h.text + "\n")
            default:
                (status, type, body) = ("404 Not Found", "text/plain", "not found (try /metrics or /healthz)\n")
            }
        }
        let bytes = Array(body.utf8)
        var response = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n\r\n".utf8)
        if parts.first != "HEAD" { response += bytes }
        var sent = 0
        while sent < response.count {
            let n = response[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }
}
