// A blocking HTTP/1.1 client over one libcurl easy handle.
//
// Invariants:
// - One `HTTPClient` owns one `CURL *` for its whole life and frees it in `deinit`. It is NOT
//   thread-safe: use it from one thread at a time (sinks keep theirs behind a `Mutex`).
// - `curl_easy_reset` between requests keeps the handle's connection cache, so consecutive
//   requests to the same host reuse the TCP/TLS connection.
// - TLS peer and host verification are on unless the configuration explicitly turns them off.
// - Nothing here logs headers or bodies: they may carry bearer tokens, secrets or signatures.
// - `send` blocks the calling thread; callers run it off the cooperative pool.
import CCurl
import Logging

/// Transport settings shared by every request a client makes.
public struct HTTPClientConfiguration: Sendable, Equatable {
    /// Seconds to establish TCP + TLS.
    public var connectTimeout: Double
    /// Seconds for the whole request, including the connect.
    public var timeout: Double
    /// PEM file of CAs to trust instead of the system store (`CURLOPT_CAINFO`).
    public var caBundle: String?
    /// `http://proxy:3128`; nil uses libcurl's defaults (which honour `https_proxy`/`no_proxy`).
    public var proxy: String?
    /// Hosts that bypass the proxy (`CURLOPT_NOPROXY`, comma-separated).
    public var noProxy: String?
    /// Verify the server certificate and host name. Only tests should turn this off.
    public var verifyTLS: Bool
    public var userAgent: String

    public init(connectTimeout: Double = 10, timeout: Double = 60, caBundle: String? = nil, proxy: String? = nil,
                noProxy: String? = nil, verifyTLS: Bool = true, userAgent: String = "vigil/0.1") {
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.caBundle = caBundle
        self.proxy = proxy
        self.noProxy = noProxy
        self.verifyTLS = verifyTLS
        self.userAgent = userAgent
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// Header names and values, in order. `Authorization` values are never logged.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names as received; look them up with `header(_:)` (case-insensitive).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last(where: { $0.name.lowercased() == lower })?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Seconds to wait from `Retry-After` (delta-seconds or HTTP-date), if present and sane.
    public func retryAfter(now: Double = wallClockSeconds()) -> Double? {
        header("Retry-After").flatMap { RetryAfter.parse($0, now: now) }
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Why a request produced no HTTP response.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case connect, timeout, connectionLost, tls, invalidRequest, other
    }
    public var kind: Kind
    /// libcurl's result code (0 when not from libcurl).
    public var code: Int32
    public var message: String

    public init(kind: Kind, code: Int32 = 0, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// Whether the same request may succeed later without changes (refused, reset, timed out).
    public var isRetriable: Bool {
        switch kind {
        case .connect, .timeout, .connectionLost, .other: return true
        case .tls, .invalidRequest: return false
        }
    }

    public var description: String { "\(message) (curl \(code))" }

    static func from(code: CURLcode, detail: String) -> HTTPError {
        let kind: Kind
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .connect
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            kind = .connectionLost
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ISSUER_ERROR:
            kind = .tls
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT: kind = .invalidRequest
        default: kind = .other
        }
        let base = String(cString: curl_easy_strerror(code))
        return HTTPError(kind: kind, code: Int32(code.rawValue), message: detail.isEmpty ? base : "\(base): \(detail)")
    }
}

/// Receives body bytes and header lines from libcurl callbacks (passed as the opaque pointer).
private final class ResponseBox {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
}

public final class HTTPClient {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    public let configuration: HTTPClientConfiguration
    private let logger: Logger

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(),
                logger: Logger = Logger(label: "vigil.http")) throws(HTTPError) {
        guard HTTPClient.globalInit, let h = curl_easy_init() else {
            throw HTTPError(kind: .other, message: "libcurl initialisation failed")
        }
        handle = h
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Performs one request and returns whatever status the server sent. Throws only when there
    /// was no HTTP response at all (refused, reset, timed out, TLS failure, bad URL).
    public func send(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        let box = ResponseBox()
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }

        var failed: CURLcode = CURLE_OK
        func set(_ r: CURLcode) { if r != CURLE_OK && failed == CURLE_OK { failed = r } }
        let c = configuration
        set(ccurl_setopt_str(handle, CURLOPT_URL, request.url))
        set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(c.connectTimeout * 1000)))
        set(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(c.timeout * 1000)))
        set(ccurl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ccurl_setopt_long(handle, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2)))
        set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, c.verifyTLS ? 1 : 0))
        set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, c.verifyTLS ? 2 : 0))
        if let ca = c.caBundle { set(ccurl_setopt_str(handle, CURLOPT_CAINFO, ca)) }
        if let proxy = c.proxy { set(ccurl_setopt_str(handle, CURLOPT_PROXY, proxy)) }
        if let noProxy = c.noProxy { set(ccurl_setopt_str(handle, CURLOPT_NOPROXY, noProxy)) }
        set(ccurl_setopt_str(handle, CURLOPT_USERAGENT, c.userAgent))
        set(ccurl_setopt_str(handle, CURLOPT_ACCEPT_ENCODING, ""))
        set(ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        let method = request.method.uppercased()
        switch method {
        case "GET": set(ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD": set(ccurl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case "POST": set(ccurl_setopt_long(handle, CURLOPT_POST, 1))
        default:
            set(ccurl_setopt_long(handle, CURLOPT_POST, 1))
            set(ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, method))
        }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // Servers that do not answer `Expect: 100-continue` would stall every body over 1 KB.
        headerList = curl_slist_append(headerList, "Expect:")
        set(ccurl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList))

        set(ccurl_setopt_writefn(handle) { data, size, count, opaque in
            let box = Unmanaged<ResponseBox>.fromOpaque(opaque!).takeUnretainedValue()
            let n = size * count
            if n > 0, let data { data.withMemoryRebound(to: UInt8.self, capacity: n) { box.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) } }
            return n
        })
        set(ccurl_setopt_headerfn(handle) { data, size, count, opaque in
            let box = Unmanaged<ResponseBox>.fromOpaque(opaque!).takeUnretainedValue()
            let n = size * count
            guard n > 0, let data else { return n }
            let line = data.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
            if line.hasPrefix("HTTP/") { box.headers.removeAll(); return n }   // a new response block (100, redirect)
            if let colon = line.firstIndex(of: ":") {
                let name = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmedASCII
                box.headers.append((name, value))
            }
            return n
        })
        let opaque = Unmanaged.passUnretained(box).toOpaque()
        set(ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, opaque))
        set(ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, opaque))

        if method != "GET" && method != "HEAD" {
            // COPYPOSTFIELDS copies, so the body need not outlive this call.
            set(ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            if request.body.isEmpty {
                set(ccurl_setopt_str(handle, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                request.body.withUnsafeBytes { set(ccurl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress!))) }
            }
        }
        if failed != CURLE_OK { throw HTTPError.from(code: failed, detail: "setting options") }

        let start = wallClockSeconds()
        let result = withExtendedLifetime(box) { curl_easy_perform(handle) }
        let elapsed = wallClockSeconds() - start
        if result != CURLE_OK {
            let detail = String(cString: errorBuffer)
            let error = HTTPError.from(code: result, detail: detail)
            logger.debug("http request failed", metadata: [
                "method": "\(method)", "url": "\(HTTPClient.redactedURL(request.url))", "error": "\(error)",
                "elapsed_ms": "\(Int(elapsed * 1000))",
            ])
            throw error
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        logger.debug("http request", metadata: [
            "method": "\(method)", "url": "\(HTTPClient.redactedURL(request.url))", "status": "\(status)",
            "elapsed_ms": "\(Int(elapsed * 1000))",
        ])
        return HTTPResponse(status: status, headers: box.headers, body: box.body)
    }

    /// The URL without its query string (which could carry a signature in some APIs).
    public static func redactedURL(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        return String(url[..<q]) + "?…"
    }
}

extension StringProtocol {
    /// Trims ASCII whitespace (space, tab, CR, LF) by scalar, so a CRLF pair is removed too.
    var trimmedASCII: String {
        var scalars = Substring(self).unicodeScalars[...]
        func ws(_ u: Unicode.Scalar) -> Bool { u == " " || u == "\t" || u == "\r" || u == "\n" }
        while let f = scalars.first, ws(f) { scalars = scalars.dropFirst() }
        while let l = scalars.last, ws(l) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
