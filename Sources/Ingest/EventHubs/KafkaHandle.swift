// The only file (with KafkaConsumerState's callbacks) where librdkafka handles and callbacks live.
// One owning class per rd_kafka_t; the conf is destroyed here when rd_kafka_new refuses it.
import CRdKafka
import Logging
import Synchronization

/// State shared with librdkafka's C callbacks through the opaque pointer. Lives as long as its
/// handle (the handle owns it and destroys rd_kafka_t first).
final class KafkaCallbacks: Sendable {
    let logger: Logger
    let secret: String?
    let tokenProvider: (@Sendable () throws -> OAuthBearerToken)?
    struct Health {
        var lastError: String?
        var lastErrorWasAuthentication = false
        var downSince: ContinuousClock.Instant?
        var everConnected = false
    }
    let health = Mutex(Health())
    /// Set by a consumer to receive rebalances.
    let rebalance = Mutex<(@Sendable (OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?>(nil)
    let deliveries = Mutex((ok: 0, failed: 0, lastError: String?.none))

    init(logger: Logger, secret: String?, tokenProvider: (@Sendable () throws -> OAuthBearerToken)?) {
        self.logger = logger
        self.secret = secret
        self.tokenProvider = tokenProvider
    }

    func scrub(_ text: String) -> String {
        guard let secret, !secret.isEmpty, text.contains(secret) else { return text }
        return text.replacingAll(secret, with: "<redacted>")
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> KafkaCallbacks? {
        opaque.map { Unmanaged<KafkaCallbacks>.fromOpaque($0).takeUnretainedValue() }
    }

    func log(level: Int32, facility: String, message: String) {
        let text = scrub(message)
        let meta: Logger.Metadata = ["facility": "\(facility)"]
        switch level {
        case ...3: logger.error("librdkafka: \(text)", metadata: meta)
        case 4: logger.warning("librdkafka: \(text)", metadata: meta)
        case 5, 6: logger.info("librdkafka: \(text)", metadata: meta)
        default: logger.debug("librdkafka: \(text)", metadata: meta)
        }
    }

    func error(_ err: rd_kafka_resp_err_t, reason: String) {
        let text = scrub(reason)
        let connectivity = [RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__RESOLVE,
                            RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR__SSL].contains(err)
        health.withLock { h in
            h.lastError = text
            h.lastErrorWasAuthentication = err == RD_KAFKA_RESP_ERR__AUTHENTICATION
            if connectivity, h.downSince == nil { h.downSince = ContinuousClock.now }
        }
        logger.warning("kafka client error", metadata: ["error": "\(text)", "code": "\(err.rawValue)"])
    }

    func markConnected() {
        health.withLock { h in h.everConnected = true; h.downSince = nil }
    }
}

/// Builds a conf, hands it to `rd_kafka_new`, and owns the result.
final class KafkaHandle: @unchecked Sendable {
    /// rd_kafka_t; thread-safe per librdkafka.
    let rk: OpaquePointer
    let callbacks: KafkaCallbacks
    let bootstrapServers: String

    enum Role { case consumer, producer }

    init(role: Role, connection: KafkaConnection, settings extra: [(String, String)], logger: Logger) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(.configuration, "rd_kafka_conf_new failed") }
        var confOwned = true
        defer { if confOwned { rd_kafka_conf_destroy(conf) } }

        var tokenProvider: (@Sendable () throws -> OAuthBearerToken)?
        if case .oauthBearer(let p) = connection.authentication { tokenProvider = p }
        let callbacks = KafkaCallbacks(logger: logger, secret: connection.secret, tokenProvider: tokenProvider)

        var errstr = [CChar](repeating: 0, count: 512)
        let all = [("log_level", "6", false)] + connection.settings + extra.map { ($0.0, $0.1, false) }
        for (key, value, secret) in all {
            if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
                let why = callbacks.scrub(errstr.cString)
                throw KafkaError(.configuration, secret ? "cannot set \(key): \(why)" : "cannot set \(key)=\(value): \(why)")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, fac, buf in
            guard let rk, let cb = KafkaCallbacks.from(rd_kafka_opaque(rk)) else { return }
            cb.log(level: level, facility: fac.map { String(cString: $0) } ?? "", message: buf.map { String(cString: $0) } ?? "")
        }
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            KafkaCallbacks.from(opaque)?.error(rd_kafka_resp_err_t(rawValue: err), reason: reason.map { String(cString: $0) } ?? "")
        }
        if tokenProvider != nil {
            rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf) { rk, _, opaque in
                guard let rk, let cb = KafkaCallbacks.from(opaque), let provider = cb.tokenProvider else { return }
                do {
                    let token = try provider()
                    var errstr = [CChar](repeating: 0, count: 512)
                    let err = rd_kafka_oauthbearer_set_token(rk, token.value, token.expiresAtMilliseconds, token.principal,
                                                             nil, 0, &errstr, errstr.count)
                    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                        let why = errstr.cString
                        cb.logger.error("OAuth token refused by librdkafka", metadata: ["error": "\(why)"])
                        rd_kafka_oauthbearer_set_token_failure(rk, why)
                    } else {
                        cb.logger.debug("OAuth token refreshed", metadata: ["expires_ms": "\(token.expiresAtMilliseconds)"])
                    }
                } catch {
                    // The provider's error text must not carry secrets (the auth layer's contract).
                    cb.logger.error("OAuth token provider failed", metadata: ["error": "\(error)"])
                    rd_kafka_oauthbearer_set_token_failure(rk, "token provider failed: \(error)")
                }
            }
        }
        if role == .consumer {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let partitions, let cb = KafkaCallbacks.from(opaque) else { return }
                if let handler = cb.rebalance.withLock({ $0 }) { handler(rk, err, partitions) }
                else { rd_kafka_assign(rk, err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? partitions : nil) }
            }
        } else {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, msg, opaque in
                guard let msg, let cb = KafkaCallbacks.from(opaque) else { return }
                let err = msg.pointee.err
                cb.deliveries.withLock { d in
                    if err == RD_KAFKA_RESP_ERR_NO_ERROR { d.ok += 1 }
                    else { d.failed += 1; d.lastError = String(cString: rd_kafka_err2str(err)) }
                }
                if err == RD_KAFKA_RESP_ERR_NO_ERROR { cb.markConnected() }
            }
        }

        guard let rk = rd_kafka_new(role == .consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            throw KafkaError(.configuration, "cannot create the Kafka client: \(callbacks.scrub(errstr.cString))")
        }
        confOwned = false   // rd_kafka_new owns it now
        self.rk = rk
        self.callbacks = callbacks
        self.bootstrapServers = connection.bootstrapServers
    }

    deinit { rd_kafka_destroy(rk) }

    /// Asks a broker for metadata: the cheapest "is anyone there" probe.
    func probe(timeoutMilliseconds: Int32) -> Bool {
        var md: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, nil, &md, timeoutMilliseconds)
        if let md { rd_kafka_metadata_destroy(md) }
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { callbacks.markConnected(); return true }
        return false
    }

    /// Throws `unreachable` (or `authentication`) once no broker answered for `timeout`.
    func checkReachable(startedAt: ContinuousClock.Instant, timeout: Duration) throws(KafkaError) {
        let now = ContinuousClock.now
        let h = callbacks.health.withLock { $0 }
        let since: ContinuousClock.Instant? = h.everConnected ? h.downSince : (h.downSince.map { min($0, startedAt) } ?? startedAt)
        guard let since, now - since >= timeout else { return }
        if probe(timeoutMilliseconds: 1000) { return }
        let last = callbacks.health.withLock { $0 }
        let reason = last.lastError.map { " (last error: \($0))" } ?? ""
        let kind: KafkaError.Kind = last.lastErrorWasAuthentication ? .authentication : .unreachable
        throw KafkaError(kind, code: RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue,
                         "no Kafka broker at \(bootstrapServers) answered for \(timeout)\(reason)", retriable: kind == .unreachable)
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<(index(i, offsetBy: target.count)) }
            i = index(after: i)
        }
        return nil
    }
}

extension Array where Element == CChar {
    /// The NUL-terminated text in a C error buffer.
    var cString: String { withUnsafeBufferPointer { String(cString: $0.baseAddress!) } }
}
